"""GatingService on the holder side, over the fakes: locked -> unlock -> play; batch unlock."""

from __future__ import annotations

import pytest
from support.gating_world import CHAIN_ID, World

from peer.bus import Event
from peer.errors import NoWalletError
from peer.events import UnlockDone, WalletTx
from peer.gating.errors import BuyError, LockedError, UnknownPostError
from peer.gating.service import GatingService
from tokens.client import Trade
from tokens.curve import Quote

TX = "0x" + "ab" * 32


def service(
    world: World, with_wallet: bool = True, chain: object = None, events: list[Event] | None = None
) -> GatingService:
    return GatingService(
        network=world.holder_host, posts=world.posts, store=world.store, chain_id=CHAIN_ID,
        checker=world.checker, chain=chain, account=world.holder if with_wallet else None,
        creator_keys=None, released=world.released, clock=world.clock,
        publish=(events if events is not None else []).append,
    )  # fmt: skip


class Trader:
    """The chain side of a buy: the bought tokens land on the fake chain, the lag passes."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def quote_buy(self, token: str, amount: int) -> Quote:
        return Quote(amount, amount, 0, 0, amount, amount, 1)

    async def buy(
        self, token: str, amount: int, max_cost: int | None = None, deadline: int | None = None
    ) -> Trade:
        block = self.world.chain.set_balance(token, self.world.holder.address, amount)
        self.world.chain.mine(self.world.checker.lag)
        return Trade(
            "buy", self.world.holder.address, amount, amount, amount, 0, 0, 0, 1, block, TX
        )


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


async def test_an_unlock_reports_unlock_done_and_the_buy_it_made_as_wallet_tx(world: World) -> None:
    events: list[Event] = []
    gating = service(world, chain=Trader(world), events=events)
    await gating.start()
    plan = await gating.plan_buy(world.post.post_id)
    assert plan is not None
    result = await gating.unlock(world.post.post_id, buy=True, max_cost=plan.max_cost)
    assert result["unlocked"] is True
    post_id = "0x" + world.post.post_id.hex()
    assert events == [WalletTx("buy", TX, world.post.token, str(plan.amount)), UnlockDone(post_id)]
    events.clear()
    await gating.unlock_creator(world.post.creator)
    assert events == [UnlockDone(post_id)]
    await gating.stop()
