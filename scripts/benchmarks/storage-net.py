"""Benchmark: bitswap fetch of a 50 MB file between two of our peers vs Helia-to-Helia, and the
time to first byte of a Range read of a remote clip through the gateway.

Measured in one run, interleaved, median of ``--runs`` repetitions each, all on 127.0.0.1:

* ``ours``: a serving peer in its own process (``tests/integration/storage_net/serving_peer.py``:
  py-libp2p host, in-memory store, our bitswap) and a fetching peer in this process
  (``Bitswap.fetch`` of the whole DAG into an in-memory store, every block verified);
* ``helia``: two Helia 7 nodes (``tests/interop/storage/helia_node.mjs``, Node 22, loopback
  only, in-memory blockstores); the second one ``cat``s what the first added (timed inside
  Node, from the request to the last byte);
* ``ttfb``: a fresh fetching peer serves the gateway (``NetworkContentStore``) on loopback; we
  time ``GET /ipfs/<cid>`` with ``Range: bytes=<middle>-<middle + 1 MiB>`` until the first body
  byte (root, type-sniff leaf and the first needed leaf come over bitswap).

Every run uses new non-repeating data (sha256 of a counter, a fresh seed per run), so nothing
is cached. The floor from the issue: ours >= 0.5 x helia.

Usage: scripts/bench storage-net [--size-mb 50] [--runs 3]
Prints JSON and writes bench-results/storage-net.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # support.interop: the Helia driver of the interop tests
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from support.interop import HeliaProcess, node22  # noqa: E402

from peer.p2p import HostOptions, P2PHost  # noqa: E402
from storage.bitswap import Bitswap  # noqa: E402
from storage.bitswap.store import NetworkContentStore  # noqa: E402
from storage.embedded import EmbeddedContentStore  # noqa: E402
from storage.gateway import add_routes  # noqa: E402
from storage.local import LocalStore  # noqa: E402

SERVING_PEER = ROOT / "tests" / "integration" / "storage_net" / "serving_peer.py"
MB = 1_000_000


class ServingPeer:
    """A serving peer process holding one file; stopped by closing its stdin."""

    def __init__(self, size: int, seed: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(SERVING_PEER), "--size", str(size), "--seed", seed],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._proc.stdout is not None
        info = json.loads(self._proc.stdout.readline())
        self.addr: str = info["addr"]
        self.root: str = info["root"]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class Fetcher:
    """A fresh py-libp2p host + in-memory store + bitswap in this process."""

    def __init__(self, tmp: Path) -> None:
        self.host = P2PHost(HostOptions(identity_path=tmp / "identity.key"))
        self.store = EmbeddedContentStore(LocalStore.memory())
        self.bitswap = Bitswap(self.host, self.store.local)

    async def __aenter__(self) -> Fetcher:
        await self.host.start()
        await self.bitswap.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bitswap.stop()
        await self.host.stop()


async def ours_once(size: int, seed: str) -> float:
    server = await asyncio.to_thread(ServingPeer, size, seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with Fetcher(Path(tmp)) as fetcher:
                await fetcher.host.connect(server.addr)
                start = time.perf_counter()
                result = await fetcher.bitswap.fetch(server.root, pin=False)
                elapsed = time.perf_counter() - start
                if result.fetched_bytes < size:
                    raise SystemExit(f"short fetch: {result}")
                return size / elapsed / MB
    finally:
        await asyncio.to_thread(server.close)


async def helia_once(size: int, seed: str) -> float:
    a, b = HeliaProcess(node22()), HeliaProcess(node22())
    await a.start()
    await b.start()
    try:
        added = await a.call(cmd="add", size=size, seed=seed)
        await b.call(cmd="dial", addr=a.addrs[0])
        got = await b.call(cmd="cat", cid=added["cid"], timeoutMs=300_000, timeout=600)
        if got["size"] != size:
            raise SystemExit(f"helia cat returned {got['size']} bytes")
        return float(size / (float(got["ms"]) / 1000) / MB)
    finally:
        await a.stop()
        await b.stop()


async def ttfb_once(size: int, seed: str) -> float:
    server = await asyncio.to_thread(ServingPeer, size, seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with Fetcher(Path(tmp)) as fetcher:
                await fetcher.host.connect(server.addr)
                app = web.Application()
                add_routes(app, NetworkContentStore(fetcher.store, fetcher.bitswap))
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = runner.addresses[0][1]
                middle = size // 2
                headers = {"Range": f"bytes={middle}-{middle + 1024 * 1024 - 1}"}
                try:
                    async with aiohttp.ClientSession() as session:
                        start = time.perf_counter()
                        url = f"http://127.0.0.1:{port}/ipfs/{server.root}"
                        async with session.get(url, headers=headers) as response:
                            if response.status != 206:
                                raise SystemExit(f"gateway answered {response.status}")
                            await response.content.readany()
                            first = time.perf_counter() - start
                            await response.read()
                finally:
                    await runner.cleanup()
                return first * 1000
    finally:
        await asyncio.to_thread(server.close)


def summary(values: list[float], digits: int = 1) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), digits),
        "runs": [round(v, digits) for v in values],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = int(args.size_mb * MB)
    ours: list[float] = []
    helia: list[float] = []
    ttfb: list[float] = []
    load_before = os.getloadavg()
    for run in range(args.runs):
        ours.append(await ours_once(size, f"ours-{run}-{time.time()}"))
        helia.append(await helia_once(size, f"helia-{run}-{time.time()}"))
        ttfb.append(await ttfb_once(size, f"ttfb-{run}-{time.time()}"))
    ratio = statistics.median(ours) / statistics.median(helia)
    result = {
        "benchmark": "storage-net",
        "file_mb": args.size_mb,
        "runs": args.runs,
        "ours_fetch_mb_s": summary(ours),
        "helia_to_helia_mb_s": summary(helia),
        "ratio_ours_over_helia": round(ratio, 3),
        "floor_half_of_helia_met": ratio >= 0.5,
        "ttfb_range_read_remote_ms": summary(ttfb),
        "loadavg_before_after": [list(load_before), list(os.getloadavg())],
        "notes": "loopback; in-memory stores on both sides; medians of interleaved runs",
    }
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "storage-net.json").write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
