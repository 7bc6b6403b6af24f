"""Benchmark: time for a post to reach ALL of N of our peers, against js-libp2p gossipsub peers
on the same topology at the same message rate, run one after the other in one invocation.

    scripts/bench propagation [--sizes 10,30] [--posts 100] [--rate 1] [--dials 3] [--seed 1]
                              [--hosts-per-process 5] [--impls ours,js] [--quick]
                              [--profile bench-results/propagation-profile]

Our peers (``ours``): real ``P2PHost`` instances with the daemon's gossip stack (gossipsub as
``peer.p2p`` configures it, loopback exempted from the IP-colocation penalty) running
``FeedGossip`` with the feed ``Validator`` and a real SQLite ``FeedIndex`` each; a post has
reached a peer when that peer's validator accepted it and stored it in its index. The posts
are real signed posts (``CreatorLog``), one creator per peer; the token registry is an
in-memory fake (no chain). ``ours-raw`` (optional) is the same hosts relaying the same bytes
with no validator. ``js``: js-libp2p 3 + ``@libp2p/gossipsub`` 17 peers (Node 22), same bytes,
no feed validation (gossipsub's signature check only). Worker processes host
``--hosts-per-process`` peers each, the same layout for every implementation (1: every peer
its own OS process; 30 Python processes take minutes just to import on 2 shared cores, so the
default is 5: one asyncio loop and one trio thread per host, sharing the process's GIL; Node:
5 libp2p nodes on one event loop).

Method per implementation and N: start the peers, every peer dials ``--dials`` random others
(seeded; the same topology for every implementation), wait until every peer sees all its
neighbours on the topic, let the mesh settle, publish a few warm-up posts, measure idle CPU,
then publish ``--posts`` posts at ``--rate`` per second from random peers (seeded). Times are
CLOCK_MONOTONIC (Python ``time.monotonic_ns``, Node ``process.hrtime.bigint``; checked per
worker: the worker's reading lies between two of ours). CPU: utime + stime of all peer
processes from /proc, over the window from the first publish to the last arrival (or the
timeout), reported per post and as % of one core, next to the idle rate before publishing.
With ``--profile FOLDER``, py-spy (dev extra) samples every worker process of ours while the
posts are measured (100 Hz, not pausing them); the raw stacks go to FOLDER and the JSON gets
their breakdown into the parts of the gossip path (``propagation_profile.py``). Profiled runs
cost CPU beside the peers: take times and CPU from runs without it.
Prints JSON and writes bench-results/propagation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is first on sys.path and holds tokens.py and storage.py, which would shadow
# the packages of the same names that peer imports: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from propagation_peers import raw_key
from propagation_profile import breakdown, parse
from propagation_stats import Delivery, degrees, publishers, ratio, summarize, topology

from peer.feed.builders import CreatorLog
from peer.feed.eip712 import Domain
from peer.feed.signatures import address_of
from peer.feed.wire import encode

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DIAL_ATTEMPTS = 3
START_TIMEOUT_S = 300.0


def progress(text: str) -> None:
    """One line of progress on stderr (stdout carries the JSON)."""
    print(f"[propagation {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class WorkerError(RuntimeError):
    """A worker process failed a command or exited."""


class WorkerProc:
    """One worker process (Python or Node) driven over JSON lines."""

    def __init__(self, argv: list[str], name: str) -> None:
        self._argv = argv
        self.name = name
        self._proc: asyncio.subprocess.Process | None = None
        self._ids = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *self._argv,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        self._reader = asyncio.create_task(self._read())

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            reply = json.loads(line)
            future = self._pending.pop(reply["id"], None)
            if future is None or future.done():
                continue
            if reply["ok"]:
                future.set_result(reply["result"])
            else:
                future.set_exception(WorkerError(f"{self.name}: {reply['message']}"))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(WorkerError(f"{self.name} exited"))
        self._pending.clear()

    async def call(self, cmd: str, timeout: float = 60.0, **args: Any) -> Any:  # noqa: ASYNC109
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._ids += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._ids] = future
        line = json.dumps({"id": self._ids, "cmd": cmd, "args": args}) + "\n"
        self._proc.stdin.write(line.encode())
        await self._proc.stdin.drain()
        return await asyncio.wait_for(future, timeout)

    def cpu_seconds(self) -> float:
        """utime + stime of the process so far (from /proc)."""
        text = Path(f"/proc/{self.pid}/stat").read_text()
        fields = text.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    async def stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(Exception):
            await self.call("stop", timeout=15)
        try:
            await asyncio.wait_for(self._proc.wait(), 15)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@dataclass
class Posts:
    """The signed posts of one N: bytes, publisher and the key each implementation reports."""

    data: list[bytes] = field(default_factory=list)
    publisher: list[int] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def make_posts(n: int, count: int, seed: int) -> Posts:
    """``count`` real signed posts, each by the creator key of its (seeded random) publisher."""
    out = Posts(publisher=publishers(n, count, seed))
    logs: list[CreatorLog] = []
    for peer in range(n):
        key = keccak(b"propagation creator %d" % peer)
        token = to_checksum_address(keccak(b"propagation token %d" % peer)[:20])
        out.tokens[address_of(key)] = token
        logs.append(CreatorLog(DOMAIN, key, token))
    now = int(time.time())
    for index, peer in enumerate(out.publisher):
        envelope, post_id = logs[peer].next_post(MANIFEST, f"propagation post {index}", now)
        data = encode(envelope)
        out.data.append(data)
        out.keys[post_id.hex()] = index
        out.keys[raw_key(data)] = index
    return out


def node_binary() -> str:
    local = ROOT / "node_modules" / "node" / "bin" / "node"
    if not local.exists():
        raise SystemExit("node_modules/node/bin/node (Node 22) is missing: run scripts/setup")
    if not (ROOT / "node_modules" / "@libp2p" / "gossipsub").exists():
        raise SystemExit("node_modules/@libp2p/gossipsub is missing: run scripts/setup")
    return str(local)


class Cluster:
    """N peers of one implementation spread over worker processes."""

    def __init__(self, impl: str, n: int, per_process: int, tmp: Path) -> None:
        self.impl = impl
        self.n = n
        self.workers: list[WorkerProc] = []
        self.where: list[tuple[WorkerProc, int]] = []  # global peer -> (worker, local index)
        self.addrs: list[str] = []
        self._per_process = per_process
        self._tmp = tmp
        self.dial_retries = 0

    async def start(self, tokens: dict[str, str]) -> None:
        counts = [
            min(self._per_process, self.n - start) for start in range(0, self.n, self._per_process)
        ]
        for number in range(len(counts)):
            if self.impl == "js":
                argv = [node_binary(), str(HERE / "js" / "propagation_peer.mjs")]
            else:
                argv = [sys.executable, str(HERE / "propagation_peers.py")]
            self.workers.append(WorkerProc(argv, f"{self.impl} worker {number}"))
        await asyncio.gather(*(w.start() for w in self.workers))
        mode = "raw" if self.impl == "ours-raw" else "validated"

        async def start_one(worker: WorkerProc, number: int, count: int) -> list[dict[str, Any]]:
            args: dict[str, Any] = {"count": count}
            if self.impl != "js":
                args |= {
                    "folder": str(self._tmp / f"w{number}"),
                    "mode": mode,
                    "domain": [DOMAIN.chain_id, DOMAIN.verifying_contract],
                    "tokens": tokens,
                }
            result: list[dict[str, Any]] = await worker.call(
                "start", timeout=START_TIMEOUT_S, **args
            )
            return result

        infos = await asyncio.gather(
            *(start_one(w, i, c) for i, (w, c) in enumerate(zip(self.workers, counts, strict=True)))
        )
        for worker, peers in zip(self.workers, infos, strict=True):
            for local, info in enumerate(peers):
                self.where.append((worker, local))
                self.addrs.append(info["addrs"][0])

    async def connect(self, edges: list[tuple[int, int]]) -> None:
        gate = asyncio.Semaphore(8)

        async def dial(a: int, b: int) -> None:
            worker, local = self.where[a]
            async with gate:
                for attempt in range(DIAL_ATTEMPTS):
                    try:
                        await worker.call("connect", timeout=60, host=local, addr=self.addrs[b])
                        return
                    except WorkerError:  # a handshake can time out on a loaded machine
                        if attempt == DIAL_ATTEMPTS - 1:
                            raise
                        self.dial_retries += 1
                        await asyncio.sleep(1.0)

        await asyncio.gather(*(dial(a, b) for a, b in edges))

    async def topic_peer_counts(self) -> list[int]:
        per_worker = await asyncio.gather(*(w.call("topic_peers") for w in self.workers))
        return [count for counts in per_worker for count in counts]

    async def publish(self, peer: int, data: bytes) -> int:
        worker, local = self.where[peer]
        result: int = await worker.call("publish", host=local, data=data.hex())
        return result

    async def received(self) -> list[tuple[str, int, int]]:
        """(key, global peer, time) of every arrival since the last call."""
        out: list[tuple[str, int, int]] = []
        for worker in self.workers:
            base = next(i for i, (w, _) in enumerate(self.where) if w is worker)
            for key, local, t in await worker.call("received"):
                out.append((str(key), base + int(local), int(t)))
        return out

    def cpu_seconds(self) -> float:
        return sum(w.cpu_seconds() for w in self.workers)

    async def clock_check(self) -> dict[str, Any]:
        """Each worker's monotonic reading must lie between two of ours (same clock)."""
        worst = 0
        ok = True
        for worker in self.workers:
            before = time.monotonic_ns()
            theirs = int(await worker.call("clock"))
            after = time.monotonic_ns()
            ok = ok and before <= theirs <= after
            worst = max(worst, after - before)
        return {"same_clock": ok, "max_round_trip_us": round(worst / 1000, 1)}

    async def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for worker in self.workers:
            for per_peer in await worker.call("stats"):
                for key, value in per_peer.items():
                    total[key] = total.get(key, 0) + int(value)
        return total

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.workers))


