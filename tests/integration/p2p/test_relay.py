"""Circuit relay v2 with real hosts, each in its own process (loopback only): X listens on no
address at all (as behind a NAT) and holds a reservation on relay R; Y dials X through R and
pubsub and request/response work over the relayed connection, both ways. R grants one
reservation per IP address here, so a second peer on 127.0.0.1 is refused one."""

from __future__ import annotations

import pytest

from peer.p2p import errors
from peer.p2p.testing import Peer, PeerFactory, ensure_flow, wait_until

pytestmark = pytest.mark.integration
TOPIC = "toktok/test/relay"


async def test_a_peer_behind_a_relay_is_reachable_only_through_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend = PeerFactory("real", tmp_path_factory.mktemp("relay"))
    try:
        relay = await backend.remote(relay_service=True, relay_max_reservations_per_ip=1)
        r_info = await relay.info()
        x = await backend.remote(listen_addrs=[], relays=[r_info["addrs"][0]])
        y = await backend.remote()
        x_id = (await x.info())["peer_id"]

        async def reserved() -> bool:
            return any("/p2p-circuit/" in a for a in (await x.info())["addrs"])

        await wait_until(reserved, what="X's reservation on R")
        x_addrs = (await x.info())["addrs"]
        assert x_addrs == [f"{r_info['addrs'][0]}/p2p-circuit/p2p/{x_id}"]  # no direct address

        for peer in (x, y):
            await peer.subscribe(TOPIC)
            await peer.serve("/t/echo/1", "echo")
        assert await y.connect(x_addrs[0]) == x_id
        assert x_id in await y.peers()

        await ensure_flow(y, [x], TOPIC)
        await ensure_flow(x, [y], TOPIC)
        await y.publish(TOPIC, b"over the relay".hex())
        await wait_until(lambda: _got(x, b"over the relay"), what="the message relayed to X")
        y_id = (await y.info())["peer_id"]
        assert await y.request(x_id, "/t/echo/1", b"ping".hex()) == b"ping".hex()
        assert await x.request(y_id, "/t/echo/1", b"pong".hex()) == b"pong".hex()

        z = await backend.remote(listen_addrs=[], relays=[r_info["addrs"][0]])

        async def refused() -> bool:
            return bool((await relay.info())["reachability"]["relay_service"]["refused"] >= 1)

        await wait_until(refused, what="R refusing Z's reservation (the one per IP is X's)")
        assert not any("/p2p-circuit/" in a for a in (await z.info())["addrs"])
        assert (await relay.info())["reachability"]["relay_service"]["reservations"] == 1
    finally:
        await backend.close()


async def _got(peer: Peer, payload: bytes) -> bool:
    return any(bytes.fromhex(m["data"]) == payload for m in await peer.received(TOPIC))


async def test_a_relay_address_without_the_relay_client_is_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend = PeerFactory("real", tmp_path_factory.mktemp("norelay"))
    try:
        local = await backend.local(relay_client=False)
        relay = await backend.remote(relay_service=True, relay_max_reservations_per_ip=1)
        circuit = (
            f"{(await relay.info())['addrs'][0]}/p2p-circuit/p2p/{(await local.info())['peer_id']}"
        )
        with pytest.raises(errors.DialError):
            await local.network.connect(circuit)
    finally:
        await backend.close()
