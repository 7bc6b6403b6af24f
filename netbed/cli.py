"""``scripts/testbed``: bring a bed up, take it down, list beds, remove dead runs' leftovers.

    scripts/testbed up [--hosts N] [--latency-ms MS] [--jitter-ms MS] [--loss F] [--rate-mbit R]
                       [--chain] [--peers] [--foreground]
    scripts/testbed down RUN_ID
    scripts/testbed status [--json]
    scripts/testbed cleanup

``up`` starts a holder process that owns the bed (hosts h1..hN, optionally a chain host and a
Toktok peer on every host) and returns once it is ready, printing the run id and the hosts;
``--foreground`` keeps it in this terminal until Ctrl-C. ``down`` stops the holder, which
removes everything the run made. ``cleanup`` removes leftovers of runs whose owner is dead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from netbed import netns, registry
from netbed.bed import REPO, Bed, stop_on_signals
from netbed.errors import BedError


def hold(args: argparse.Namespace) -> int:
    """Build the bed, print one JSON line describing it, and keep it until a signal."""
    stop_on_signals()
    workdir = Path(args.workdir) if args.workdir else None
    try:
        with Bed(workdir) as bed:
            hosts = [
                bed.add_host(
                    f"h{i}",
                    latency_ms=args.latency_ms,
                    jitter_ms=args.jitter_ms,
                    loss=args.loss,
                    rate_mbit=args.rate_mbit,
                )
                for i in range(1, args.hosts + 1)
            ]
            info: dict[str, Any] = {
                "run_id": bed.run_id,
                "pid": os.getpid(),
                "workdir": str(bed.workdir),
                "hosts": {h.name: {"ns": h.ns, "address": h.address} for h in hosts},
            }
            if args.chain or args.peers:
                from netbed.peers import start_chain, start_peer

                chain = start_chain(bed.add_host("chain"))
                info["chain"] = {"rpc_url": chain.rpc_url, "deployment": str(chain.deployment_file)}
                if args.peers:
                    for i, host in enumerate(hosts):
                        peer = start_peer(host, chain=chain, dev_key=1 + i % 9)
                        info["hosts"][host.name]["peer"] = peer.multiaddr
            print(json.dumps(info), flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except BedError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1


def up(args: argparse.Namespace) -> int:
    if args.foreground:
        return hold(args)
    argv = [sys.executable, "-m", "netbed", "hold", *sys.argv[sys.argv.index("up") + 1 :]]
    with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as out:
        path = Path(out.name)
    with open(path, "w") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
    try:
        while True:
            text = path.read_text()
            for line in text.splitlines():
                if line.startswith("{"):
                    print(line)
                    return 0 if "run_id" in line else 1
            if proc.poll() is not None:
                print(text, file=sys.stderr)
                return 1
            time.sleep(0.2)
    finally:
        path.unlink()


def down(args: argparse.Namespace) -> int:
    record = registry.records().get(args.run_id)
    if record is None or not record.alive():
        removed = registry.remove_run(args.run_id)
        print(f"{args.run_id}: no live owner; removed {len(removed)} namespaces")
        return 0
    os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while record.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    if record.alive():
        print(f"{args.run_id}: owner {record.pid} did not stop", file=sys.stderr)
        return 1
    print(f"{args.run_id}: down")
    return 0


def status(args: argparse.Namespace) -> int:
    recs = registry.records()
    runs = registry.bed_namespaces()
    rows: list[dict[str, Any]] = []
    for run_id in sorted(set(recs) | set(runs)):
        rec = recs.get(run_id)
        rows.append(
            {
                "run_id": run_id,
                "owner": rec.pid if rec else None,
                "alive": bool(rec and rec.alive()),
                "namespaces": runs.get(run_id, []),
            }
        )
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no bed runs")
    for row in [] if args.json else rows:
        state = "alive" if row["alive"] else "DEAD (scripts/testbed cleanup removes it)"
        count = len(row["namespaces"])
        print(f"{row['run_id']}  owner {row['owner']}  {state}  {count} namespaces")
    return 0


def cleanup(args: argparse.Namespace) -> int:
    removed = registry.remove_dead_runs()
    print(f"removed {len(removed)} dead runs" + (f": {', '.join(removed)}" if removed else ""))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scripts/testbed", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="cmd", required=True)
    for name in ("up", "hold"):
        p = sub.add_parser(name, help="bring a bed up" if name == "up" else argparse.SUPPRESS)
        p.add_argument("--hosts", type=int, default=3)
        p.add_argument("--latency-ms", type=float, default=40.0)
        p.add_argument("--jitter-ms", type=float, default=10.0)
        p.add_argument("--loss", type=float, default=0.01)
        p.add_argument("--rate-mbit", type=float, default=None)
        p.add_argument("--chain", action="store_true", help="add a chain host (one anvil)")
        p.add_argument("--peers", action="store_true", help="a Toktok peer on every host")
        p.add_argument("--workdir", default=None)
        p.add_argument("--foreground", action="store_true")
    p = sub.add_parser("down", help="take a bed down")
    p.add_argument("run_id")
    p = sub.add_parser("status", help="list bed runs")
    p.add_argument("--json", action="store_true")
    sub.add_parser("cleanup", help="remove leftovers of runs whose owner is dead")
    return top


def main() -> int:
    args = parser().parse_args()
    if args.cmd in ("up", "hold", "cleanup", "down"):
        reason = netns.available()
        if reason:
            print(f"testbed: {reason}", file=sys.stderr)
            return 2
    handlers = {"up": up, "hold": hold, "down": down, "status": status, "cleanup": cleanup}
    with contextlib.suppress(KeyboardInterrupt):
        return handlers[args.cmd](args)
    return 130