async def wait_for_neighbours(cluster: Cluster, want: list[int], timeout: float) -> float:  # noqa: ASYNC109
    """Until every peer sees all its neighbours subscribed to the topic; returns seconds."""
    start = time.monotonic()
    while True:
        counts = await cluster.topic_peer_counts()
        if all(c >= w for c, w in zip(counts, want, strict=True)):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            short = sum(1 for c, w in zip(counts, want, strict=True) if c < w)
            raise WorkerError(f"{short} peers still miss neighbours on the topic after {timeout} s")
        await asyncio.sleep(0.25)


async def publish_batch(
    cluster: Cluster, posts: Posts, indices: range, rate: float
) -> list[int | None]:
    """Publish posts ``indices`` at ``rate`` per second; their publish times (None: failed)."""
    loop_start = time.monotonic()
    tasks: list[asyncio.Task[int]] = []
    for number, index in enumerate(indices):
        delay = loop_start + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(cluster.publish(posts.publisher[index], posts.data[index]))
        )
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return [r if isinstance(r, int) else None for r in results]


async def collect(
    cluster: Cluster,
    posts: Posts,
    indices: range,
    arrivals: dict[tuple[int, int], int],
    tail: float,
) -> None:
    """Gather arrivals of ``indices`` until each reached all other peers or ``tail`` s passed."""
    wanted = set(indices)
    expected = len(wanted) * (cluster.n - 1)
    deadline = time.monotonic() + tail
    while True:
        for key, peer, t in await cluster.received():
            index = posts.keys.get(key)
            if index is None or index not in wanted or peer == posts.publisher[index]:
                continue
            arrivals.setdefault((index, peer), t)
        got = sum(1 for (index, _peer) in arrivals if index in wanted)
        if got >= expected or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.25)


