"""A browser wallet as the holder (GatingService over the fakes): the peer builds the EIP-4361
message with the page's host as its domain and keeps the ephemeral key; the wallet's signature
(eth-account's personal_sign here) comes back and the key is released to the wallet's address.
The peer's own wallet is not needed for it."""

from __future__ import annotations

import asyncio

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from support.gating_world import MIN, OTHER_KEY, TOKEN, World

from peer.bus import Event
from peer.events import UnlockDone
from peer.gating.errors import LockedError, UnknownChallengeError, UnlockFailedError
from peer.gating.service import GatingService
from tokens import siwe

from .test_service import service

PAGE = "127.0.0.1:48123"
WALLET = Account.from_key(OTHER_KEY)


def personal_sign(text: str, key: str = OTHER_KEY) -> bytes:
    """What a wallet answers to ``personal_sign`` with the message as hex UTF-8."""
    message = encode_defunct(hexstr="0x" + text.encode().hex())
    return bytes(Account.sign_message(message, key).signature)


def browser_wallet_service(world: World, events: list[Event]) -> GatingService:
    return service(world, with_wallet=False, events=events)


async def test_a_browser_wallet_unlocks_without_the_peer_wallet(world: World) -> None:
    events: list[Event] = []
    gating = browser_wallet_service(world, events)
    world.chain.set_balance(TOKEN, WALLET.address, MIN)
    world.chain.mine(world.checker.lag)
    asked = await gating.challenge(world.post.post_id, WALLET.address, PAGE)
    message = siwe.parse(asked["message"])
    assert asked["unlocked"] is False
    assert message.domain == PAGE  # what the wallet compares with the page's origin
    assert message.address == WALLET.address
    assert asked["server"] == world.server_host.peer_id
    signature = personal_sign(asked["message"])
    done = await gating.redeem(world.post.post_id, asked["challenge"], signature)
    assert done == {"post": "0x" + world.post.post_id.hex(), "unlocked": True}
    assert events == [UnlockDone("0x" + world.post.post_id.hex())]
    media = await gating.media(world.post.post_id, "0")
    assert await media.read(0, 4096) == world.clip.plaintexts["720p"][:4096]
    # the key is this peer's now: a second challenge has nothing to sign
    again = await gating.challenge(world.post.post_id, WALLET.address, PAGE)
    assert again == {"post": "0x" + world.post.post_id.hex(), "unlocked": True}
    # an id is used once
    with pytest.raises(UnknownChallengeError):
        await gating.redeem(world.post.post_id, asked["challenge"], signature)


async def test_a_signature_by_another_account_is_refused_and_nothing_is_kept(
    world: World,
) -> None:
    gating = browser_wallet_service(world, [])
    world.chain.set_balance(TOKEN, WALLET.address, MIN)
    world.chain.mine(world.checker.lag)
    asked = await gating.challenge(world.post.post_id, WALLET.address, PAGE)
    forged = personal_sign(asked["message"], "0x" + "77" * 32)
    with pytest.raises(UnlockFailedError) as info:
        await gating.redeem(world.post.post_id, asked["challenge"], forged)
    assert [getattr(e, "code", None) for _s, e in info.value.attempts] == ["signature"]
    with pytest.raises(LockedError):
        await gating.media(world.post.post_id, "0")


async def test_a_non_holding_wallet_gets_not_holder_and_a_challenge_is_for_one_post(
    world: World,
) -> None:
    gating = browser_wallet_service(world, [])
    asked = await gating.challenge(world.post.post_id, WALLET.address, PAGE)
    with pytest.raises(UnknownChallengeError):  # the path names another post
        await gating.redeem(b"\x07" * 32, asked["challenge"], personal_sign(asked["message"]))
    asked = await gating.challenge(world.post.post_id, WALLET.address, PAGE)
    with pytest.raises(UnlockFailedError) as info:
        await gating.redeem(world.post.post_id, asked["challenge"], personal_sign(asked["message"]))
    assert [getattr(e, "code", None) for _s, e in info.value.attempts] == ["not_holder"]


async def test_a_browser_wallet_challenge_waits_out_the_holding_window(world: World) -> None:
    """After a buy the wallet does not qualify until the window passed: ``wait`` holds the
    challenge back until it does (here the fake chain mines while the service waits)."""
    gating = browser_wallet_service(world, [])
    world.chain.set_balance(TOKEN, WALLET.address, MIN)  # bought just now: inside the window
    assert not await world.checker.holds(TOKEN, WALLET.address, MIN)

    async def mine_later() -> None:
        await asyncio.sleep(0.05)
        world.chain.mine(world.checker.lag)

    miner = asyncio.create_task(mine_later())
    asked = await gating.challenge(world.post.post_id, WALLET.address, PAGE, wait=True)
    await miner
    done = await gating.redeem(
        world.post.post_id, asked["challenge"], personal_sign(asked["message"])
    )
    assert done["unlocked"] is True
