"""Conformance checks for the holding rule over any :class:`BalanceSource`.

One suite, run by the unit tests against :class:`~tokens.testing.FakeChain` and by the
integration tests against a real anvil through :class:`~tokens.client.ChainClient`.
A failed check raises ``AssertionError`` with what was expected.
"""

from __future__ import annotations

from typing import Protocol

from tokens.ownership import OwnershipChecker
from tokens.ports import BalanceSource


class HoldingWorld(Protocol):
    """A chain the suite can act on: move one holder's balance and let blocks pass."""

    @property
    def source(self) -> BalanceSource: ...

    @property
    def token(self) -> str: ...

    async def acquire(self, holder: str, amount: int) -> None:
        """Raise the holder's balance by `amount` in a mined transaction."""

    async def release(self, holder: str, amount: int) -> None:
        """Lower the holder's balance by `amount` in a mined transaction."""

    async def advance(self, blocks: int) -> None:
        """Return once the head is at least `blocks` past where it was."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


async def check_holding_rule(world: HoldingWorld, holder: str, amount: int, lag: int = 2) -> None:
    """Buy, lag, partial sale: the rule admits and refuses at the right moments."""
    checker = OwnershipChecker(world.source, lag=lag)
    token = world.token
    _expect(not await checker.holds(token, holder, 1), "a holder without tokens must not qualify")
    _expect(await checker.holds(token, holder, 0), "a zero minimum always qualifies")

    await world.acquire(holder, amount)
    h = await checker.holding(token, holder)
    _expect(h.balance_head == amount, f"head balance {h.balance_head} != {amount} after buy")
    _expect(
        not await checker.holds(token, holder, amount),
        "a buy must not count before `lag` blocks have passed",
    )

    await world.advance(lag)
    _expect(await checker.holds(token, holder, amount), "a buy counts once `lag` blocks passed")

    await world.release(holder, 1)
    _expect(not await checker.holds(token, holder, amount), "a sale must count immediately")
    _expect(await checker.holds(token, holder, amount - 1), "the remaining balance still counts")
