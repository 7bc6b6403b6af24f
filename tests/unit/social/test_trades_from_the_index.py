"""The social layer reads trades from the trade index (the one reader of the chain's trade
events): trade notifications for the user's token, trending counts by block time and distinct
buyers per token, with the index a real TradeIndex in memory and no chain at all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from peer.bus import EventBus
from peer.daemon.economy import EconomyService
from peer.daemon.feed import FeedService
from peer.daemon.social import SocialService
from peer.events import NotificationNew, TokenTrade
from peer.social.trending import SIGNAL_WINDOW_S
from tokens.client import Trade
from tokens.tradeindex import IndexedTrade, TradeIndex

ME = "0x00000000000000000000000000000000000000C1"  # the user, creator of TOKEN
FAN = "0x00000000000000000000000000000000000000F1"
FAN2 = "0x00000000000000000000000000000000000000F2"
TOKEN = "0x00000000000000000000000000000000000000A1"
OTHER_TOKEN = "0x00000000000000000000000000000000000000A2"
NOW = 1_800_000_000


@dataclass
class Feed:
    """What the social service asks of the feed for trades: who the user is."""

    me: str = ME
    has_wallet: bool = True


@dataclass
class Economy:
    """The economy service as the social service sees it: its trade index."""

    index: TradeIndex


def trade(token: str, kind: str, trader: str, block: int, at: int, n: int = 0) -> IndexedTrade:
    tx = "0x" + f"{block:062x}{n:02x}"
    t = Trade(kind, trader, 10**18, 100, 90, 5, 2, 10**18, 1, block, tx)
    return IndexedTrade(token, at, n, t)


async def test_notifications_trending_and_buyers_come_from_the_trade_index(
    tmp_path: Path,
) -> None:
    index = TradeIndex(None, "31337:0xfactory:0")
    index.remember_creator(TOKEN, ME)
    index.remember_creator(OTHER_TOKEN, FAN2)
    old = NOW - SIGNAL_WINDOW_S - 60  # outside the trending window
    index.add([trade(TOKEN, "buy", FAN, 5, old)], 6)  # indexed before the first start
    bus = EventBus()
    social = SocialService(
        tmp_path, cast(FeedService, Feed()), cast(EconomyService, Economy(index)), bus,
        clock=lambda: NOW,
    )  # fmt: skip
    await social.start()
    try:
        assert await social.store.page(10) == []  # what was indexed already is not news
        index.add(
            [
                trade(TOKEN, "buy", FAN2, 7, NOW - 10),
                trade(TOKEN, "sell", ME, 8, NOW - 5),  # the user's own trade: no notification
                trade(OTHER_TOKEN, "buy", FAN, 8, NOW - 5, 1),  # another creator's token
            ],
            9,
        )
        news = bus.subscribe(NotificationNew)
        bus.publish(TokenTrade(TOKEN, "buy", FAN2, str(10**18), "1", "1", 7))
        async with asyncio.timeout(5):
            announced = await news.get()
        assert isinstance(announced, NotificationNew)
        assert announced.type == "trade"
        (note,) = await social.store.page(10)
        assert (note.type, note.subject, note.actors) == ("trade", TOKEN, (FAN2,))
        assert note.detail["side"] == "buy"
        assert note.detail["tx"] == "0x" + f"{7:062x}00"
        # trending counts trades inside the window by block time; buyers are distinct
        assert await social.trades_by_token() == {TOKEN: 2, OTHER_TOKEN: 1}
        assert await social.holders_by_token() == {TOKEN: 2, OTHER_TOKEN: 1}
        # nothing new: a second event notifies nothing again
        bus.publish(TokenTrade(TOKEN, "buy", FAN2, str(10**18), "1", "1", 7))
        await asyncio.sleep(0.05)  # the handler runs (nothing to wait for: nothing happens)
        assert len(await social.store.page(10)) == 1
    finally:
        await social.stop()
        index.close()
