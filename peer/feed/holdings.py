"""``ChainHoldings``: the ``Holdings`` port on the chain, for holders-only comments.

It applies the key-release holding rule (``tokens.ownership.OwnershipChecker``: the minimum
balance over the window of ``lag`` blocks, reads pinned to block hashes and cached per block
hash), so a comment is admitted by exactly the rule that releases premium keys. Any chain
error becomes ``RegistryUnavailable`` (the validator then Ignores the comment: fail closed).
"""

from __future__ import annotations

from peer.feed.errors import RegistryUnavailable
from tokens.errors import ChainError
from tokens.ownership import OwnershipChecker


class ChainHoldings:
    """``Holdings`` over an ``OwnershipChecker`` (one per daemon, shared cache)."""

    def __init__(self, checker: OwnershipChecker) -> None:
        self._checker = checker

    @property
    def lag(self) -> int:
        """The holding window in blocks."""
        return self._checker.lag

    async def holds(self, token: str, holder: str, min_balance: int) -> bool:
        try:
            return await self._checker.holds(token, holder, min_balance)
        except ChainError as exc:
            raise RegistryUnavailable(f"holding check failed: {exc}") from exc