class Profiler:
    """py-spy (the dev extra) sampling every worker process of a case while it is measured;
    its raw stacks go to ``folder`` and their breakdown (``propagation_profile``) to the JSON."""

    def __init__(self, folder: str, impl: str, n: int) -> None:
        self.folder = Path(folder)
        self.prefix = f"{impl}-n{n}"
        self.procs: list[asyncio.subprocess.Process] = []
        self.files: list[Path] = []

    async def start(self, workers: list[WorkerProc]) -> None:
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists():
            raise SystemExit("py-spy is missing: run scripts/setup (it is in the dev extra)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for number, worker in enumerate(workers):
            out = self.folder / f"{self.prefix}-w{number}.txt"
            self.files.append(out)
            self.procs.append(
                await asyncio.create_subprocess_exec(
                    str(spy), "record", "--pid", str(worker.pid), "--rate", "100",
                    "--format", "raw", "--threads", "--nonblocking", "--output", str(out),
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
            )  # fmt: skip

    async def stop(self) -> dict[str, Any]:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        await asyncio.gather(*(proc.wait() for proc in self.procs))
        stacks = [s for f in self.files if f.exists() for s in parse(f.read_text().splitlines())]
        return {"files": [str(f) for f in self.files], **breakdown(stacks)}


async def run_case(impl: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    edges = topology(n, args.dials, args.seed)
    want = degrees(n, edges)
    posts = make_posts(n, args.warmup + args.posts, args.seed)
    warm = range(args.warmup)
    measured = range(args.warmup, args.warmup + args.posts)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="toktok-propagation-") as tmp_name:
        cluster = Cluster(impl, n, args.hosts_per_process, Path(tmp_name))
        phase = "start"
        try:
            progress(f"{impl} N={n}: starting peers")
            t_start = time.monotonic()
            await cluster.start(posts.tokens)
            started_s = time.monotonic() - t_start
            clock = await cluster.clock_check()
            phase = "connect"
            progress(f"{impl} N={n}: started in {started_s:.1f} s; dialling {len(edges)} edges")
            await cluster.connect(edges)
            phase = "mesh"
            neighbours_s = await wait_for_neighbours(cluster, want, 60)
            await asyncio.sleep(args.settle)
            phase = "warm-up"
            progress(f"{impl} N={n}: topology up; warm-up")
            warm_arrivals: dict[tuple[int, int], int] = {}
            await publish_batch(cluster, posts, warm, args.rate)
            await collect(cluster, posts, warm, warm_arrivals, 15)
            phase = "measure"
            progress(f"{impl} N={n}: measuring {args.posts} posts at {args.rate}/s")
            await cluster.received()  # drop anything late
            idle_a, idle_t = cluster.cpu_seconds(), time.monotonic()
            await asyncio.sleep(args.idle)
            idle_cpu = cluster.cpu_seconds() - idle_a
            idle_wall = time.monotonic() - idle_t
            profiler = Profiler(args.profile, impl, n) if args.profile and impl != "js" else None
            if profiler is not None:
                await profiler.start(cluster.workers)
            cpu_a, wall_a = cluster.cpu_seconds(), time.monotonic()
            published = await publish_batch(cluster, posts, measured, args.rate)
            arrivals: dict[tuple[int, int], int] = {}
            await collect(cluster, posts, measured, arrivals, args.tail)
            cpu = cluster.cpu_seconds() - cpu_a
            wall = time.monotonic() - wall_a
            profile = await profiler.stop() if profiler is not None else None
            stats = await cluster.stats()
        except (WorkerError, TimeoutError) as exc:
            await cluster.stop()
            return {"implementation": impl, "n": n, "error": f"{phase}: {exc!r}"}
        await cluster.stop()
    delivery = Delivery(
        n=n,
        publisher=[posts.publisher[i] for i in measured],
        published_ns=published,
        received={(i - args.warmup, p): t for (i, p), t in arrivals.items()},
    )
    idle_rate = idle_cpu / idle_wall
    result: dict[str, Any] = {
        "implementation": impl,
        "n": n,
        **summarize(delivery),
        "rate_per_s": args.rate,
        "warmup_posts_reaching_all": sum(
            1
            for i in warm
            if all((i, p) in warm_arrivals for p in range(n) if p != posts.publisher[i])
        ),
        "cpu": {
            "window_s": round(wall, 2),
            "cpu_s": round(cpu, 3),
            "cpu_s_per_post": round(cpu / args.posts, 4),
            "percent_of_one_core": round(100 * cpu / wall, 1),
            "idle_percent_of_one_core": round(100 * idle_rate, 1),
            "net_cpu_s_per_post": round(max(0.0, cpu - idle_rate * wall) / args.posts, 4),
        },
        "processes": len(cluster.workers),
        "hosts_per_process": args.hosts_per_process,
        "topology": {"edges": len(edges), "min_degree": min(want), "max_degree": max(want)},
        "setup_s": {"start": round(started_s, 2), "neighbours": round(neighbours_s, 2)},
        "dial_retries": cluster.dial_retries,
        "clock_check": clock,
        "loadavg_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
    }
    if stats:
        result["validator_outcomes"] = stats
    if profile is not None:
        result["profile"] = profile
    return result


def compare(cases: list[dict[str, Any]], ours: str) -> dict[str, Any]:
    """ours/js ratios per N for time and CPU."""
    out: dict[str, Any] = {}
    by = {(c["implementation"], c["n"]): c for c in cases}
    for (impl, n), case in by.items():
        js = by.get(("js", n))
        if impl != ours or js is None:
            continue
        out[f"n{n}"] = {
            "median_ms": ratio(case.get("median_ms"), js.get("median_ms")),
            "p99_ms": ratio(case.get("p99_ms"), js.get("p99_ms")),
            "cpu_s_per_post": ratio(
                case.get("cpu", {}).get("cpu_s_per_post"), js.get("cpu", {}).get("cpu_s_per_post")
            ),
            "net_cpu_s_per_post": ratio(
                case.get("cpu", {}).get("net_cpu_s_per_post"),
                js.get("cpu", {}).get("net_cpu_s_per_post"),
            ),
        }
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    cases: list[dict[str, Any]] = []
    for n in args.sizes:
        for impl in args.impls:
            case = await run_case(impl, n, args)
            keys = ("median_ms", "p99_ms", "delivered_fraction", "cpu", "error")
            progress(f"{impl} N={n}: " + json.dumps({k: case[k] for k in keys if k in case}))
            cases.append(case)
    result: dict[str, Any] = {
        "benchmark": "propagation",
        "method": (
            "time for a post to reach all other N-1 peers (latest arrival minus publish, "
            "CLOCK_MONOTONIC across processes); ours = P2PHost + FeedGossip with the feed "
            "validator storing into a SQLite FeedIndex per peer (fake token registry, no chain); "
            "ours-raw = same hosts, no validator; js = js-libp2p 3 + @libp2p/gossipsub 17 "
            "relaying the same signed post bytes without feed validation"
        ),
        "settings": {
            "sizes": args.sizes,
            "posts": args.posts,
            "warmup_posts": args.warmup,
            "rate_per_s": args.rate,
            "dials_per_peer": args.dials,
            "seed": args.seed,
            "hosts_per_process": args.hosts_per_process,
            "cores": os.cpu_count(),
            "post_bytes": len(make_posts(1, 1, args.seed).data[0]),
        },
        "results": cases,
        "ratio_ours_over_js": compare(cases, "ours"),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if "ours-raw" in args.impls:
        result["ratio_ours_raw_over_js"] = compare(cases, "ours-raw")
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10,30", help="comma-separated N values")
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1.0, help="posts per second")
    parser.add_argument("--dials", type=int, default=3, help="random peers each peer dials")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hosts-per-process", type=int, default=5)
    parser.add_argument("--impls", default="ours,js", help="any of ours, ours-raw, js")
    parser.add_argument("--settle", type=float, default=3.0, help="mesh settle time (s)")
    parser.add_argument("--idle", type=float, default=3.0, help="idle CPU window (s)")
    parser.add_argument("--tail", type=float, default=20.0, help="wait after last publish (s)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=3, 5 posts")
    parser.add_argument(
        "--profile", default="", help="folder: py-spy samples our workers while measured"
    )
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "propagation.json"))
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s]
    args.impls = [s for s in str(args.impls).split(",") if s]
    unknown = set(args.impls) - {"ours", "ours-raw", "js"}
    if unknown:
        parser.error(f"unknown implementation(s): {', '.join(sorted(unknown))}")
    if args.quick:
        args.sizes, args.posts, args.warmup = [3], 5, 2
        args.rate, args.settle, args.idle, args.tail = 10.0, 1.0, 0.5, 10.0
    if any(n < 2 for n in args.sizes) or args.posts < 1 or args.rate <= 0:
        parser.error("sizes must be >= 2, posts >= 1 and rate > 0")
    if math.isnan(args.rate):
        parser.error("rate must be a number")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
