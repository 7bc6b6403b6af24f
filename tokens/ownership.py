"""The holding rule for token-gated playback (ARCHITECTURE, normative).

A holder qualifies for a post when ``min(balance at head - lag, balance at head) >=
minBalance``: a fresh buy counts only after `lag` blocks, and a sale counts at once.
Balance reads are cached per block number only (a block's balances never change once
the block is read). Any chain failure raises a :class:`~tokens.errors.ChainError`
(``ChainUnavailableError`` when the RPC is unreachable): callers fail closed, ``holds``
never answers ``True`` without both reads.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from tokens.errors import ChainError, TokensError
from tokens.ports import BalanceSource

DEFAULT_LAG = 2


@dataclass(frozen=True)
class Holding:
    token: str
    holder: str
    head: int
    lagged_block: int
    balance_head: int
    balance_lagged: int

    @property
    def effective(self) -> int:
        return min(self.balance_head, self.balance_lagged)


class OwnershipChecker:
    """Applies the holding rule with an optional per-block balance cache."""

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
        self._cache: OrderedDict[tuple[int, str, str], int] = OrderedDict()
        self.reads = 0  # balance reads sent to the source (for tests and benchmarks)

    async def _balance(self, token: str, holder: str, block: int) -> int:
        key = (block, token.lower(), holder.lower())
        if self._cache_on and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self.reads += 1
        try:
            value = int(await self._source.balance_of(token, holder, block))
        except TokensError:
            raise
        except Exception as exc:  # a source outside this package: fail closed, typed
            raise ChainError(f"balance read failed: {exc}") from exc
        if self._cache_on:
            self._cache[key] = value
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return value

    async def holding(self, token: str, holder: str) -> Holding:
        """Both balances of the rule at the current head."""
        try:
            head = int(await self._source.block_number())
        except TokensError:
            raise
        except Exception as exc:
            raise ChainError(f"block number read failed: {exc}") from exc
        lagged = max(head - self.lag, 0)
        balance_head = await self._balance(token, holder, head)
        balance_lagged = await self._balance(token, holder, lagged)
        return Holding(token, holder, head, lagged, balance_head, balance_lagged)

    async def holds(self, token: str, holder: str, min_balance: int) -> bool:
        """True when the holder meets `min_balance` (base units) under the rule."""
        if min_balance < 0:
            raise ValueError("min_balance must be >= 0")
        return (await self.holding(token, holder)).effective >= min_balance
