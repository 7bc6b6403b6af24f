"""``unlock --buy``: buy the missing amount within a slippage bound, then wait out the lag.

The spend limit is enforced by the chain client (``SpendLimitError``); the slippage bound is
``max_cost = quote * (1 + slippage_bps / 10_000)``; the caller confirms the plan (``--yes``
skips the prompt) before anything is sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tokens.client import DEFAULT_SLIPPAGE_BPS, Trade, slippage_bound
from tokens.errors import ChainError, SlippageError, SpendLimitError
from tokens.ownership import OwnershipChecker

from .errors import BuyError
from .ports import GatedPost, Trader


@dataclass(frozen=True, slots=True)
class BuyPlan:
    token: str
    amount: int
    """Base units to buy (what the holder misses at the chain head)."""
    quote: int
    """TOK base units the curve asks now, fees included."""
    max_cost: int
    """The most the transaction may cost (quote plus the slippage bound)."""


async def plan_buy(
    post: GatedPost,
    holder: str,
    checker: OwnershipChecker,
    trader: Trader,
    slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
) -> BuyPlan | None:
    """What to buy so the holder reaches ``min_balance`` at the head; None if nothing."""
    if not 0 <= slippage_bps <= 5_000:
        raise BuyError("slippage must be between 0 and 5000 basis points")
    holding = await checker.holding(post.token, holder)
    amount = post.min_balance - holding.balance_head
    if amount <= 0:
        return None
    quote = (await trader.quote_buy(post.token, amount)).total
    return BuyPlan(post.token, amount, quote, slippage_bound(quote, slippage_bps, "buy"))


async def buy_and_wait(
    post: GatedPost,
    holder: str,
    checker: OwnershipChecker,
    trader: Trader,
    plan: BuyPlan,
    confirm: Callable[[BuyPlan], Awaitable[bool]],
    *,
    timeout: float = 120.0,  # noqa: ASYNC109
    poll: float = 0.25,
    on_bought: Callable[[Trade], None] | None = None,
) -> Trade:
    """Confirm, buy, then wait until the holding rule is met (the lag has passed); returns the
    mined buy (``on_bought`` sees it as soon as it is mined, before the wait)."""
    if not await confirm(plan):
        raise BuyError("the buy was not confirmed; nothing was spent")
    try:
        trade = await trader.buy(plan.token, plan.amount, max_cost=plan.max_cost)
    except SpendLimitError as exc:
        raise BuyError(f"over the session spend limit: {exc}") from exc
    except SlippageError as exc:
        raise BuyError(f"the price moved beyond the slippage bound: {exc}") from exc
    except ChainError as exc:
        raise BuyError(f"the buy failed: {exc}") from exc
    if on_bought is not None:
        on_bought(trade)
    await wait_until_holding(post, holder, checker, timeout=timeout, poll=poll)
    return trade


async def wait_until_holding(
    post: GatedPost,
    holder: str,
    checker: OwnershipChecker,
    *,
    timeout: float = 120.0,  # noqa: ASYNC109
    poll: float = 0.25,
) -> None:
    """Until ``holder`` meets the post's holding rule (a buy just mined waits out the window)."""
    deadline = time.monotonic() + timeout
    while not await checker.holds(post.token, holder, post.min_balance):
        if time.monotonic() > deadline:
            raise BuyError("bought, but the holding rule is not met yet; retry the unlock later")
        await asyncio.sleep(poll)
