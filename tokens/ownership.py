"""The holding rule for token-gated playback (ARCHITECTURE, normative).

A holder qualifies for a post when its **minimum balance over the whole window** of
`lag` blocks is at least ``minBalance``. The minimum is bounded from below by::

    effective = min(balance at head, balance at (head - lag) - outgoing)

where ``outgoing`` sums the holder's outgoing ``Transfer`` events in blocks
``head - lag + 1 .. head`` (the transfers of block ``head - lag`` are already in its
balance). Tokens that arrive inside the window do not count, and every token that left
inside the window counts as gone for the whole window: a stake passed from address to
address, or moved back and forth, qualifies one address per window, not several.

Reads are pinned to block hashes: the head is read once (number and hash), balances are
read at the head's and the lagged block's hashes, and results are cached by block hash,
so a reorg cannot leave a stale balance (a new head has a new hash). Any chain failure
raises a :class:`~tokens.errors.ChainError` (``ChainUnavailableError`` when the RPC is
unreachable): callers fail closed, ``holds`` never answers ``True`` without every read.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tokens.errors import ChainError, TokensError
from tokens.ports import BalanceSource

DEFAULT_LAG = 2

T = TypeVar("T")


def window_blocks(window_s: float, block_time_s: float) -> int:
    """A holding window measured in seconds, in whole blocks (rounded up; at least 1)."""
    if window_s < 0:
        raise ValueError("the holding window must be >= 0 seconds")
    if block_time_s <= 0:
        raise ValueError("the block time must be > 0 seconds")
    return max(1, math.ceil(window_s / block_time_s)) if window_s > 0 else 0


@dataclass(frozen=True)
class Holding:
    token: str
    holder: str
    head: int
    lagged_block: int
    balance_head: int
    balance_lagged: int
    outgoing: int = 0
    """The holder's outgoing transfers in blocks ``lagged_block + 1 .. head``."""
    head_hash: str = ""

    @property
    def effective(self) -> int:
        """A lower bound of the minimum balance over the window (never negative)."""
        return max(0, min(self.balance_head, self.balance_lagged - self.outgoing))


class OwnershipChecker:
    """Applies the holding rule with an optional cache keyed by block hash."""

    def __init__(
        self,
        source: BalanceSource,
        lag: int = DEFAULT_LAG,
        cache: bool = True,
        max_entries: int = 100_000,
    ) -> None:
        if lag < 0:
            raise ValueError("lag must be >= 0")
        self._source = source
        self.lag = lag
        self._cache_on = cache
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self.reads = 0  # balance and log reads sent to the source (for tests and benchmarks)

    async def _read(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except TokensError:
            raise
        except Exception as exc:  # a source outside this package: fail closed, typed
            raise ChainError(f"{what} failed: {exc}") from exc

    async def _cached(
        self, key: tuple[str, str, str], what: str, read: Callable[[], Awaitable[int]]
    ) -> int:
        if self._cache_on and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self.reads += 1
        value = int(await self._read(what, read()))
        if self._cache_on:
            self._cache[key] = value
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return value

    async def holding(self, token: str, holder: str) -> Holding:
        """The balances and outgoing transfers of the rule at the current head."""
        head, head_hash = await self._read("head read", self._source.head_block())
        head, head_hash = int(head), str(head_hash).lower()
        lagged = max(head - self.lag, 0)
        t, h = token.lower(), holder.lower()
        src = self._source
        balance_head = await self._cached(
            (head_hash, t, h), "balance read", lambda: src.balance_at(token, holder, head_hash)
        )
        if lagged == head:
            return Holding(token, holder, head, lagged, balance_head, balance_head, 0, head_hash)
        lagged_hash = str(await self._read("block read", src.block_hash(lagged))).lower()
        balance_lagged = await self._cached(
            (lagged_hash, t, h), "balance read", lambda: src.balance_at(token, holder, lagged_hash)
        )
        outgoing = 0
        if balance_lagged > 0:  # nothing to subtract from an empty lagged balance
            outgoing = await self._cached(
                (f"{head_hash}/out/{self.lag}", t, h),
                "transfer log read",
                lambda: src.transferred_out(token, holder, lagged + 1, head),
            )
        return Holding(
            token, holder, head, lagged, balance_head, balance_lagged, outgoing, head_hash
        )

    async def holds(self, token: str, holder: str, min_balance: int) -> bool:
        """True when the holder meets `min_balance` (base units) under the rule."""
        if min_balance < 0:
            raise ValueError("min_balance must be >= 0")
        return (await self.holding(token, holder)).effective >= min_balance
