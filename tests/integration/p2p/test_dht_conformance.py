"""The DHT half of the p2p facade (``peer.p2p.ports.Routing`` and connect-by-peer-id), one
suite for the in-memory fake and for real py-libp2p hosts (remotes in their own processes).

Topology of most tests: A -- B -- C, where A and C know only B."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from peer.p2p import errors
from peer.p2p.testing import Peer, PeerFactory, wait_until
from peer.p2p.worker import WorkerProcess


def key_of(data: bytes) -> str:
    """A sha2-256 multihash (what the content-routing adapter uses as the DHT key), as hex."""
    return (b"\x12\x20" + hashlib.sha256(data).digest()).hex()


async def line(backend: PeerFactory) -> tuple[Peer, Peer, Peer]:
    b = await backend.local()
    a, c = await backend.remote(), await backend.remote()
    b_addr = (await b.info())["addrs"][0]
    await a.connect(b_addr)
    await c.connect(b_addr)
    return a, b, c


async def test_a_provider_is_found_by_a_peer_that_knows_only_a_common_neighbour(
    backend: PeerFactory,
) -> None:
    a, _b, c = await line(backend)
    a_info = await a.info()
    key = key_of(b"clip root")

    assert await a.provide(key) >= 1  # at least B stored the record

    found = await c.find_providers(key, 5)
    assert [f["peer_id"] for f in found] == [a_info["peer_id"]]
    assert all(addr.endswith(f"/p2p/{a_info['peer_id']}") for addr in found[0]["addrs"])
    assert found[0]["addrs"][0].count("/p2p/") == 1
    # the answer is dialable
    assert await c.connect(found[0]["addrs"][0]) == a_info["peer_id"]
    assert a_info["peer_id"] in await c.peers()


async def test_a_peer_is_found_and_dialled_by_its_id_alone(backend: PeerFactory) -> None:
    a, _b, c = await line(backend)
    a_id = (await a.info())["peer_id"]

    found = await c.find_peer(a_id)
    assert found is not None
    assert found["peer_id"] == a_id
    assert all(addr.endswith(f"/p2p/{a_id}") for addr in found["addrs"])

    assert await c.connect(a_id) == a_id
    await wait_until(lambda: _has_peer(c, a_id), what="C connected to A")


async def _has_peer(peer: Peer, peer_id: str) -> bool:
    return peer_id in await peer.peers()


async def test_unknown_content_has_no_providers_and_own_records_are_not_returned(
    backend: PeerFactory,
) -> None:
    a, _b, c = await line(backend)
    key = key_of(b"only mine")
    await a.provide(key)

    assert await a.find_providers(key, 5) == []  # we never get ourselves back
    assert await c.find_providers(key_of(b"nobody has this"), 5) == []


async def test_every_provider_is_found_up_to_the_limit(backend: PeerFactory) -> None:
    a, b, c = await line(backend)
    key = key_of(b"popular")
    ids = {(await a.info())["peer_id"], (await b.info())["peer_id"]}
    await a.provide(key)
    await b.provide(key)

    everyone = await c.find_providers(key, 5)
    assert {f["peer_id"] for f in everyone} == ids
    assert len(await c.find_providers(key, 1)) == 1


async def test_a_lone_peer_provides_to_nobody_without_failing(backend: PeerFactory) -> None:
    lone = await backend.local()
    assert await lone.provide(key_of(b"lonely")) == 0
    assert await lone.find_providers(key_of(b"lonely"), 5) == []


async def test_an_unknown_peer_id_is_not_found(backend: PeerFactory) -> None:
    _a, _b, c = await line(backend)
    stranger = await backend.local()  # running, but connected to nobody
    stranger_id = (await stranger.info())["peer_id"]
    assert await c.find_peer(stranger_id) is None
    with pytest.raises(errors.PeerNotFoundError):
        await c.connect(stranger_id)


async def test_with_the_dht_off_lookups_fail_clearly(backend: PeerFactory) -> None:
    off = await backend.local(dht="off")
    other = await backend.remote()
    await off.connect((await other.info())["addrs"][0])
    with pytest.raises(errors.DhtUnavailableError):
        await off.find_providers(key_of(b"x"), 5)
    with pytest.raises(errors.DhtUnavailableError):
        await off.provide(key_of(b"x"))
    with pytest.raises(errors.P2PError):
        await off.connect((await other.info())["peer_id"])


async def test_a_burst_of_provides_all_reach_the_neighbour(backend: PeerFactory) -> None:
    b = await backend.local()
    a = await backend.remote()
    b_addr = (await b.info())["addrs"][0]
    await a.connect(b_addr)
    keys = [key_of(f"clip {i}".encode()) for i in range(25)]  # five clips' worth of roots
    for key in keys:
        await a.provide(key)
    a_id = (await a.info())["peer_id"]
    await asyncio.sleep(1)  # ADD_PROVIDER is fire-and-forget: let the last one land
    await _stop(a)  # records outlive their provider: only B can answer now
    c = await backend.remote()
    await c.connect(b_addr)
    for key in keys:
        assert [f["peer_id"] for f in await c.find_providers(key, 1)] == [a_id]


async def _stop(peer: Peer) -> None:
    if isinstance(peer, WorkerProcess):
        await peer.stop()
    else:
        await peer.network.stop()  # type: ignore[attr-defined]
