"""What trades mean for the people in them (pure): a creator's fee earnings and a holder's
position, cost basis and gain, from indexed trades (:mod:`tokens.tradeindex`).

The asymmetries of the events (docs/ARCHITECTURE.md, "Events, as the creator-economy views must
read them") are applied here: ``Buy.cost`` includes the fees and ``Sell.refund`` is net of them,
so both are cash flows of the trader; a creator's own trades pay fees to themself and are not
earnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from tokens.tradeindex import IndexedTrade


@dataclass(frozen=True)
class Earnings:
    """Creator fees earned from other people's trades of one token."""

    total: int = 0  # TOK base units
    per_day: tuple[tuple[str, int], ...] = ()  # (UTC date "YYYY-MM-DD", fees), oldest first
    trades: int = 0  # trades by others
    own_trades: int = 0  # the creator's own trades (their fees are not earnings)


def earnings(trades: Iterable[IndexedTrade], creator: str) -> Earnings:
    """Fees to ``creator`` from trades by anyone else, in total and per UTC day."""
    days: dict[str, int] = {}
    total = count = own = 0
    for t in trades:
        if t.trade.trader.lower() == creator.lower():
            own += 1
            continue
        day = dt.datetime.fromtimestamp(t.timestamp, dt.UTC).date().isoformat()
        days[day] = days.get(day, 0) + t.trade.creator_fee
        total += t.trade.creator_fee
        count += 1
    return Earnings(total, tuple(sorted(days.items())), count, own)


@dataclass
class Position:
    """A holder's position in one token from their own trades, at average cost.

    ``amount`` and ``cost_basis`` cover only what the holder bought; ``realized`` is what
    their sales returned above the average cost of what they sold. Tokens that arrived by a
    transfer have no price: the balance on chain may differ from ``amount`` (the caller
    reports the difference as unpriced)."""

    token: str
    amount: int = 0  # base units held from own buys minus own sales
    cost_basis: int = 0  # TOK paid for ``amount`` (fees included), at average cost
    realized: int = 0  # TOK gained (negative: lost) on sales so far
    bought: int = 0  # TOK paid in total
    sold: int = 0  # TOK received in total
    trades: list[IndexedTrade] = field(default_factory=list)


def positions(trades: Iterable[IndexedTrade]) -> dict[str, Position]:
    """One holder's positions by token, from their trades in chain order."""
    out: dict[str, Position] = {}
    for t in trades:
        p = out.setdefault(t.token, Position(t.token))
        p.trades.append(t)
        if t.trade.kind == "buy":
            p.amount += t.trade.amount
            p.cost_basis += t.trade.total
            p.bought += t.trade.total
            continue
        p.sold += t.trade.total
        sold = min(t.trade.amount, p.amount)  # more than bought: the rest came by transfer
        share = p.cost_basis * sold // p.amount if p.amount else 0
        p.realized += t.trade.total - share
        p.cost_basis -= share
        p.amount -= sold
    return out


ATTRIBUTION_WINDOW_S = 600  # an unlock this soon after a buy is what the buy was for


def clip_drivers(
    trades: Iterable[IndexedTrade], unlocks: Iterable[tuple[str, str, float]]
) -> dict[str, tuple[int, int]]:
    """Which posts drove buys: ``{post id: (buys, TOK paid)}``. A buy is credited to the
    post its buyer unlocked within :data:`ATTRIBUTION_WINDOW_S` after it (``unlocks`` are the
    key server's ``(holder, post, time)`` records); other buys are credited to no post."""
    by_holder: dict[str, list[tuple[float, str]]] = {}
    for holder, post, at in unlocks:
        by_holder.setdefault(holder.lower(), []).append((at, post))
    out: dict[str, tuple[int, int]] = {}
    for t in trades:
        if t.trade.kind != "buy":
            continue
        after = [
            (at, post)
            for at, post in by_holder.get(t.trade.trader.lower(), [])
            if t.timestamp - 5 <= at <= t.timestamp + ATTRIBUTION_WINDOW_S
        ]
        if after:
            post = min(after)[1]
            buys, paid = out.get(post, (0, 0))
            out[post] = (buys + 1, paid + t.trade.total)
    return out
