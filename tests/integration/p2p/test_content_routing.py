"""One conformance suite for bitswap's content-routing port (``storage.bitswap.routing``):
the public fake ``MemoryRouting``, and the DHT adapter ``peer.p2p.routing.DhtContentRouting``
on fake hosts and on real py-libp2p hosts (each in its own trio thread).

Participants A -- B -- C: A and C are linked only to B (the memory fake has no topology; its
``link`` does nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from peer.p2p import P2PHost
from peer.p2p.routing import DhtContentRouting
from peer.p2p.testing import FakeHost, FakeNetwork
from peer.p2p.worker import options_from_json
from storage.bitswap.ports import ContentRouting
from storage.bitswap.routing import MemoryRouting
from storage.cid import CID, DAG_PB, RAW


class World(Protocol):
    async def participant(self) -> tuple[ContentRouting, str]:
        """A routing handle and the participant's own dialable address."""
        ...

    async def link(self, a: str, b: str) -> None: ...

    async def close(self) -> None: ...


class MemoryWorld:
    def __init__(self) -> None:
        self.table = MemoryRouting()
        self.count = 0

    async def participant(self) -> tuple[ContentRouting, str]:
        self.count += 1
        addr = f"/ip4/127.0.0.1/tcp/{4000 + self.count}/p2p/12D3KooWmemory{self.count}"
        return self.table.view(addr), addr

    async def link(self, a: str, b: str) -> None:
        return None

    async def close(self) -> None:
        return None


class HostWorld:
    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.fake = FakeNetwork()
        self.hosts: dict[str, FakeHost | P2PHost] = {}

    async def participant(self) -> tuple[ContentRouting, str]:
        options = options_from_json(self.tmp / f"h{len(self.hosts)}" / "identity.key", {})
        host = self.fake.host(options) if self.kind == "fake" else P2PHost(options)
        await host.start()
        self.hosts[host.addrs[0]] = host
        return DhtContentRouting(host), host.addrs[0]

    async def link(self, a: str, b: str) -> None:
        await self.hosts[a].connect(b)

    async def close(self) -> None:
        for host in self.hosts.values():
            await host.stop()


@pytest.fixture(
    params=[
        "memory",
        "fake-hosts",
        pytest.param("real-hosts", marks=pytest.mark.integration),
    ]
)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    made: World = (
        MemoryWorld()
        if request.param == "memory"
        else HostWorld("fake" if request.param == "fake-hosts" else "real", tmp_path)
    )
    try:
        yield made
    finally:
        await made.close()


async def line(world: World) -> list[tuple[ContentRouting, str]]:
    a, b, c = [await world.participant() for _ in range(3)]
    await world.link(a[1], b[1])
    await world.link(c[1], b[1])
    return [a, b, c]


def cid_of(data: bytes, codec: int = RAW, version: int = 1) -> CID:
    return CID.for_block(codec, data, version)


async def test_a_provided_cid_is_found_as_the_providers_address(world: World) -> None:
    (a, a_addr), _, (c, _) = await line(world)
    cid = cid_of(b"root block")
    await a.provide(cid)
    assert await c.find_providers(cid, 5) == [a_addr]


async def test_a_participant_never_finds_itself(world: World) -> None:
    (a, _), _, _ = await line(world)
    cid = cid_of(b"mine")
    await a.provide(cid)
    assert await a.find_providers(cid, 5) == []


async def test_nobody_provides_unknown_content(world: World) -> None:
    _, _, (c, _) = await line(world)
    assert await c.find_providers(cid_of(b"nobody"), 5) == []


async def test_v0_and_v1_cids_of_the_same_block_share_providers(world: World) -> None:
    (a, a_addr), _, (c, _) = await line(world)
    v0 = cid_of(b"\x0a\x02\x08\x01", codec=DAG_PB, version=0)
    await a.provide(v0)
    assert await c.find_providers(v0.to_v1(), 5) == [a_addr]


async def test_several_providers_are_found_up_to_the_limit(world: World) -> None:
    (a, a_addr), (b, b_addr), (c, _) = await line(world)
    cid = cid_of(b"popular")
    await a.provide(cid)
    await b.provide(cid)
    assert sorted(await c.find_providers(cid, 5)) == sorted([a_addr, b_addr])
    one = await c.find_providers(cid, 1)
    assert len(one) == 1
    assert one[0] in (a_addr, b_addr)
    assert await c.find_providers(cid, 0) == []
