"""Feed benchmark: validated ingest rate, query latency at 1,000,000 posts, peak RSS.

Usage: scripts/bench feed [--posts 50000] [--baseline-posts 10000] [--rows 1000000] [--runs 3]
                         [--samples 25]

Each phase runs in its own child process (so its peak RSS is its own); the parent prints one
JSON document and writes bench-results/feed.json.

- ingest: ``--posts`` signed posts (``--creators`` creators, half with a token) are generated
  first (not timed), then each run feeds every wire record through ``Validator.validate``
  (decode, EIP-712 id, ecrecover, token lookup through the cached registry, duplicate and
  fork checks) and ``FeedIndex.writes.store`` into a fresh index, 256 records in flight (as gossip
  validators run concurrently). Baselines measured in the same run, on the first
  ``--baseline-posts`` records: validation alone (in-memory view, no index) and storing alone
  (no validation). Rates are given per wall second and per CPU second of the process (the
  latter is steadier on a shared machine; the 1-minute load average is reported).
- queries: ``--rows`` posts bulk-loaded as rows (not signed; ``wire`` is a 1-byte
  placeholder; 1 post in 200 belongs to one busy creator, whose page is measured), FTS filled,
  a viewer following 50 creators, 2 muted and 2 blocked creators.
  For each query the latency of the first page of 20 and of page 11 (reached by cursors)
  through the async API, median and p90 over ``--samples`` calls. Baseline: a trivial read
  through the same reader pool (the executor round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

# scripts/benchmarks/ is first on sys.path and holds a tokens.py, which would shadow the
# tokens package that peer imports: drop it before importing anything of ours.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from peer.feed.builders import CreatorLog  # noqa: E402
from peer.feed.db import connect  # noqa: E402
from peer.feed.eip712 import Domain  # noqa: E402
from peer.feed.index import FeedIndex, IndexOptions  # noqa: E402
from peer.feed.schema import migrate  # noqa: E402
from peer.feed.testing import FakeTokenRegistry, MemoryFeedView  # noqa: E402
from peer.feed.token_link import CachedTokenRegistry  # noqa: E402
from peer.feed.validation import Accepted, Validator  # noqa: E402
from peer.feed.wire import encode  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
WORDS = [
    "sunset",
    "dance",
    "cooking",
    "travel",
    "music",
    "cats",
    "dogs",
    "skate",
    "surf",
    "city",
    "night",
    "rain",
    "coffee",
    "code",
    "garden",
    "street",
    "football",
    "guitar",
    "piano",
    "painting",
    "yoga",
    "climbing",
    "beach",
    "mountain",
    "snow",
    "river",
    "market",
    "bakery",
    "pizza",
    "sushi",
    "tacos",
    "festival",
    "concert",
    "comedy",
    "prank",
    "tutorial",
    "review",
    "unboxing",
]
IN_FLIGHT = 256
PAGE = 20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- ingest -------------------------------------------------------------------------------


def _generate(posts: int, creators: int, seed: int) -> tuple[list[bytes], dict[str, str]]:
    rng = random.Random(seed)
    logs: list[CreatorLog] = []
    tokens: dict[str, str] = {}
    for n in range(creators):
        key = keccak(f"bench-creator-{n}".encode())
        token = "0x" + keccak(key).hex()[:40] if n % 2 == 0 else None
        log = CreatorLog(DOMAIN, key)
        if token is not None:
            log.token = str(to_checksum_address(token))
            tokens[log.creator] = log.token
        logs.append(log)
    now = int(time.time())
    wires = []
    for i in range(posts):
        log = logs[i % creators]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
        tags = rng.sample(WORDS, rng.randint(0, 3))
        envelope, _ = log.next_post(
            MANIFEST, title, now - rng.randint(0, 86400 * 30), tags=tags, duration_ms=15000
        )
        wires.append(encode(envelope))
    return wires, tokens


async def _pipeline(items: list[Any], handle: Any) -> tuple[float, float]:
    """Runs ``handle`` over ``items``, IN_FLIGHT at a time: (wall s, process CPU s)."""
    start, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(items), IN_FLIGHT):
        await asyncio.gather(*(handle(item) for item in items[offset : offset + IN_FLIGHT]))
    return time.perf_counter() - start, time.process_time() - cpu


async def _ingest_run(
    wires: list[bytes], tokens: dict[str, str], tmp: Path, mode: str
) -> tuple[float, float]:
    registry = CachedTokenRegistry(FakeTokenRegistry(tokens))
    now = int(time.time())
    if mode == "validate-only":
        validator = Validator(DOMAIN, registry, MemoryFeedView())

        async def validate(data: bytes) -> None:
            verdict = await validator.validate(data, now)
            assert isinstance(verdict, Accepted), verdict

        return await _pipeline(wires, validate)
    async with FeedIndex(IndexOptions(tmp / mode / "feed.sqlite")) as index:
        validator = Validator(DOMAIN, registry, index.view)
        if mode == "store-only":
            verdicts = [await validator.validate(data, now) for data in wires]
            accepted = [v for v in verdicts if isinstance(v, Accepted)]

            async def store(verdict: Any) -> None:
                await index.writes.store(verdict.envelope, verdict.record_id)

            return await _pipeline(accepted, store)

        async def ingest(data: bytes) -> None:
            verdict = await validator.validate(data, now)
            assert isinstance(verdict, Accepted), verdict
            await index.writes.store(verdict.envelope, verdict.record_id)

        timing = await _pipeline(wires, ingest)
        heads = await index.sync.heads()
        assert sum(seq for seq, _id in heads.values()) == len(wires), "posts were lost"
        return timing


def phase_ingest(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    wires, tokens = _generate(args.posts, args.creators, seed=1)
    generated_s = time.perf_counter() - t0
    baseline = wires[: args.baseline_posts]
    wall: dict[str, list[float]] = {"validate+store": [], "validate-only": [], "store-only": []}
    cpu: dict[str, list[float]] = {mode: [] for mode in wall}
    for run in range(args.runs):
        for mode in wall:
            items = wires if mode == "validate+store" else baseline
            with tempfile.TemporaryDirectory(prefix=f"feed-bench-{run}-") as tmp:
                elapsed, cpu_s = asyncio.run(_ingest_run(items, tokens, Path(tmp), mode))
            wall[mode].append(len(items) / elapsed)
            cpu[mode].append(len(items) / cpu_s)
    med_wall = {mode: statistics.median(values) for mode, values in wall.items()}
    med_cpu = {mode: statistics.median(values) for mode, values in cpu.items()}
    return {
        "posts": len(wires),
        "baseline_posts": len(baseline),
        "creators": args.creators,
        "runs": args.runs,
        "in_flight": IN_FLIGHT,
        "generate_s": round(generated_s, 1),
        "posts_per_wall_s_median": {k: round(v) for k, v in med_wall.items()},
        "posts_per_cpu_s_median": {k: round(v) for k, v in med_cpu.items()},
        "posts_per_wall_s_runs": {k: [round(x) for x in v] for k, v in wall.items()},
        "ratio_ingest_vs_validate_only_wall": round(
            med_wall["validate+store"] / med_wall["validate-only"], 3
        ),
        "ratio_ingest_vs_validate_only_cpu": round(
            med_cpu["validate+store"] / med_cpu["validate-only"], 3
        ),
        "mean_wire_bytes": round(statistics.mean(len(w) for w in wires)),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


# ---- queries ------------------------------------------------------------------------------


def _bulk_load(path: Path, rows: int, creators: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    db = connect(path)
    migrate(db)
    addresses = ["0x" + keccak(f"row-creator-{n}".encode()).hex()[:40] for n in range(creators)]
    now = int(time.time())
    conn = db.conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO creators(address, head_seq, name) VALUES (?, ?, ?)",
        [(a, rows // creators, f"{rng.choice(WORDS)} {n}") for n, a in enumerate(addresses)],
    )
    batch: list[tuple[Any, ...]] = []
    fts: list[tuple[Any, ...]] = []
    names = dict(conn.execute("SELECT address, name FROM creators").fetchall())
    seqs: dict[str, int] = {}
    for i in range(rows):
        # Every 200th post belongs to one busy creator (its page is measured).
        creator = addresses[7] if i % 200 == 7 else addresses[i % creators]
        seqs[creator] = seqs.get(creator, 0) + 1
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
        tags = rng.sample(WORDS, rng.randint(0, 3))
        created = now - rng.randint(0, 86400 * 90)
        rowid = i + 1
        batch.append(
            (
                rowid,
                keccak(i.to_bytes(8, "big")),
                creator,
                seqs[creator],
                bytes(32),
                "0x" + "00" * 20,
                MANIFEST,
                title,
                json.dumps(tags),
                15000,
                created,
                0,
                "0",
                "[]",
                created,
                b"\x00",
            )
        )
        fts.append((rowid, title, " ".join(tags), names[creator]))
        if len(batch) == 20000:
            _flush(conn, batch, fts)
    _flush(conn, batch, fts)
    viewer = "0x" + "ee" * 20
    followed = rng.sample(addresses, 50)
    conn.executemany(
        'INSERT INTO follows(actor, creator, "on", created_at, id, wire) VALUES (?, ?, 1, ?, ?, ?)',
        [(viewer, c, now, keccak(c.encode()), b"\x00") for c in followed],
    )
    for table, picked in (("muted", addresses[1:3]), ("blocked", addresses[3:5])):
        conn.executemany(
            f"INSERT INTO {table}(address, since) VALUES (?, ?)",  # noqa: S608
            [(a, now) for a in picked],
        )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    busy = addresses[7]
    return {"viewer": viewer, "creator": busy, "creator_name": names[busy], "now": now}


def _flush(conn: Any, batch: list[tuple[Any, ...]], fts: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO posts(rowid, id, creator, seq, prev, token, manifest, title, tags,"
        " duration_ms, created_at, premium, min_balance, key_servers, received_at, wire)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    conn.executemany("INSERT INTO posts_fts(rowid, title, tags, name) VALUES (?, ?, ?, ?)", fts)
    batch.clear()
    fts.clear()


async def _latencies(fetch: Any, samples: int) -> dict[str, float]:
    first: list[float] = []
    deep: list[float] = []
    cursor = None
    for _ in range(10):
        page = await fetch(None if cursor is None else cursor)
        cursor = page.next_cursor
        assert cursor is not None, "the data set is too small for 11 pages"
    for _ in range(samples):
        t = time.perf_counter()
        page = await fetch(None)
        first.append(time.perf_counter() - t)
        assert len(page.items) == PAGE
        t = time.perf_counter()
        page = await fetch(cursor)
        deep.append(time.perf_counter() - t)
        assert len(page.items) == PAGE

    def ms(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=10)[q - 1] * 1000 if q else 0, 3)

    return {
        "first_page_median_ms": round(statistics.median(first) * 1000, 3),
        "first_page_p90_ms": ms(first, 9),
        "page_11_median_ms": round(statistics.median(deep) * 1000, 3),
        "page_11_p90_ms": ms(deep, 9),
    }


async def _query_run(path: Path, meta: dict[str, Any], samples: int) -> dict[str, Any]:
    async with FeedIndex(IndexOptions(path, for_you_window_s=86400 * 3)) as index:
        viewer, creator, now = meta["viewer"], meta["creator"], meta["now"]
        baseline: list[float] = []
        for _ in range(samples):
            t = time.perf_counter()
            await index.view.has_record(b"\x01" * 32)
            baseline.append(time.perf_counter() - t)
        base_ms = statistics.median(baseline) * 1000
        results: dict[str, Any] = {"baseline_read_median_ms": round(base_ms, 3)}
        queries = {
            "for_you": lambda c: index.queries.for_you(viewer, now, c, PAGE),
            "for_you_anonymous": lambda c: index.queries.for_you(None, now, c, PAGE),
            "following": lambda c: index.queries.following(viewer, c, PAGE),
            "creator": lambda c: index.queries.creator(creator, c, PAGE),
            "search_common_word": lambda c: index.queries.search("dance", c, PAGE),
            "search_two_words": lambda c: index.queries.search("cats pizza", c, PAGE),
            "search_creator_name": lambda c: index.queries.search(meta["creator_name"], c, PAGE),
            "search_prefix_common": lambda c: index.queries.search("danc", c, PAGE, prefix=True),
        }
        for name, fetch in queries.items():
            try:
                stats = await _latencies(fetch, samples)
            except AssertionError as exc:
                results[name] = {"error": str(exc)}
                continue
            stats["ratio_first_page_vs_baseline"] = round(
                stats["first_page_median_ms"] / base_ms, 1
            )
            results[name] = stats
        return results


def phase_queries(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="feed-bench-q-") as tmp:
        path = Path(tmp) / "feed.sqlite"
        t0 = time.perf_counter()
        meta = _bulk_load(path, args.rows, args.row_creators, seed=2)
        load_s = time.perf_counter() - t0
        size_mib = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
        results = asyncio.run(_query_run(path, meta, args.samples))
    return {
        "rows": args.rows,
        "creators": args.row_creators,
        "bulk_load_s": round(load_s, 1),
        "db_size_mib": round(size_mib, 1),
        "page_size": PAGE,
        "samples": args.samples,
        "queries": results,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


# ---- driver -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--creators", type=int, default=500)
    parser.add_argument("--baseline-posts", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--row-creators", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--phase", choices=["ingest", "queries"])
    args = parser.parse_args()
    if args.phase == "ingest":
        print(json.dumps(phase_ingest(args)))
        return
    if args.phase == "queries":
        print(json.dumps(phase_queries(args)))
        return
    result: dict[str, Any] = {"benchmark": "feed", "python": sys.version.split()[0]}
    forwarded = [a for a in sys.argv[1:] if not a.startswith("--phase")]
    for phase in ("ingest", "queries"):
        out = subprocess.run(
            [sys.executable, __file__, "--phase", phase, *forwarded],
            check=True,
            capture_output=True,
            text=True,
        )
        result[phase] = json.loads(out.stdout)
    text = json.dumps(result, indent=2)
    print(text)
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "feed.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
