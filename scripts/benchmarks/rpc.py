"""Benchmark: p2p request/response round trip, on a session stream and one stream per exchange.

    scripts/bench rpc [--requests 300] [--runs 3] [--size 64]

Peer B is a ``P2PHost`` in a child process (``python -m peer.p2p.worker``) serving an echo
handler. Requester A is a ``P2PHost`` in this process, once with request sessions
(``/toktok/rr/1.0.0``, the default: one stream reused for every exchange) and once with
``request_sessions=False`` (one stream per exchange: what older peers speak, the baseline of
the same run). Each run: 20 warm-up requests, then ``--requests`` sequential requests of
``--size`` bytes; median and p90 per run, and the median over runs of each. A third case
checks the fallback: A with sessions against a B that has them off (an older peer). The
anchor, measured in each run: two js-libp2p 3 nodes (tcp + noise + yamux) in one Node process
(``js/rr_echo.mjs``), the same exchanges on one reused stream and with a stream per exchange.
Prints JSON and writes bench-results/rpc.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is first on sys.path and holds a tokens.py: drop it before our imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from peer.p2p import HostOptions, P2PHost  # noqa: E402
from peer.p2p.worker import WorkerProcess  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / "node" / "bin" / "node"
JS_ECHO = Path(__file__).resolve().parent / "js" / "rr_echo.mjs"
PROTOCOL = "/toktok/bench-echo/1.0.0"


async def round_trips(tmp: Path, requests: int, size: int, ours: bool, theirs: bool) -> list[float]:
    worker = WorkerProcess(tmp / "b.key", {"request_sessions": theirs})
    await worker.start()
    host = P2PHost(HostOptions(identity_path=tmp / "a.key", request_sessions=ours))
    try:
        await host.start()
        await worker.serve(PROTOCOL, "echo")
        peer = await host.connect(worker.addrs[0])
        payload = os.urandom(size)
        for _ in range(20):
            assert await host.request(peer, PROTOCOL, payload) == payload
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            answer = await host.request(peer, PROTOCOL, payload)
            samples.append((time.perf_counter() - start) * 1000)
            assert answer == payload
        return samples
    finally:
        await host.stop()
        await worker.stop()


async def js_round_trips(requests: int, size: int) -> dict[str, list[float]]:
    """Round trips (ms) between two js-libp2p nodes: one stream, and a stream per exchange."""
    proc = await asyncio.create_subprocess_exec(
        str(NODE), str(JS_ECHO), str(requests), str(size), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"js/rr_echo.mjs exited with {proc.returncode}")
    result: dict[str, list[float]] = json.loads(out)
    return result


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(statistics.quantiles(samples, n=10)[8], 3),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    cases = {
        "session": (True, True),
        "stream_per_exchange": (False, True),
        "session_requester_vs_older_peer": (True, False),
    }
    js_cases = ("js_libp2p_one_stream", "js_libp2p_stream_per_exchange")
    per_case: dict[str, list[dict[str, float]]] = {name: [] for name in (*cases, *js_cases)}
    for _ in range(args.runs):
        for name, (ours, theirs) in cases.items():
            with tempfile.TemporaryDirectory() as tmp:
                samples = await round_trips(Path(tmp), args.requests, args.size, ours, theirs)
            per_case[name].append(_stats(samples))
        js = await js_round_trips(args.requests, args.size)
        per_case["js_libp2p_one_stream"].append(_stats(js["one_stream"]))
        per_case["js_libp2p_stream_per_exchange"].append(_stats(js["stream_per_exchange"]))
    result: dict[str, Any] = {
        "benchmark": "rpc",
        "requests": args.requests,
        "size": args.size,
        "runs": args.runs,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for name, rows in per_case.items():
        result[name] = {
            key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]
        } | {"runs_median_ms": [row["median_ms"] for row in rows]}
    result["ratio_session_vs_stream_per_exchange"] = round(
        result["session"]["median_ms"] / result["stream_per_exchange"]["median_ms"], 3
    )
    result["ratio_session_vs_js_one_stream"] = round(
        result["session"]["median_ms"] / result["js_libp2p_one_stream"]["median_ms"], 3
    )
    result["ratio_stream_per_exchange_vs_js"] = round(
        result["stream_per_exchange"]["median_ms"]
        / result["js_libp2p_stream_per_exchange"]["median_ms"],
        3,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=64)
    result = asyncio.run(run(parser.parse_args()))
    text = json.dumps(result, indent=2)
    print(text)
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "rpc.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
