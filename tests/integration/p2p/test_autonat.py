"""AutoNAT with real hosts on loopback (127.0.0.0/8 listed in public_ranges, as the test bed
lists 198.18.0.0/15): a peer learns it is reachable only from a real dial-back, and a peer whose
announced address does not answer learns it is not, with the reason. The peer asked dials back
on a NEW connection: with py-libp2p's own AutoNATService, which reuses the connection the
request came on, the unreachable peer was told it is reachable."""

from __future__ import annotations

import socket

import pytest

from peer.p2p.host import P2PHost
from peer.p2p.testing import PeerFactory, wait_until

pytestmark = pytest.mark.integration
LOOPBACK = ["127.0.0.0/8"]


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _state(host: P2PHost, wanted: str) -> bool:
    return bool(host.reachability()["state"] == wanted)


async def test_reachability_comes_from_dial_backs_only(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend = PeerFactory("real", tmp_path_factory.mktemp("autonat"))
    try:
        servers = [(await backend.local(public_ranges=LOOPBACK)).network for _ in range(2)]
        reachable = (await backend.local(public_ranges=LOOPBACK)).network
        hidden_addr = f"/ip4/127.0.0.1/tcp/{dead_port()}"
        hidden = (await backend.local(public_ranges=LOOPBACK, announce_addrs=[hidden_addr])).network
        assert reachable.reachability()["summary"] == "not known yet"
        for client in (reachable, hidden):
            for server in servers:
                await client.connect(server.addrs[0])

        await wait_until(lambda: _state(reachable, "public"), 30, "a dial-back to the peer")
        assert reachable.reachability()["summary"] == "reachable"
        await wait_until(lambda: _state(hidden, "private"), 60, "two failed dial-backs")
        seen = hidden.reachability()
        assert seen["summary"] == "behind NAT, unreachable"
        assert "failed" in str(seen["reason"])
        assert "no relay" in str(seen["reason"])
        assert seen["announced"][0].startswith(hidden_addr)
        assert sum(s.reachability()["dialbacks_served"] for s in servers) >= 1
    finally:
        await backend.close()


async def test_without_public_ranges_loopback_is_never_dialled_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend = PeerFactory("real", tmp_path_factory.mktemp("autonat-private"))
    try:
        servers = [(await backend.local()).network for _ in range(2)]
        client = (await backend.local()).network
        for server in servers:
            await client.connect(server.addrs[0])
        await wait_until(lambda: _state(client, "private"), 30, "two refusals")
        assert "no public address" in str(client.reachability()["reason"])
        assert sum(s.reachability()["dialbacks_served"] for s in servers) == 0
    finally:
        await backend.close()
