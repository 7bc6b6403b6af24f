"""Worker process of ``scripts/bench propagation``: hosts one or more of our peers.

Each peer is the daemon's gossip stack: a real ``P2PHost`` (gossipsub settings from
``peer.p2p.GossipOptions``, loopback exempted from the IP-colocation penalty) and, in the
``validated`` mode, ``FeedGossip`` with the feed ``Validator`` and a real ``FeedIndex`` (SQLite)
in its own folder; the token registry is ``FakeTokenRegistry`` behind ``CachedTokenRegistry``
(no chain). A post has reached a peer when the validator stored it in that peer's index
(``on_stored``). In the ``raw`` mode the peer subscribes to the posts topic with no validator
and a post has reached it when the subscription delivers it (relay only, no feed rules).

Driven by JSON lines on stdin/stdout (one request ``{"id", "cmd", "args"}`` per line, one reply
``{"id", "ok", "result"|"message"}`` per line, replies possibly out of order). Timestamps are
``time.monotonic_ns()`` (CLOCK_MONOTONIC, shared by every process on the machine).

    python scripts/benchmarks/propagation_peers.py
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is first on sys.path and holds tokens.py and storage.py, which would shadow
# the packages of the same names that peer imports: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from peer.feed.eip712 import Domain
from peer.feed.gossip import TOPIC_POSTS, FeedGossip
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ingest import StoreResult
from peer.feed.testing import FakeTokenRegistry
from peer.feed.token_link import CachedTokenRegistry
from peer.feed.validation import Validator
from peer.feed.wire import Envelope, decode
from peer.p2p import GossipOptions, HostOptions, P2PHost
from peer.p2p.ports import Subscription

GOSSIP = GossipOptions(exempt_loopback_from_colocation=True)


def raw_key(data: bytes) -> str:
    """How raw-mode receivers (and the js peers) name a message: sha256 prefix, hex."""
    return hashlib.sha256(data).hexdigest()[:32]


class OurPeer:
    """One peer: host, and in validated mode index + validator + feed gossip."""

    def __init__(self, folder: Path, mode: str, domain: Domain, tokens: dict[str, str]) -> None:
        self.folder = folder
        self.mode = mode
        self.host = P2PHost(
            HostOptions(
                identity_path=folder / "p2p" / "identity.key", gossip=GOSSIP, start_timeout=120.0
            )
        )
        self.index: FeedIndex | None = None
        self.gossip: FeedGossip | None = None
        self._domain = domain
        self._tokens = tokens
        self._sub: Subscription | None = None
        self._drain: asyncio.Task[None] | None = None
        self.received: list[tuple[str, int]] = []

    async def start(self) -> None:
        await self.host.start()
        if self.mode == "validated":
            self.index = FeedIndex(IndexOptions(path=self.folder / "index" / "feed.sqlite"))
            await self.index.start()
            registry = CachedTokenRegistry(FakeTokenRegistry(dict(self._tokens)))
            validator = Validator(self._domain, registry, self.index.view)
            self.gossip = FeedGossip(
                self.host, validator, self.index.writes, on_stored=self._stored
            )
            await self.gossip.start()
        else:
            self._sub = await self.host.subscribe(TOPIC_POSTS)
            self._drain = asyncio.create_task(self._drain_raw(self._sub))

    def _stored(self, _envelope: Envelope, record_id: bytes, _result: StoreResult) -> None:
        self.received.append((record_id.hex(), time.monotonic_ns()))

    async def _drain_raw(self, sub: Subscription) -> None:
        async for message in sub:
            now = time.monotonic_ns()
            self.received.append((raw_key(message.data), now))

    async def publish(self, data: bytes) -> int:
        if self.gossip is not None:
            envelope = decode(data)
            start = time.monotonic_ns()
            await self.gossip.publish(envelope)
            return start
        start = time.monotonic_ns()
        await self.host.publish(TOPIC_POSTS, data)
        return start

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.gossip is not None:
                await self.gossip.close()
            if self._sub is not None:
                await self._sub.close()
            if self._drain is not None:
                self._drain.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._drain
        await self.host.stop()
        if self.index is not None:
            await self.index.close()


class Worker:
    """The command table of one worker process."""

    def __init__(self) -> None:
        self.peers: list[OurPeer] = []

    async def start(
        self, folder: str, count: int, mode: str, domain: list[Any], tokens: dict[str, str]
    ) -> list[dict[str, Any]]:
        dom = Domain(int(domain[0]), str(domain[1]))
        base = Path(folder)
        for index in range(count):
            peer = OurPeer(base / f"peer{index}", mode, dom, tokens)
            self.peers.append(peer)
        await asyncio.gather(*(p.start() for p in self.peers))
        return [{"peer_id": p.host.peer_id, "addrs": p.host.addrs} for p in self.peers]

    async def connect(self, host: int, addr: str) -> str:
        return await self.peers[host].host.connect(addr)

    async def topic_peers(self) -> list[int]:
        counts = await asyncio.gather(*(p.host.topic_peers(TOPIC_POSTS) for p in self.peers))
        return [len(c) for c in counts]

    async def publish(self, host: int, data: str) -> int:
        return await self.peers[host].publish(bytes.fromhex(data))

    async def received(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        for index, peer in enumerate(self.peers):
            out.extend([key, index, t] for key, t in peer.received)
            peer.received.clear()
        return out

    async def stats(self) -> list[dict[str, int]]:
        return [dict(p.gossip.stats) if p.gossip is not None else {} for p in self.peers]

    async def clock(self) -> int:
        return time.monotonic_ns()

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.peers), return_exceptions=True)


async def serve() -> None:
    worker = Worker()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout
    tasks: set[asyncio.Task[None]] = set()

    def reply(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    async def run(request: dict[str, Any]) -> None:
        try:
            result = await getattr(worker, request["cmd"])(**request.get("args", {}))
            reply({"id": request["id"], "ok": True, "result": result})
        except Exception as exc:  # reported to the orchestrator, which stops the run
            reply({"id": request["id"], "ok": False, "message": f"{type(exc).__name__}: {exc}"})

    try:
        while line := await reader.readline():
            request = json.loads(line)
            if request["cmd"] == "stop":
                for task in tasks:
                    task.cancel()
                await run(request)
                break
            task = asyncio.create_task(run(request))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        await worker.stop()


def main() -> None:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
