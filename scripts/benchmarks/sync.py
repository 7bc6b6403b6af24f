"""Sync benchmark: time for an empty peer to catch up N posts over /toktok/sync/1.0.0.

Usage: scripts/bench sync [--posts 25,1000] [--runs 3] [--page-size N]

Two real P2PHosts on loopback in this process (each in its own trio thread), each with its own
FeedIndex (SQLite) and SyncService (default options: pages of 20, at most 500 records per
round). The source index holds N signed posts of one creator (generated, not timed). A run:
the empty peer connects (its connection event starts a round), then rounds are run back to
back until it holds all N posts; timed from the dial to the last post stored (the dial itself
is reported too). Baselines measured in the same run: (1) ingest of the same N wire records
through the same validator + index with no network, in pages of 20 validated concurrently (as
sync does), (2) the same sync on the in-memory fake network (the cost without libp2p). Medians
of ``--runs`` runs; ratios against the local-ingest baseline.
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
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

# scripts/benchmarks/ is first on sys.path and holds a tokens.py, which would shadow the
# tokens package that peer imports: drop it before importing anything of ours.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from peer.feed import validation as v  # noqa: E402
from peer.feed.builders import CreatorLog  # noqa: E402
from peer.feed.eip712 import Domain  # noqa: E402
from peer.feed.index import FeedIndex, IndexOptions  # noqa: E402
from peer.feed.signatures import address_of  # noqa: E402
from peer.feed.testing import FakeTokenRegistry  # noqa: E402
from peer.feed.wire import Envelope, encode  # noqa: E402
from peer.p2p import HostOptions, Network, P2PHost  # noqa: E402
from peer.p2p.testing import FakeNetwork  # noqa: E402
from peer.sync import SyncOptions, SyncService  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
KEY = keccak(b"sync bench creator")
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"  # noqa: S105 - an address
NOW = 1_764_460_800
OPTIONS = SyncOptions(interval_s=3600.0)


def make_posts(count: int) -> list[Envelope]:
    log = CreatorLog(DOMAIN, KEY, TOKEN)
    return [log.next_post(MANIFEST, f"clip {i}", NOW, tags=("bench",))[0] for i in range(count)]


class Peer:
    def __init__(self, network: Network, data: Path) -> None:
        self.network = network
        self.index = FeedIndex(IndexOptions(data / "feed.sqlite"))
        registry = FakeTokenRegistry({address_of(KEY): TOKEN})
        self.validator = v.Validator(DOMAIN, registry, self.index.view)
        self.sync = SyncService(network, self.index.sync, self.validator, OPTIONS)

    async def start(self) -> None:
        await self.index.start()
        await self.sync.start()

    async def stop(self) -> None:
        await self.sync.stop()
        await self.index.close()

    async def ingest(self, posts: list[Envelope]) -> None:
        """Validate and store in pages of ``page_size``, concurrently within a page (as sync
        does), so the baseline gets the same writer batching."""
        size = OPTIONS.page_size
        for start in range(0, len(posts), size):
            page = posts[start : start + size]
            verdicts = await asyncio.gather(
                *(self.validator.validate(encode(e), NOW) for e in page)
            )
            stores = []
            for envelope, verdict in zip(page, verdicts, strict=True):
                assert isinstance(verdict, v.Accepted)
                stores.append(self.index.writes.store(envelope, verdict.record_id))
            await asyncio.gather(*stores)

    async def count(self) -> int:
        heads = await self.index.sync.heads()
        return heads.get(address_of(KEY), (0, b""))[0]


async def ingest_baseline(posts: list[Envelope], tmp: Path) -> float:
    peer = Peer(FakeNetwork().host(), tmp)
    await peer.index.start()
    try:
        start = time.perf_counter()
        await peer.ingest(posts)
        return time.perf_counter() - start
    finally:
        await peer.index.close()


async def sync_once(posts: list[Envelope], tmp: Path, real: bool) -> dict[str, float]:
    fake = FakeNetwork()
    hosts: list[Any] = []
    for name in ("source", "dest"):
        if real:
            hosts.append(P2PHost(HostOptions(identity_path=tmp / name / "identity.key")))
        else:
            hosts.append(fake.host())
    for host in hosts:
        await host.start()
    source, dest = Peer(hosts[0], tmp / "source"), Peer(hosts[1], tmp / "dest")
    try:
        await source.index.start()
        await source.ingest(posts)
        await source.sync.start()
        await dest.start()
        start = time.perf_counter()
        peer_id = await hosts[1].connect(hosts[0].addrs[0])
        connected = time.perf_counter() - start
        rounds = 0
        while await dest.count() < len(posts):
            rounds += 1
            report = await dest.sync.sync_peer(peer_id)
            if report.rejected or report.error:
                raise RuntimeError(f"sync failed: {report}")
        elapsed = time.perf_counter() - start
        return {"seconds": elapsed, "rounds": rounds, "connect": connected}
    finally:
        await dest.stop()
        await source.stop()
        for host in hosts:
            await host.stop()


async def measure(count: int, runs: int) -> dict[str, Any]:
    posts = make_posts(count)
    local, fake, real, rounds, connects = [], [], [], [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            local.append(await ingest_baseline(posts, base / "ingest"))
            fake.append((await sync_once(posts, base / "fake", real=False))["seconds"])
            result = await sync_once(posts, base / "real", real=True)
            real.append(result["seconds"])
            rounds.append(result["rounds"])
            connects.append(result["connect"])
        print(f"posts={count} run={run + 1}: real {real[-1]:.3f}s", flush=True)
    med_local, med_fake, med_real = (statistics.median(x) for x in (local, fake, real))
    return {
        "posts": count,
        "runs": runs,
        "sync_real_libp2p_s": round(med_real, 4),
        "sync_fake_network_s": round(med_fake, 4),
        "local_ingest_baseline_s": round(med_local, 4),
        "posts_per_s_real": round(count / med_real, 1),
        "ratio_real_vs_local_ingest": round(med_real / med_local, 2),
        "ratio_fake_vs_local_ingest": round(med_fake / med_local, 2),
        "connect_real_s": round(statistics.median(connects), 4),
        "extra_rounds_after_the_connection_round": rounds[0],
        "all_real_s": [round(x, 4) for x in real],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(c) for c in args.posts.split(",")]
    results = [await measure(c, args.runs) for c in counts]
    return {
        "benchmark": "sync",
        "page_size": OPTIONS.page_size,
        "max_records_per_round": OPTIONS.max_records_per_round,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "results": results,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="25,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=OPTIONS.page_size)
    parsed = parser.parse_args()
    OPTIONS = replace(OPTIONS, page_size=parsed.page_size)
    result = asyncio.run(main(parsed))
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "sync.json").write_text(text + "\n")
