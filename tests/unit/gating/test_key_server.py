"""The key server's checks, one refusal per failure, in the normative order."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account
from eth_utils.address import to_checksum_address
from support.gating_world import CHAIN_ID, MIN, OTHER_KEY, TOKEN, World

from peer.gating import protocol as proto
from peer.gating.errors import KeyRefusedError
from peer.gating.nonces import NonceOptions
from peer.gating.ports import GatedPost
from peer.gating.server import KeyServer, KeyServerOptions
from tokens import siwe
from tokens.errors import ChainUnavailableError


async def nonce(world: World, peer: str | None = None) -> str:
    raw = await world.server.handle(peer or world.holder_host.peer_id, b'{"v":1,"op":"nonce"}')
    grant = proto.decode_response(raw)
    assert isinstance(grant, proto.NonceGrant)
    return grant.nonce


def message(world: World, nonce_value: str, **changes: Any) -> tuple[str, X25519PrivateKey]:
    eph = X25519PrivateKey.generate()
    now = datetime.fromtimestamp(world.clock.now, UTC)
    res = proto.Resources(world.post.post_id, world.server_host.peer_id, proto.public_bytes(eph))
    fields: dict[str, Any] = {
        "domain": "toktok",
        "address": world.holder.address,
        "uri": "toktok:post:x",
        "chain_id": CHAIN_ID,
        "nonce": nonce_value,
        "issued_at": siwe.format_time(now),
        "expiration_time": siwe.format_time(now + timedelta(minutes=5)),
        "resources": res.to_tuple(),
    }
    fields.update(changes)
    return siwe.SiweMessage(**fields).to_text(), eph


async def send(
    world: World, text: str, key: str | None = None, post: bytes | None = None
) -> proto.Response:
    sig = siwe.sign(text, key or world.holder.key)
    req = proto.KeyRequest(post or world.post.post_id, text, sig)
    raw = await world.server.handle(world.holder_host.peer_id, proto.encode_key_request(req))
    return proto.decode_response(raw)


async def refused(world: World, text: str, **kw: Any) -> str:
    response = await send(world, text, **kw)
    assert isinstance(response, KeyRefusedError), response
    return response.code


async def test_a_holder_gets_the_key_sealed_to_its_ephemeral_key(world: World) -> None:
    world.give_threshold()
    text, eph = message(world, await nonce(world))
    response = await send(world, text)
    assert isinstance(response, proto.SealedKey)
    assert proto.open_sealed(eph, response) == world.clip.key
    assert response.clip == world.post.manifest
    assert world.server.released == 1


async def test_a_non_holder_is_refused(world: World) -> None:
    text, _ = message(world, await nonce(world))
    assert await refused(world, text) == "not_holder"
    assert world.server.refused["not_holder"] == 1


async def test_a_buy_within_the_lag_is_refused(world: World) -> None:
    world.chain.set_balance(TOKEN, world.holder.address, MIN)
    world.chain.mine(1)
    text, _ = message(world, await nonce(world))
    assert await refused(world, text) == "not_holder"


async def test_a_holder_who_sold_is_refused_at_once(world: World) -> None:
    world.give_threshold()
    world.chain.set_balance(TOKEN, world.holder.address, MIN - 1)
    text, _ = message(world, await nonce(world))
    assert await refused(world, text) == "not_holder"


async def test_a_reused_nonce_is_refused(world: World) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world))
    assert isinstance(await send(world, text), proto.SealedKey)
    assert await refused(world, text) == "nonce"


async def test_a_nonce_is_consumed_even_when_a_later_check_fails(world: World) -> None:
    n = await nonce(world)
    text, _ = message(world, n, resources=("toktok:post:nope",))
    assert await refused(world, text) == "resources"
    world.give_threshold()
    good, _ = message(world, n)
    assert await refused(world, good) == "nonce"


async def test_an_invented_nonce_is_refused(world: World) -> None:
    text, _ = message(world, "abcdefghijklmnopqrstuvwx")
    assert await refused(world, text) == "nonce"


async def test_an_expired_nonce_is_refused(world: World) -> None:
    n = await nonce(world)
    world.clock.now += 121
    text, _ = message(world, n)
    assert await refused(world, text) == "nonce"


async def test_a_nonce_issued_to_another_peer_is_refused(world: World) -> None:
    n = await nonce(world, peer="12D3KooWAbcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRS")
    text, _ = message(world, n)
    assert await refused(world, text) == "nonce"


async def test_an_expired_message_is_refused(world: World) -> None:
    n = await nonce(world)
    now = datetime.fromtimestamp(world.clock.now, UTC)
    text, _ = message(
        world,
        n,
        issued_at=siwe.format_time(now - timedelta(minutes=8)),
        expiration_time=siwe.format_time(now - timedelta(minutes=1)),
    )
    assert await refused(world, text) == "expired"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"domain": "example.com"}, "domain"),
        ({"chain_id": 1}, "chain"),
        ({"expiration_time": None}, "no_expiration"),
        ({"issued_at": "2030-01-01T00:00:00Z", "expiration_time": "2030-01-01T00:05:00Z"},
         "issued_at"),
        ({"expiration_time": "2030-01-01T00:00:00Z"}, "lifetime"),
        ({"not_before": "2030-01-01T00:00:00Z"}, "not_before"),
        ({"resources": ()}, "resources"),
        ({"resources": ("toktok:post:0x00",)}, "resources"),
    ],
)  # fmt: skip
async def test_bad_message_fields_are_refused_with_their_code(
    world: World, change: dict[str, Any], code: str
) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world), **change)
    assert await refused(world, text) == code


async def test_resources_in_another_order_are_refused(world: World) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world))
    m = siwe.parse(text)
    swapped = dataclasses.replace(m, resources=(m.resources[1], m.resources[0], m.resources[2]))
    assert await refused(world, swapped.to_text()) == "resources"


async def test_an_extra_resource_is_refused(world: World) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world))
    m = siwe.parse(text)
    extra = dataclasses.replace(m, resources=(*m.resources, "toktok:extra"))
    assert await refused(world, extra.to_text()) == "resources"


async def test_a_message_for_another_server_is_refused(world: World) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world))
    m = siwe.parse(text)
    other = "12D3KooWAbcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRS"
    res = (m.resources[0], f"toktok:server:{other}", m.resources[2])
    assert await refused(world, dataclasses.replace(m, resources=res).to_text()) == "wrong_server"


async def test_a_message_for_another_post_is_refused(world: World) -> None:
    world.give_threshold()
    other = dataclasses.replace(world.post, post_id=b"\x77" * 32)
    world.posts.add(other)
    text, _ = message(world, await nonce(world))
    assert await refused(world, text, post=other.post_id) == "wrong_post"


async def test_a_signature_by_another_key_is_refused(world: World) -> None:
    world.give_threshold()
    text, _ = message(world, await nonce(world))
    assert await refused(world, text, key=OTHER_KEY) == "signature"


async def test_a_garbage_message_is_a_syntax_refusal(world: World) -> None:
    assert await refused(world, "hello") == "syntax"


async def test_an_undecodable_request_is_malformed(world: World) -> None:
    raw = await world.server.handle(world.holder_host.peer_id, b'{"v":1,"op":"key"}')
    response = proto.decode_response(raw)
    assert isinstance(response, KeyRefusedError)
    assert response.code == "malformed"


async def test_the_chain_being_down_fails_closed(world: World) -> None:
    world.give_threshold()
    world.chain.down = True
    text, _ = message(world, await nonce(world))
    assert await refused(world, text) == "chain_unavailable"
    assert world.server.released == 0


async def test_unknown_free_and_keyless_posts_are_refused(world: World) -> None:
    world.give_threshold()
    unknown = b"\x55" * 32
    free = GatedPost(b"\x66" * 32, world.post.creator, TOKEN, world.post.manifest, False, 0)
    keyless = dataclasses.replace(world.post, post_id=b"\x88" * 32, manifest="bafkreinokeyhere1")
    world.posts.add(free)
    world.posts.add(keyless)
    for post_id, code in ((unknown, "unknown_post"), (free.post_id, "not_premium"),
                          (keyless.post_id, "no_key")):  # fmt: skip
        eph = X25519PrivateKey.generate()
        res = proto.Resources(post_id, world.server_host.peer_id, proto.public_bytes(eph))
        text, _ = message(world, await nonce(world), resources=res.to_tuple())
        assert await refused(world, text, post=post_id) == code


async def test_nonce_requests_are_rate_limited_per_peer(world: World) -> None:
    server = KeyServer(
        world.server_host, world.creator_keys, world.posts, world.checker, CHAIN_ID,
        clock=world.clock, options=KeyServerOptions(nonces=NonceOptions(rate=3, window=10)),
    )  # fmt: skip
    peer = world.holder_host.peer_id
    codes = []
    for _ in range(4):
        resp = proto.decode_response(await server.handle(peer, proto.encode_nonce_request()))
        codes.append(resp.code if isinstance(resp, KeyRefusedError) else "ok")
    assert codes == ["ok", "ok", "ok", "rate_limited"]
    other = proto.decode_response(await server.handle("12D3KooWAnother", b'{"v":1,"op":"nonce"}'))
    assert isinstance(other, proto.NonceGrant)
    world.clock.now += 11
    again = proto.decode_response(await server.handle(peer, proto.encode_nonce_request()))
    assert isinstance(again, proto.NonceGrant)


class Wallet1271:
    """A contract wallet at ``address`` that accepts signatures by ``owner`` (EIP-1271)."""

    def __init__(self, address: str, owner: str, head: int) -> None:
        self.address, self.owner, self.head = address, owner, head
        self.blocks: list[int] = []
        self.down = False

    async def block_number(self) -> int:
        return self.head

    async def is_valid_signature(
        self, account: str, digest: bytes, signature: bytes, block: int
    ) -> bool:
        if self.down:
            raise ChainUnavailableError("rpc down")
        self.blocks.append(block)
        signer = Account._recover_hash(digest, signature=signature)
        return account.lower() == self.address.lower() and signer == self.owner


async def test_a_contract_wallet_is_checked_with_eip1271_at_the_lagged_block(world: World) -> None:
    wallet_address = "0x" + "ab" * 20
    owner = Account.from_key(OTHER_KEY)
    wallet = Wallet1271(wallet_address, owner.address, world.chain.head)
    server = KeyServer(
        world.server_host, world.creator_keys, world.posts, world.checker, CHAIN_ID,
        signatures=wallet, clock=world.clock,
    )  # fmt: skip
    world.chain.set_balance(TOKEN, wallet_address, MIN)
    world.chain.mine(2)
    wallet.head = world.chain.head
    peer = world.holder_host.peer_id

    async def ask(key: str) -> proto.Response:
        grant = proto.decode_response(await server.handle(peer, proto.encode_nonce_request()))
        assert isinstance(grant, proto.NonceGrant)
        text, _ = message(world, grant.nonce, address=to_checksum_address(wallet_address))
        req = proto.KeyRequest(world.post.post_id, text, siwe.sign(text, key))
        return proto.decode_response(await server.handle(peer, proto.encode_key_request(req)))

    assert isinstance(await ask(OTHER_KEY), proto.SealedKey)
    assert wallet.blocks == [world.chain.head - 2]
    refused_resp = await ask(world.holder.key.hex())
    assert isinstance(refused_resp, KeyRefusedError)
    assert refused_resp.code == "signature"
    wallet.down = True
    down = await ask(OTHER_KEY)
    assert isinstance(down, KeyRefusedError)
    assert down.code == "chain_unavailable"


async def test_one_holder_address_is_served_to_at_most_the_daily_cap_of_peers(
    world: World,
) -> None:
    world.give_threshold()
    cap = world.server.ledger.peers_per_day
    peers = [f"12D3KooWPeer{i:02d}" + "x" * 40 for i in range(cap + 1)]
    codes = []
    for peer in peers:
        text, _ = message(world, await nonce(world, peer))
        req = proto.KeyRequest(world.post.post_id, text, siwe.sign(text, world.holder.key))
        answer = proto.decode_response(
            await world.server.handle(peer, proto.encode_key_request(req))
        )
        codes.append(answer.code if isinstance(answer, KeyRefusedError) else "released")
    assert codes == ["released"] * cap + ["peer_cap"]
    assert world.server.released == cap
    assert {u.peer for u in world.server.ledger.unlocks(world.holder.address)} == set(peers[:cap])


async def test_a_holder_who_passed_the_stake_on_inside_the_window_is_refused(
    world: World,
) -> None:
    world.give_threshold()
    world.chain.transfer(TOKEN, world.holder.address, "0x" + "99" * 20, MIN)
    world.chain.transfer(TOKEN, "0x" + "99" * 20, world.holder.address, MIN)  # and back
    text, _ = message(world, await nonce(world))
    assert await refused(world, text) == "not_holder"
