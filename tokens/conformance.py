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

    async def send(self, src: str, dst: str, amount: int) -> None:
        """Transfer `amount` from `src` to `dst` in a mined transaction."""


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


async def check_window_rule(
    world: HoldingWorld, holder: str, other: str, amount: int, lag: int = 2
) -> None:
    """A stake passed on inside the window counts for nobody; moved back, it counts again
    only after a whole window without outgoing transfers. `holder` must already hold
    `amount` (qualifying) and `other` nothing."""
    checker = OwnershipChecker(world.source, lag=lag)
    token = world.token
    _expect(await checker.holds(token, holder, amount), "the holder must qualify at the start")
    await world.send(holder, other, amount)
    _expect(not await checker.holds(token, holder, amount), "a sender must be refused at once")
    _expect(
        not await checker.holds(token, other, amount),
        "a receiver must not qualify before a whole window passed",
    )
    await world.send(other, holder, amount)
    h = await checker.holding(token, holder)
    _expect(h.balance_head == amount, f"head balance {h.balance_head} != {amount} after return")
    _expect(
        h.effective < amount,
        f"a stake moved away inside the window must not count ({h})",
    )
    _expect(not await checker.holds(token, other, amount), "the round trip unlocks nobody")
    await world.advance(lag + 1)
    _expect(await checker.holds(token, holder, amount), "a window without outgoing counts again")
