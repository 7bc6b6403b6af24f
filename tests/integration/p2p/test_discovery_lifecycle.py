"""Discovery on the real host: mDNS off starts nothing, mDNS on builds and starts the service
(faked: no multicast packet) and dials what it reports; a host running the DHT, a relay
reservation and mDNS stops without leaving a thread, socket or process behind."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr

from peer.p2p import GossipOptions, HostOptions, P2PHost
from peer.p2p.testing import wait_until
from peer.p2p.worker import WorkerProcess

pytestmark = pytest.mark.integration


class FakeDiscovery:
    """Stands in for py-libp2p's zeroconf MDNSDiscovery (which would multicast)."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


class Recorder:
    def __init__(self) -> None:
        self.built: list[FakeDiscovery] = []

    def __call__(self, host: Any) -> FakeDiscovery:
        self.built.append(FakeDiscovery(host))
        return self.built[-1]


def options(path: Path, **kw: Any) -> HostOptions:
    return HostOptions(
        identity_path=path, gossip=GossipOptions(exempt_loopback_from_colocation=True), **kw
    )


def socket_inodes() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def udp_sockets_of_this_process() -> list[str]:
    """Local addresses of UDP sockets this process holds (mDNS would hold *:5353)."""
    mine = socket_inodes()
    out = []
    for table in ("/proc/self/net/udp", "/proc/self/net/udp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                if fields[9] in mine:
                    out.append(fields[1])
    return out


async def test_mdns_off_opens_no_multicast_socket_and_builds_nothing(tmp_path: Path) -> None:
    recorder = Recorder()
    host = P2PHost(options(tmp_path / "id.key"), mdns_factory=recorder)
    async with host:
        assert recorder.built == []
        assert host.discovery_stats()["mdns"] is False
        assert udp_sockets_of_this_process() == []
        assert not [t.name for t in threading.enumerate() if "zeroconf" in t.name.lower()]


async def test_mdns_on_starts_the_service_and_dials_the_peers_it_reports(tmp_path: Path) -> None:
    remote = WorkerProcess(tmp_path / "remote.key")
    await remote.start()
    recorder = Recorder()
    host = P2PHost(options(tmp_path / "id.key", mdns=True), mdns_factory=recorder)
    try:
        async with host:
            assert len(recorder.built) == 1
            service = recorder.built[0]
            assert service.calls == ["start"]
            # built for this host (the real factory announces its TCP port from here)
            port = host.addrs[0].split("/tcp/")[1].split("/")[0]
            assert any(f"/tcp/{port}" in str(a) for a in service.host.get_transport_addrs())
            assert host.discovery_stats()["mdns"] is True
            # what zeroconf's thread does when it sees a peer on the LAN
            peerDiscovery.emit_peer_discovered(info_from_p2p_addr(Multiaddr(remote.addrs[0])))

            async def connected() -> bool:
                return remote.peer_id in [p.peer_id for p in host.peers()]

            await wait_until(connected, what="the mDNS-discovered peer to be dialled")
            assert host.discovery_stats()["mdns_discovered"] == 1
        assert service.calls == ["start", "stop"]
    finally:
        await remote.stop()


async def test_stop_with_dht_relay_and_mdns_leaves_nothing_behind(tmp_path: Path) -> None:
    threads_before = {t.ident for t in threading.enumerate()}
    sockets_before = len(socket_inodes())
    relay = WorkerProcess(tmp_path / "relay.key", {"relay_service": True})
    other = WorkerProcess(tmp_path / "other.key")
    await relay.start()
    await other.start()
    host = P2PHost(
        options(
            tmp_path / "id.key",
            relays=(relay.addrs[0],),
            relay_check_interval=0.2,
            mdns=True,
            reachability="private",  # on loopback AutoNAT never says private: hold at once
        ),
        mdns_factory=Recorder(),
    )
    await host.start()

    async def reserved() -> bool:
        return any("/p2p-circuit/" in a for a in host.addrs)

    await wait_until(reserved, what="a reservation on the relay")
    await host.connect(other.addrs[0])
    key = b"\x12\x20" + hashlib.sha256(b"leak check").digest()
    assert await host.provide(key) >= 1
    assert await other.find_providers(key.hex(), 5)
    pids = [relay.pid, other.pid]

    await host.stop()
    await relay.stop()
    await other.stop()

    def left() -> list[str]:
        return [t.name for t in threading.enumerate() if t.ident not in threads_before]

    async def no_thread_left() -> bool:  # asyncio's waitpid threads end just after the wait
        return left() == []

    try:
        await wait_until(no_thread_left, timeout=3, what="threads to end")
    except AssertionError:
        raise AssertionError(f"threads left behind: {left()}") from None
    assert len(socket_inodes()) == sockets_before
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
