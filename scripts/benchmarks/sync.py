"""Sync benchmark: time for an empty peer to catch up N posts over /toktok/sync/1.0.0.

Usage: scripts/bench sync [--posts 25,1000] [--runs 3] [--page-sizes 20] [--hostile]

Two real P2PHosts on loopback in this process (each in its own trio thread), each with its own
FeedIndex (SQLite) and SyncService (default options: pages of 20, at most 500 records per
round). The source index holds N signed posts of one creator (generated, not timed). A run:
the empty peer connects (its connection event starts a round), then rounds are run back to
back until it holds all N posts; timed from the dial to the last post stored (the dial itself
is reported too). Baselines measured in the same run: (1) ingest of the same N wire records
through the same validator + index with no network, in pages of 20 validated concurrently (as
sync does), (2) the same sync on the in-memory fake network (the cost without libp2p). Medians
of ``--runs`` runs; ratios against the local-ingest baseline. ``--page-sizes 20,50,100``
measures each page size in the same run (ratios against the first).

``--hostile``: per page size, the cost of a peer that serves only records breaking the feed
rules (the same posts, while our token registry names another token for their creator, so
every one is Rejected): one round with 500 such records offered; the round's wall time, the
CPU time of this process (both peers) and how many records were validated before the round
ended (each bad record costs only itself; more than ``max_rejects_per_round`` end the round).
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


OTHER_TOKEN = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"  # noqa: S105 - an address


class Peer:
    def __init__(
        self, network: Network, data: Path, options: SyncOptions = OPTIONS, token: str = TOKEN
    ) -> None:
        self.network = network
        self.options = options
        self.index = FeedIndex(IndexOptions(data / "feed.sqlite"))
        registry = FakeTokenRegistry({address_of(KEY): token})
        self.validator = v.Validator(DOMAIN, registry, self.index.view)
        self.sync = SyncService(network, self.index.sync, self.validator, options)

    async def start(self) -> None:
        await self.index.start()
        await self.sync.start()

    async def stop(self) -> None:
        await self.sync.stop()
        await self.index.close()

    async def ingest(self, posts: list[Envelope]) -> None:
        """Validate and store in pages of ``page_size``, concurrently within a page (as sync
        does), so the baseline gets the same writer batching."""
        size = self.options.page_size
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


async def ingest_baseline(posts: list[Envelope], tmp: Path, options: SyncOptions) -> float:
    peer = Peer(FakeNetwork().host(), tmp, options)
    await peer.index.start()
    try:
        start = time.perf_counter()
        await peer.ingest(posts)
        return time.perf_counter() - start
    finally:
        await peer.index.close()


async def sync_once(
    posts: list[Envelope], tmp: Path, real: bool, options: SyncOptions, hostile: bool = False
) -> dict[str, Any]:
    fake = FakeNetwork()
    hosts: list[Any] = []
    for name in ("source", "dest"):
        if real:
            hosts.append(P2PHost(HostOptions(identity_path=tmp / name / "identity.key")))
        else:
            hosts.append(fake.host())
    for host in hosts:
        await host.start()
    source = Peer(hosts[0], tmp / "source", options)
    dest = Peer(hosts[1], tmp / "dest", options, OTHER_TOKEN if hostile else TOKEN)
    try:
        await source.index.start()
        await source.ingest(posts)
        await source.sync.start()
        await dest.index.start()
        if hostile:  # one round, started by us (no connection-event round)
            peer_id = await hosts[1].connect(hosts[0].addrs[0])
            cpu, start = time.process_time(), time.perf_counter()
            report = await dest.sync.sync_peer(peer_id)
            return {
                "seconds": time.perf_counter() - start,
                "cpu_s": time.process_time() - cpu,
                "refused": report.refused,
                "pages": report.pages,
                "ended_by": report.rejected or report.error or "",
            }
        await dest.sync.start()
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


def _med(rows: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(float(r[key]) for r in rows), 4)


async def measure(count: int, runs: int, sizes: list[int]) -> list[dict[str, Any]]:
    """Every page size in each run, one after the other (same-run comparison)."""
    posts = make_posts(count)
    local: dict[int, list[float]] = {size: [] for size in sizes}
    fake: dict[int, list[float]] = {size: [] for size in sizes}
    real: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for run in range(runs):
        for size in sizes:
            options = replace(OPTIONS, page_size=size)
            with tempfile.TemporaryDirectory() as tmp:
                base = Path(tmp)
                local[size].append(await ingest_baseline(posts, base / "ingest", options))
                faked = await sync_once(posts, base / "fake", False, options)
                fake[size].append(faked["seconds"])
                real[size].append(await sync_once(posts, base / "real", True, options))
            print(
                f"posts={count} page={size} run={run + 1}: real {real[size][-1]['seconds']:.3f}s",
                flush=True,
            )
    out = []
    first = _med(real[sizes[0]], "seconds")
    for size in sizes:
        med_local, med_fake = statistics.median(local[size]), statistics.median(fake[size])
        med_real = _med(real[size], "seconds")
        out.append(
            {
                "posts": count,
                "page_size": size,
                "runs": runs,
                "sync_real_libp2p_s": round(med_real, 4),
                "sync_fake_network_s": round(med_fake, 4),
                "local_ingest_baseline_s": round(med_local, 4),
                "posts_per_s_real": round(count / med_real, 1),
                "ratio_real_vs_local_ingest": round(med_real / med_local, 2),
                "ratio_fake_vs_local_ingest": round(med_fake / med_local, 2),
                f"ratio_real_vs_page_{sizes[0]}": round(med_real / first, 3),
                "connect_real_s": _med(real[size], "connect"),
                "extra_rounds_after_the_connection_round": real[size][0]["rounds"],
                "all_real_s": [round(r["seconds"], 4) for r in real[size]],
            }
        )
    return out


async def hostile(runs: int, sizes: list[int]) -> list[dict[str, Any]]:
    """One round with a peer offering 500 records that all break the feed rules."""
    posts = make_posts(OPTIONS.max_records_per_round)
    rows: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for _ in range(runs):
        for size in sizes:
            options = replace(OPTIONS, page_size=size)
            with tempfile.TemporaryDirectory() as tmp:
                rows[size].append(await sync_once(posts, Path(tmp), True, options, hostile=True))
    return [
        {
            "page_size": size,
            "round_s": _med(rows[size], "seconds"),
            "cpu_s_both_peers": _med(rows[size], "cpu_s"),
            "records_refused": _med(rows[size], "refused"),
            "pages": _med(rows[size], "pages"),
            "ended_by": rows[size][0]["ended_by"],
        }
        for size in sizes
    ]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(c) for c in args.posts.split(",")]
    sizes = [int(s) for s in args.page_sizes.split(",")]
    results = [row for c in counts for row in await measure(c, args.runs, sizes)]
    result: dict[str, Any] = {
        "benchmark": "sync",
        "page_size": sizes[0],
        "page_sizes": sizes,
        "max_records_per_round": OPTIONS.max_records_per_round,
        "max_rejects_per_round": OPTIONS.max_rejects_per_round,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "results": results,
    }
    if args.hostile:
        result["hostile"] = await hostile(args.runs, sizes)
        result["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="25,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-sizes", default=str(OPTIONS.page_size), help="e.g. 20,50,100")
    parser.add_argument("--hostile", action="store_true", help="also: a peer of bad records")
    result = asyncio.run(main(parser.parse_args()))
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "sync.json").write_text(text + "\n")
