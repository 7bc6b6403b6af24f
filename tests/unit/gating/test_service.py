"""GatingService on the holder side, over the fakes: locked -> unlock -> play; batch unlock."""

from __future__ import annotations

import pytest
from support.gating_world import CHAIN_ID, World

from peer.errors import NoWalletError
from peer.gating.errors import BuyError, LockedError, UnknownPostError
from peer.gating.service import GatingService


def service(world: World, with_wallet: bool = True) -> GatingService:
    return GatingService(
        network=world.holder_host, posts=world.posts, store=world.store, chain_id=CHAIN_ID,
        checker=world.checker, chain=None, account=world.holder if with_wallet else None,
        creator_keys=None, released=world.released, clock=world.clock,
    )  # fmt: skip


async def test_locked_then_unlocked_then_playable(world: World) -> None:
    gating = service(world)
    await gating.start()
    with pytest.raises(LockedError) as info:
        await gating.media(world.post.post_id, "720p")
    assert info.value.requirements.balance == 0
    assert info.value.requirements.key_servers == world.post.key_servers
    world.give_threshold()
    result = await gating.unlock(world.post.post_id)
    assert result["unlocked"] is True
    media = await gating.media(world.post.post_id, "0")
    assert await media.read(0, 5000) == world.clip.plaintexts["720p"][:5000]
    batch = await gating.unlock_creator(world.post.creator)
    assert [r["unlocked"] for r in batch] == [True]
    await gating.stop()


async def test_errors_are_typed(world: World) -> None:
    with pytest.raises(UnknownPostError):
        await service(world).media(b"\x01" * 32, "0")
    with pytest.raises(NoWalletError):
        await service(world, with_wallet=False).unlock(world.post.post_id)
    with pytest.raises(NoWalletError):
        await service(world).unlock(world.post.post_id, buy=True)  # no chain client
    assert BuyError.__doc__
