"""Earnings, positions and clip attribution from indexed trades (pure), and the trade index's
store: cursor, queries, and a fresh start on another deployment."""

from __future__ import annotations

from pathlib import Path

from tokens.client import Trade
from tokens.economy import clip_drivers, earnings, positions
from tokens.tradeindex import IndexedTrade, TradeIndex, confirmations_for

E18 = 10**18
CREATOR = "0x00000000000000000000000000000000000000C1"
FAN = "0x00000000000000000000000000000000000000F1"
OTHER = "0x00000000000000000000000000000000000000F2"
TOKEN = "0x00000000000000000000000000000000000000A1"
DAY = 86_400


def trade(
    kind: str, trader: str, amount: int, total: int, fee: int, block: int, ts: int
) -> IndexedTrade:
    t = Trade(kind, trader, amount, total, total, fee, 0, 0, 0, block, "0x" + "ab" * 32)
    return IndexedTrade(TOKEN, ts, 0, t)


def test_earnings_count_fees_of_others_per_day_and_not_the_creators_own() -> None:
    trades = [
        trade("buy", FAN, 2 * E18, 100, 5, 1, 10),
        trade("buy", CREATOR, E18, 50, 3, 2, 20),  # fees from one pocket to the other
        trade("sell", OTHER, E18, 40, 2, 3, DAY + 5),
    ]
    got = earnings(trades, CREATOR.lower())
    assert got.total == 7
    assert got.per_day == (("1970-01-01", 5), ("1970-01-02", 2))
    assert (got.trades, got.own_trades) == (2, 1)


def test_position_at_average_cost_with_realized_gain() -> None:
    trades = [
        trade("buy", FAN, 2 * E18, 100, 0, 1, 1),
        trade("buy", FAN, 2 * E18, 140, 0, 2, 2),
        trade("sell", FAN, E18, 70, 0, 3, 3),  # average cost 60 per token: +10
    ]
    p = positions(trades)[TOKEN]
    assert (p.amount, p.cost_basis, p.realized) == (3 * E18, 180, 10)
    assert (p.bought, p.sold, len(p.trades)) == (240, 70, 3)
    # selling more than was bought (the rest arrived by transfer) never goes negative
    more = positions([*trades, trade("sell", FAN, 5 * E18, 300, 0, 4, 4)])[TOKEN]
    assert (more.amount, more.cost_basis) == (0, 0)


def test_a_buy_is_credited_to_the_clip_its_buyer_unlocked_right_after() -> None:
    trades = [
        trade("buy", FAN, E18, 100, 0, 1, 1000),
        trade("buy", OTHER, E18, 80, 0, 2, 1000),
        trade("sell", FAN, E18, 90, 0, 3, 1000),
    ]
    unlocks = [
        (FAN.lower(), "0xp1", 1010.0),
        (FAN.lower(), "0xp2", 1020.0),  # later: the first unlock after the buy counts
        (OTHER.lower(), "0xp1", 5000.0),  # hours later: not what the buy was for
    ]
    assert clip_drivers(trades, unlocks) == {"0xp1": (1, 100)}


def test_the_index_keeps_its_cursor_and_starts_again_on_another_deployment(
    tmp_path: Path,
) -> None:
    path = tmp_path / "trades.sqlite"
    index = TradeIndex(path, "31337:0xf:1")
    assert index.next_block() is None
    index.add([trade("buy", FAN, E18, 100, 5, 7, 70)], 8)
    index.remember_creator(TOKEN, CREATOR)
    index.close()
    again = TradeIndex(path, "31337:0xf:1")
    assert again.next_block() == 8
    assert [t.trade.block for t in again.trades(token=TOKEN)] == [7]
    assert again.trades(trader=FAN.lower())[0].trade.total == 100
    assert again.known_creator(TOKEN) == CREATOR
    again.close()
    other = TradeIndex(path, "31337:0xf:99")  # a reset devnet: another start block
    assert other.next_block() is None
    assert other.trades() == []
    assert other.known_creator(TOKEN) is None
    other.close()


def test_the_index_waits_for_confirmations_except_on_the_local_devnet() -> None:
    assert confirmations_for(31337, 12) == 0  # anvil: one producer, no reorgs
    assert confirmations_for(8453, 12) == 12  # any other chain: the configured depth
    assert confirmations_for(1, 0) == 0
