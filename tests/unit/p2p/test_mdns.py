"""mDNS wiring (``peer.p2p.mdns.MdnsNode``) with the zeroconf service faked: no multicast
packet is ever sent. What is NOT tested here or anywhere: py-libp2p's real zeroconf service
(constructing it opens multicast sockets and starts browsing, which network hygiene forbids)."""

from __future__ import annotations

from typing import Any

import trio
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo

from peer.p2p.mdns import MdnsNode


class FakeDiscovery:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


class StubNetwork:
    def __init__(self) -> None:
        self.connections: dict[ID, list[object]] = {}


class StubHost:
    def __init__(self) -> None:
        self.id = ID.from_pubkey(create_new_key_pair().public_key)
        self.network = StubNetwork()

    def get_id(self) -> ID:
        return self.id

    def get_network(self) -> StubNetwork:
        return self.network


def a_peer() -> PeerInfo:
    return PeerInfo(ID.from_pubkey(create_new_key_pair().public_key), [])


def test_discovered_peers_are_dialled_once_and_nothing_after_stop() -> None:
    host = StubHost()
    discovery = FakeDiscovery()
    built: list[Any] = []
    dialled: list[ID] = []

    def factory(h: Any) -> FakeDiscovery:
        built.append(h)
        return discovery

    async def connect(info: PeerInfo) -> None:
        dialled.append(info.peer_id)

    async def main() -> None:
        token = trio.lowlevel.current_trio_token()
        node = MdnsNode(host, token.run_sync_soon, connect, factory)  # type: ignore[arg-type]
        assert built == []  # constructing the node opens nothing
        async with trio.open_nursery() as nursery:
            node.start(nursery)
            assert built == [host]
            assert discovery.calls == ["start"]
            assert node.running
            other, connected = a_peer(), a_peer()
            host.network.connections[connected.peer_id] = [object()]
            # zeroconf reports from its own thread; the node hops into trio
            await trio.to_thread.run_sync(peerDiscovery.emit_peer_discovered, other)
            await trio.to_thread.run_sync(peerDiscovery.emit_peer_discovered, other)
            peerDiscovery.emit_peer_discovered(PeerInfo(host.id, []))  # ourselves
            peerDiscovery.emit_peer_discovered(connected)  # already connected
            await trio.sleep(0.05)
            assert dialled == [other.peer_id]
            assert node.discovered == 1
            node.stop()
            assert discovery.calls == ["start", "stop"]
            assert not node.running
            peerDiscovery.emit_peer_discovered(a_peer())
            await trio.sleep(0.05)
            assert dialled == [other.peer_id]

    trio.run(main)


def test_a_failed_dial_may_be_retried_when_the_peer_announces_itself_again() -> None:
    host = StubHost()
    attempts: list[ID] = []

    async def connect(info: PeerInfo) -> None:
        attempts.append(info.peer_id)
        raise ConnectionError("gone")

    async def main() -> None:
        token = trio.lowlevel.current_trio_token()
        node = MdnsNode(host, token.run_sync_soon, connect, lambda h: FakeDiscovery())  # type: ignore[arg-type]
        async with trio.open_nursery() as nursery:
            node.start(nursery)
            peer = a_peer()
            peerDiscovery.emit_peer_discovered(peer)
            await trio.sleep(0.05)
            peerDiscovery.emit_peer_discovered(peer)
            await trio.sleep(0.05)
            node.stop()
        assert attempts == [peer.peer_id, peer.peer_id]

    trio.run(main)
