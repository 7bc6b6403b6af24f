"""Request/response sessions (/toktok/rr/1.0.0) on real py-libp2p hosts: one stream carries
many exchanges, and peers without sessions (as older code) still work in both directions.
(Every answer and failure on the session path itself: ``test_conformance``'s real backend.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from peer.p2p import P2PHost, errors
from peer.p2p.testing import PeerFactory
from peer.p2p.worker import ScriptedPeer

pytestmark = pytest.mark.integration


def _idle_session_streams(host: P2PHost, peer: str) -> int:
    pool = host._streams._sessions if host._streams is not None else None
    if pool is None:
        return 0
    return sum(len(idle) for key, idle in pool.idle.items() if key.to_base58() == peer)


async def _checks(requester: ScriptedPeer, server_id: str) -> None:
    net = requester.network
    for n in range(3):
        assert await net.request(server_id, "/t/echo/1", b"ping %d" % n) == b"ping %d" % n
    with pytest.raises(errors.RemoteHandlerError, match="handler exploded"):
        await net.request(server_id, "/t/error/1", b"x")
    with pytest.raises(errors.MessageTooLargeError):
        await net.request(server_id, "/t/echo/1", b"x" * 1001)
    with pytest.raises(errors.ProtocolNotSupportedError):
        await net.request(server_id, "/t/missing/1", b"x")
    answers = await asyncio.gather(
        *(net.request(server_id, "/t/echo/1", b"%d" % n) for n in range(4))
    )
    assert answers == [b"%d" % n for n in range(4)]


async def test_peers_with_and_without_sessions_answer_each_other_alike(tmp_path: Path) -> None:
    factory = PeerFactory("real", tmp_path)  # hosts in this process: each in its trio thread
    try:
        new = await factory.local(max_request_size=1000)
        old = await factory.local(max_request_size=1000, request_sessions=False)
        server_new = await factory.local(max_request_size=1000)
        server_old = await factory.local(max_request_size=1000, request_sessions=False)
        for peer in (new, old, server_new, server_old):
            await peer.serve("/t/echo/1", "echo")
            await peer.serve("/t/error/1", "error")
        for server in (server_new, server_old):
            await new.connect(server.network.addrs[0])
            await old.connect(server.network.addrs[0])
        new_net = new.network
        assert isinstance(new_net, P2PHost)
        new_id, server_new_id, server_old_id = (
            p.network.peer_id for p in (new, server_new, server_old)
        )

        await _checks(new, server_new_id)  # sessions both sides
        await _checks(new, server_old_id)  # our requests to an older server
        await _checks(old, server_new_id)  # an older requester to our server
        # the servers ask back: an older requester, and one with sessions, to our server
        assert await server_old.request(new_id, "/t/echo/1", b"hi".hex()) == b"hi".hex()
        assert await server_new.request(new_id, "/t/echo/1", b"hi".hex()) == b"hi".hex()

        # sequential requests reused one stream; the concurrent ones needed at most four
        assert 1 <= _idle_session_streams(new_net, server_new_id) <= 4
        assert _idle_session_streams(new_net, server_old_id) == 0
    finally:
        await factory.close()
