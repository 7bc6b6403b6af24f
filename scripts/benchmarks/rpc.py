"""Benchmark: p2p request/response round trip, on a session stream and one stream per exchange.

    scripts/bench rpc [--requests 300] [--runs 3] [--size 64]

Peer B is a ``P2PHost`` in a child process (``python -m peer.p2p.worker``) serving an echo
handler. Requester A is a ``P2PHost`` in this process, once with request sessions
(``/toktok/rr/1.0.0``, the default: one stream reused for every exchange) and once with
``request_sessions=False`` (one stream per exchange: what older peers speak, the baseline of
the same run). Each run: 20 warm-up requests, then ``--requests`` sequential requests of
``--size`` bytes; median and p90 per run, and the median over runs of each. A third case
checks the fallback: A with sessions against a B that has them off (an older peer).
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
    per_case: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (ours, theirs) in cases.items():
            with tempfile.TemporaryDirectory() as tmp:
                samples = await round_trips(Path(tmp), args.requests, args.size, ours, theirs)
            per_case[name].append(_stats(samples))
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
