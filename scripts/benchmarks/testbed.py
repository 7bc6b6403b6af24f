"""Benchmark on the test bed: one creator and N-1 fans on separate network hosts.

    scripts/bench testbed [--hosts 20] [--posts 3] [--seed 1] [--loss 0.0] [--impls js,ours]

Needs root (network namespaces; see netbed). Setup (not timed): a bed with a chain host (one
anvil, reached by RPC) and N hosts whose one-way link latency is drawn uniformly from 10-150 ms
(jitter 10 % of it); a real ``toktok run`` daemon on each; the creator creates its token; every
fan follows the creator and dials ``--dials`` random other peers (seeded; at least one).

Reference (``js``, run first, on the same hosts and the same dial topology, with no daemon
running): one js-libp2p 3 + @libp2p/gossipsub 17 peer per host, the worker of
``scripts/bench propagation`` (scripts/benchmarks/js/propagation_peer.mjs, the same mesh degrees
and heartbeat as ours) listening on the host's bed address (port 4002). The creator's js peer
publishes ``--posts`` messages of 546 random bytes (the size of a signed post), one every 2 s;
``reach_s`` is from the publish call to the gossipsub ``message`` event on each peer, both on
CLOCK_MONOTONIC (exact, no polling).

Measured per post (a 1 s 180x320 clip, published through the creator's daemon):

- ``reach_s``: from the end of the publish job (seen by polling it every 0.2 s; the post may
  leave a little before) to each fan's index showing the post (polled every 0.2 s per fan);
  ``all_s`` = the slowest fan. Every post has its own clip bytes.
- ``play_s``: from the end of the publish job until the fan fetched the rendition through its
  own content port and its bytes equal the creator's; ``played_within_10s`` = share of fans.
- ``first_byte_ms`` of one random fan: the rendition's first byte through its content port
  (a proxy of the time to first frame: the player can start once the first fragment is in).
- ``clip_route_s``: how long each fan's ``GET /api/v1/posts/{id}/clip`` took (it reads the
  manifest, over bitswap when the fan does not hold it yet).
- CPU (utime + stime from /proc, % of one core over the measured window) and RSS per daemon.

Writes bench-results/testbed.json and a chart of the distributions, bench-results/testbed.png
(an SVG drawn by headless Chromium). Reusable code comes from ``netbed`` (never from tests/).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import svgpng  # scripts/benchmarks/ (the script's own folder)

from netbed import Bed, Host
from netbed.errors import BedError
from netbed.peers import BedPeer, start_chain, start_peer
from peer.errors import DaemonError
from storage.media.samples import SampleSpec, make_sample

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
OUT = ROOT / "bench-results"
PEER_ENV = {"TOKTOK_PEER_LOG_LEVEL": "info"}  # bitswap and dial failures in the logs
FAILED_PLAYS: list[str] = []


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def rendition(peer: BedPeer, post: str) -> dict[str, Any]:
    clip = peer.api.get(f"/api/v1/posts/{post}/clip")
    return dict(min(clip["renditions"], key=lambda r: int(r["size"])))


def first_byte_ms(peer: BedPeer, url: str) -> float:
    with peer.host.entered():
        start = time.monotonic()
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - loopback
            answer.read(1)
            return (time.monotonic() - start) * 1000


def follow_one(fan: BedPeer, post: str, done_at: float, want: str) -> dict[str, float]:
    """Poll until ``fan`` has the post, then play it (content port, bytes checked)."""
    deadline = done_at + 120
    while not fan.has_post(post):
        if time.monotonic() > deadline:
            return {}
        time.sleep(0.2)
    reach = time.monotonic() - done_at
    asked = time.monotonic()
    try:
        url = rendition(fan, post)["url"]
    except (DaemonError, OSError) as exc:  # a failed play is a result (N=30: a timeout)
        waited = time.monotonic() - asked
        FAILED_PLAYS.append(f"{fan.name} (clip route after {waited:.1f} s): {exc}; {probe(fan)}")
        return {"reach_s": reach}
    clip_route = time.monotonic() - asked
    try:
        data = fan.fetch(url)
    except (DaemonError, OSError) as exc:
        FAILED_PLAYS.append(f"{fan.name} (rendition): {exc}")
        return {"reach_s": reach, "clip_route_s": clip_route}
    played = time.monotonic() - done_at
    if hashlib.sha256(data).hexdigest() != want:
        raise BedError(f"{fan.name} played different bytes")
    return {"reach_s": reach, "play_s": played, "clip_route_s": clip_route}


def probe(fan: BedPeer) -> str:
    """Right after a failed request: does the daemon answer a trivial route, and what is its
    bitswap doing (a starved event loop and a slow block fetch look alike from outside)."""
    start = time.monotonic()
    try:
        bitswap = fan.api.get("/api/v1/storage")["bitswap"]
    except (DaemonError, OSError) as exc:
        return f"/api/v1/storage failed after {time.monotonic() - start:.1f} s: {exc}"
    client = bitswap["client"]
    return (
        f"/api/v1/storage answered in {time.monotonic() - start:.2f} s: "
        f"{bitswap['peers']} peers, {bitswap['wanted']} blocks wanted, "
        f"{client['blocks_received']} received, {client['timeouts']} timeouts"
    )


JS_WORKER = ROOT / "scripts" / "benchmarks" / "js" / "propagation_peer.mjs"
JS_PORT = 4002
JS_POST_BYTES = 546


class JsPeer:
    """One js-libp2p gossipsub peer (the ``scripts/bench propagation`` worker) on a bed host,
    driven over JSON lines, one request at a time."""

    def __init__(self, host: Host, node: str) -> None:
        self.host = host
        self.proc = host.popen(
            [node, str(JS_WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._ids = 0

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._ids += 1
        self.proc.stdin.write(json.dumps({"id": self._ids, "cmd": cmd, "args": args}) + "\n")
        self.proc.stdin.flush()
        while line := self.proc.stdout.readline():
            if not line.startswith("{"):
                continue  # a warning on stderr (merged)
            reply = json.loads(line)
            if reply.get("id") != self._ids:
                continue
            if not reply["ok"]:
                raise BedError(f"js peer on {self.host.name}: {cmd}: {reply['message']}")
            return reply["result"]
        raise BedError(f"js peer on {self.host.name} exited ({self.proc.poll()})")

    def stop(self) -> None:
        with contextlib.suppress(BedError, OSError):
            self.call("stop")
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def js_reference(
    hosts: list[Host], edges: list[tuple[int, int]], args: argparse.Namespace
) -> dict[str, Any]:
    """Propagation of ``args.posts`` messages from host 0 to all others over js-libp2p
    gossipsub peers on the same hosts and the same dial topology as our daemons."""
    node = ROOT / "node_modules" / "node" / "bin" / "node"
    if not node.exists():
        raise SystemExit("node_modules/node/bin/node (Node 22) is missing: run scripts/setup")
    peers: list[JsPeer] = []
    out: dict[str, Any] = {}
    try:
        peers = [JsPeer(h, str(node)) for h in hosts]

        def start(jp: JsPeer) -> Any:
            return jp.call("start", count=1, listen=f"/ip4/{jp.host.address}/tcp/{JS_PORT}")

        with ThreadPoolExecutor(8) as pool:
            infos = list(pool.map(start, peers))
        addrs = [info[0]["addrs"][0] for info in infos]
        for a, b in edges:
            peers[a].call("connect", host=0, addr=addrs[b])
        neighbours = {frozenset(e) for e in edges}
        want = [sum(1 for e in neighbours if i in e) for i in range(len(peers))]
        deadline = time.monotonic() + 60
        while True:
            counts = [jp.call("topic_peers")[0] for jp in peers]
            if all(c >= w for c, w in zip(counts, want, strict=True)):
                break
            if time.monotonic() > deadline:
                raise BedError(f"js peers missing topic neighbours: {counts} vs {want}")
            time.sleep(0.25)
        time.sleep(3)  # a few heartbeats: the mesh forms
        cpu0 = {jp.proc.pid: cpu_ticks(jp.proc.pid) for jp in peers}
        w0 = time.monotonic()
        rng = random.Random(args.seed)
        posts = []
        for _ in range(args.posts):
            for jp in peers:
                jp.call("received")  # drop anything earlier
            published = int(
                peers[0].call("publish", host=0, data=rng.randbytes(JS_POST_BYTES).hex())
            )
            arrivals: dict[int, int] = {}
            deadline = time.monotonic() + 30
            while len(arrivals) < len(peers) - 1 and time.monotonic() < deadline:
                time.sleep(0.25)
                for i, jp in enumerate(peers[1:], start=1):
                    for _key, _local, t in jp.call("received"):
                        arrivals.setdefault(i, int(t))
            reach = [(t - published) / 1e9 for t in arrivals.values()]
            posts.append({
                "reach_s": [round(v, 3) for v in sorted(reach)],
                "reached": f"{len(reach)}/{len(peers) - 1}",
                "all_s": round(max(reach), 3) if len(reach) == len(peers) - 1 else None,
                "reach": quantiles(reach),
            })  # fmt: skip
            time.sleep(max(0.0, 2.0 - 0.25))
        window = time.monotonic() - w0
        out["posts"] = posts
        out["cpu_percent_per_peer"] = quantiles(
            [100 * (cpu_ticks(pid) - c) / CLK_TCK / window for pid, c in cpu0.items()]
        )
        out["rss_mb_per_peer"] = quantiles([rss_mb(jp.proc.pid) for jp in peers])
    finally:
        for jp in peers:
            jp.stop()
    return out


def dial_topology(n: int, dials: int, rng: random.Random) -> list[tuple[int, int]]:
    """Peer i (i >= 1, the fans) dials ``dials`` random others (the creator is peer 0)."""
    return [
        (i, j)
        for i in range(1, n)
        for j in rng.sample([k for k in range(n) if k != i], min(dials, n - 1))
    ]


def quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "min": round(ordered[0], 3),
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def chart(result: dict[str, Any], path: Path) -> None:
    """Strip plot of reach and play times per post (ours) and of the js reference's reach,
    rendered by headless Chromium to PNG."""
    rows = [
        (f"js post {i + 1} reach", p["reach_s"])
        for i, p in enumerate(result.get("js", {}).get("posts", []))
    ] + [
        (f"post {i + 1} {k.removesuffix('_s')}", p[k])
        for i, p in enumerate(result.get("posts", []))
        for k in ("reach_s", "play_s")
    ]
    top = max([v for _, vals in rows for v in vals] + [1.0])
    width, left, row_h = 900, 150, 40
    height = 80 + row_h * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20">testbed: {result["hosts"]} hosts, seconds after publish'
        f" (x up to {top:.1f} s)</text>",
    ]
    for i, (label, vals) in enumerate(rows):
        y = 50 + i * row_h
        parts.append(f'<text x="10" y="{y + 4}">{label}</text>')
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        for v in vals:
            x = left + (width - 20 - left) * v / top
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="4" fill="#1565c0" fill-opacity="0.6"/>')
    step = max(1, round(top / 10))
    for t in range(0, int(top) + 1, step):
        x = left + (width - 20 - left) * t / top
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{t} s</text>')
    parts.append("</svg>")
    svgpng.render(parts, width, height, path)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    work = Path(args.workdir) if args.workdir else None
    clips_dir = Path(tempfile.mkdtemp())
    # every post its own bytes (a clip already replicated would play from the local store)
    clips = [
        make_sample(SampleSpec(f"bench{n}", 180, 320, 1.0 + 0.1 * n), clips_dir)
        for n in range(2 * args.posts)
    ]
    result: dict[str, Any] = {"hosts": args.hosts, "seed": args.seed, "loss": args.loss}
    with Bed(work, seed=args.seed) as bed:
        chain = start_chain(bed.add_host("chain", latency_ms=20, jitter_ms=2))
        latencies = [rng.uniform(10, 150) for _ in range(args.hosts)]
        edges = dial_topology(args.hosts, args.dials, rng)
        hosts = [
            bed.add_host(f"p{i}", latency_ms=lat, jitter_ms=lat / 10, loss=args.loss)
            for i, lat in enumerate(latencies)
        ]
        result["latencies_ms"] = [round(v, 1) for v in latencies]
        if "js" in args.impls:
            print(f"js reference on {args.hosts} hosts", file=sys.stderr, flush=True)
            result["js"] = js_reference(hosts, edges, args)
        if "ours" not in args.impls:
            return result
        t0 = time.monotonic()
        failed_starts: list[str] = []

        def boot(i: int) -> BedPeer | None:
            try:
                # the creator alone has dev key 1 (a fan with its key could not follow it)
                key = 1 if i == 0 else 2 + (i - 1) % 8
                return start_peer(hosts[i], chain=chain, dev_key=key, env=PEER_ENV)
            except BedError as exc:
                failed_starts.append(f"p{i}: {str(exc)[:300]}")
                return None

        with ThreadPoolExecutor(args.parallel) as pool:
            started = list(pool.map(boot, range(args.hosts)))
        result["start_s"] = round(time.monotonic() - t0, 1)
        print(f"{args.hosts} daemons up in {result['start_s']} s", file=sys.stderr, flush=True)
        result["failed_starts"] = failed_starts
        if started[0] is None:
            raise BedError("the creator did not start: " + "; ".join(failed_starts))
        creator = started[0]
        fans = [p for p in started[1:] if p is not None]
        creator.api.post("/api/v1/token", {"name": "Bench", "symbol": "BEN"})
        me = creator.address
        everyone = [creator, *fans]
        for fan in fans:
            fan.api.post(f"/api/v1/creators/{me}/follow", {"on": True})
        for a, b in edges:
            dialler, target = started[a], started[b]
            if dialler is None or target is None:
                continue
            try:
                dialler.connect(target)
            except Exception as exc:  # a failed dial is a result, not a crash
                result.setdefault("failed_dials", []).append(f"p{a}->p{b}: {exc}")
        time.sleep(5)  # the mesh forms
        pids = [p.process.pid for p in everyone]
        cpu0, w0 = {pid: cpu_ticks(pid) for pid in pids}, time.monotonic()
        result["posts"] = []
        for n in range(args.posts):
            post = None
            for _ in range(30):  # the token registry is read at a lagged block: retry a refusal
                try:
                    post = creator.publish(clips[2 * n], f"bench {n}", ["bench"])
                    break
                except BedError as exc:
                    if "token" not in str(exc):
                        raise
                    time.sleep(1)
            assert post is not None
            print(f"post {n + 1} published", file=sys.stderr, flush=True)
            done = time.monotonic()
            want = hashlib.sha256(creator.fetch(rendition(creator, post)["url"])).hexdigest()
            with ThreadPoolExecutor(8) as pool:
                outcomes = list(
                    pool.map(follow_one, fans, *zip(*[(post, done, want)] * len(fans), strict=True))
                )
            reach = [o["reach_s"] for o in outcomes if "reach_s" in o]
            play = [o["play_s"] for o in outcomes if "play_s" in o]
            route = [o["clip_route_s"] for o in outcomes if "clip_route_s" in o]
            sample = rng.choice(fans)
            result["posts"].append({
                "reach_s": [round(v, 3) for v in reach], "play_s": [round(v, 3) for v in play],
                "reached": f"{len(reach)}/{len(fans)}",
                "all_s": round(max(reach), 3) if len(reach) == len(fans) else None,
                "played_within_10s": round(sum(v <= 10 for v in play) / len(fans), 3),
                "reach": quantiles(reach), "play": quantiles(play),
                "clip_route_s": quantiles(route),
            })  # fmt: skip
            fresh = creator.publish(clips[2 * n + 1], f"bench first byte {n}", ["bench"])
            deadline = time.monotonic() + 120
            while not sample.has_post(fresh) and time.monotonic() < deadline:
                time.sleep(0.2)
            try:
                url = rendition(sample, fresh)["url"]
                first = round(first_byte_ms(sample, url), 1)
            except (DaemonError, OSError) as exc:
                FAILED_PLAYS.append(f"{sample.name} (first byte): {exc}")
                first = None
            result["posts"][-1]["first_byte_ms_random_fan"] = first
        window = time.monotonic() - w0
        cpu = [100 * (cpu_ticks(pid) - cpu0[pid]) / CLK_TCK / window for pid in pids]
        result["cpu_percent_per_peer"] = quantiles(cpu)
        result["rss_mb_per_peer"] = quantiles([rss_mb(pid) for pid in pids])
        result["failed_plays"] = FAILED_PLAYS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--posts", type=int, default=3)
    parser.add_argument("--dials", type=int, default=3)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=4, help="daemons started at once")
    parser.add_argument("--workdir", default=None, help="kept after the run (daemon logs)")
    parser.add_argument(
        "--impls", default="js,ours", type=lambda v: v.split(","), help="js (reference), ours"
    )
    args = parser.parse_args()
    result = run(args)
    OUT.mkdir(exist_ok=True)
    (OUT / "testbed.json").write_text(json.dumps(result, indent=2) + "\n")
    chart(result, OUT / "testbed.png")
    print(json.dumps({k: v for k, v in result.items() if k != "latencies_ms"}, indent=2))


if __name__ == "__main__":
    main()
