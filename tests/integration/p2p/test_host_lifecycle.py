"""Lifecycle of the real host: readiness, identity persistence, start errors, and a stop
that leaves no thread, socket or child process behind (counted, not assumed)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from peer.p2p import GossipOptions, HostOptions, P2PHost, errors
from peer.p2p.worker import ScriptedPeer, WorkerProcess

pytestmark = pytest.mark.integration


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def options(path: Path, **kw: Any) -> HostOptions:
    gossip = GossipOptions(exempt_loopback_from_colocation=True)
    return HostOptions(identity_path=path, gossip=gossip, **kw)


async def test_stop_leaves_no_thread_socket_or_process_behind(tmp_path: Path) -> None:
    threads_before = {t.ident for t in threading.enumerate()}
    sockets_before = open_sockets()

    remote = WorkerProcess(tmp_path / "remote.key")
    await remote.start()
    host = P2PHost(options(tmp_path / "local.key"))
    await host.start()
    assert host.running
    assert sum(1 for t in threading.enumerate() if t.name == "toktok-p2p") == 1
    peer = ScriptedPeer(host)
    await peer.subscribe("t")
    await host.serve("/t/echo/1", lambda _peer, data: _echo(data))
    await host.connect(remote.addrs[0])
    await remote.subscribe("t")
    await remote.publish("t", b"hello".hex())
    assert await remote.request(host.peer_id, "/t/echo/1", b"x".hex()) == b"x".hex()
    assert open_sockets() > sockets_before
    pid = remote.pid
    assert pid is not None

    await peer.close()
    await host.stop()
    await remote.stop()

    assert not host.running
    left = [t.name for t in threading.enumerate() if t.ident not in threads_before]
    assert left == [], f"threads left behind: {left}"
    assert open_sockets() == sockets_before
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(errors.HostNotRunningError):
        await host.publish("t", b"late")


async def _echo(data: bytes) -> bytes:
    return data


async def test_identity_is_created_once_and_reused(tmp_path: Path) -> None:
    key = tmp_path / "p2p" / "identity.key"
    async with P2PHost(options(key)) as first:
        first_id = first.peer_id
        assert first.addrs
        assert all(a.endswith(f"/p2p/{first_id}") for a in first.addrs)
        assert all(a.startswith("/ip4/127.0.0.1/tcp/") for a in first.addrs)
    assert key.stat().st_mode & 0o777 == 0o600
    async with P2PHost(options(key)) as second:
        assert second.peer_id == first_id


async def test_corrupt_identity_fails_start_clearly(tmp_path: Path) -> None:
    key = tmp_path / "identity.key"
    key.write_bytes(b"not a key")
    host = P2PHost(options(key))
    with pytest.raises(errors.IdentityError, match="corrupt"):
        await host.start()
    assert key.read_bytes() == b"not a key"  # nothing overwritten
    assert not any(t.name == "toktok-p2p" for t in threading.enumerate())


async def test_unusable_listen_address_fails_start_and_joins_the_thread(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is not an address of this machine: bind fails, nothing is sent
    host = P2PHost(options(tmp_path / "a.key", listen_addrs=("/ip4/192.0.2.1/tcp/0",)))
    with pytest.raises(errors.P2PError):
        await host.start()
    assert not host.running
    assert not any(t.name == "toktok-p2p" for t in threading.enumerate())


async def test_invalid_listen_address_is_rejected_before_starting(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidMultiaddrError):
        P2PHost(options(tmp_path / "a.key", listen_addrs=("127.0.0.1:4001",)))


async def test_bootstrap_peers_are_dialled_at_start(tmp_path: Path) -> None:
    async with P2PHost(options(tmp_path / "a.key")) as first:
        second = P2PHost(options(tmp_path / "b.key", bootstrap=(first.addrs[0],)))
        async with second:
            for _ in range(100):
                if [p.peer_id for p in second.peers()] == [first.peer_id]:
                    break
                await asyncio.sleep(0.05)
            assert [p.peer_id for p in second.peers()] == [first.peer_id]


async def test_an_inbound_peer_is_listed_at_its_listen_address(tmp_path: Path) -> None:
    # At connect time we know only the dialler's source port (temporary); identify tells its
    # listen address, which is what peers() (and so the peer book) must keep.
    async with P2PHost(options(tmp_path / "a.key")) as listener:
        dialler = P2PHost(options(tmp_path / "b.key"))
        async with dialler:
            await dialler.connect(listener.addrs[0])
            listen_addr = dialler.addrs[0].split("/p2p/")[0]

            def addrs_seen() -> list[str]:
                return [
                    a for p in listener.peers() if p.peer_id == dialler.peer_id for a in p.addrs
                ]

            for _ in range(200):
                if any(a.startswith(listen_addr) for a in addrs_seen()):
                    break
                await asyncio.sleep(0.05)
            assert any(a.startswith(listen_addr) for a in addrs_seen()), addrs_seen()
