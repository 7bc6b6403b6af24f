"""Test support for code built on ``peer.p2p`` (like ``trio.testing``): a factory of local
and remote peers for one backend (the in-memory fake, or real hosts with every remote in its
own process), and polling helpers. Used by the conformance suite and the benchmark."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..host import P2PHost
from ..worker import ScriptedPeer, WorkerProcess, options_from_json
from .fake import FakeNetwork

Peer = ScriptedPeer | WorkerProcess


class PeerFactory:
    """Creates the local peer (in this process) and remote peers; stops them all."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self._tmp = tmp
        self._fake = FakeNetwork()
        self._count = 0
        self._locals: list[ScriptedPeer] = []
        self._remotes: list[Peer] = []

    async def local(self, **options: Any) -> ScriptedPeer:
        options_obj = options_from_json(self._path(), dict(options))
        network = self._fake.host(options_obj) if self.kind == "fake" else P2PHost(options_obj)
        await network.start()
        peer = ScriptedPeer(network)
        await peer.start_watching()
        self._locals.append(peer)
        return peer

    async def remote(self, **options: Any) -> Peer:
        if self.kind == "fake":
            return await self.local(**options)
        worker = WorkerProcess(self._path(), options)
        self._remotes.append(worker)
        await worker.start()
        return worker

    async def close(self) -> None:
        for peer in self._locals:
            await peer.close()
            stop = getattr(peer.network, "stop", None)
            if stop is not None:
                await stop()
        for worker in self._remotes:
            assert isinstance(worker, WorkerProcess)
            await worker.stop()

    def _path(self) -> Path:
        self._count += 1
        return self._tmp / f"peer{self._count}" / "identity.key"


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 15.0,  # noqa: ASYNC109
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def info(peer: Peer) -> dict[str, Any]:
    return await peer.info()


async def ensure_flow(sender: Peer, receivers: list[Peer], topic: str) -> None:
    """Publish probes until every receiver got one (the mesh is up), then clear inboxes."""
    n = 0
    got: set[int] = set()
    deadline = time.monotonic() + 20
    while len(got) < len(receivers):
        n += 1
        await sender.publish(topic, f"probe-{n}".encode().hex())
        for _ in range(10):
            await asyncio.sleep(0.05)
            for index, receiver in enumerate(receivers):
                if index not in got and await receiver.received(topic):
                    got.add(index)
            if len(got) == len(receivers):
                break
        if time.monotonic() > deadline:
            raise AssertionError("the gossipsub mesh did not form within 20 s")
    await asyncio.sleep(0.3)
    for receiver in receivers:
        await receiver.received(topic)
