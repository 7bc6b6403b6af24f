"""In-memory chain fake for the :class:`~tokens.ports.BalanceSource` port.

Product code, used by unit tests and by anything that needs balances without a chain.
Semantics follow an automining chain: every balance change is mined in its own new block.
``down = True`` makes every call raise :class:`ChainUnavailableError`, like a dead RPC.
"""

from __future__ import annotations

from tokens.errors import ChainError, ChainUnavailableError


class FakeChain:
    def __init__(self, head: int = 1) -> None:
        self.head = head
        self.down = False
        self.calls = 0
        self._history: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise ChainUnavailableError("fake chain is down")

    def mine(self, blocks: int = 1) -> int:
        self.head += blocks
        return self.head

    def set_balance(self, token: str, holder: str, amount: int) -> int:
        """Mine one block in which the holder's balance becomes `amount`; returns it."""
        block = self.mine()
        self._history.setdefault((token.lower(), holder.lower()), []).append((block, amount))
        return block

    def add(self, token: str, holder: str, delta: int) -> int:
        current = self.balance_now(token, holder)
        if current + delta < 0:
            raise ChainError("fake chain: balance would go negative")
        return self.set_balance(token, holder, current + delta)

    def balance_now(self, token: str, holder: str) -> int:
        return self._at(token, holder, self.head)

    def _at(self, token: str, holder: str, block: int) -> int:
        value = 0
        for mined, amount in self._history.get((token.lower(), holder.lower()), []):
            if mined <= block:
                value = amount
        return value

    async def block_number(self) -> int:
        self._check()
        return self.head

    async def balance_of(self, token: str, holder: str, block: int) -> int:
        self._check()
        if block > self.head:
            raise ChainError(f"fake chain: block {block} is beyond the head {self.head}")
        return self._at(token, holder, block)
