"""In-memory chain fake for the :class:`~tokens.ports.BalanceSource` port.

Product code, used by unit tests and by anything that needs balances without a chain.
Semantics follow an automining chain: every balance change is mined in its own new block
and emits an ERC-20 ``Transfer`` (a raise is a mint from the zero address, a drop a burn
to it, :meth:`FakeChain.transfer` moves tokens between holders). Blocks have hashes;
:meth:`FakeChain.reorg` replaces the last blocks (new hashes, their changes dropped).
``down = True`` makes every call raise :class:`ChainUnavailableError`, like a dead RPC.
"""

from __future__ import annotations

from tokens.errors import ChainError, ChainUnavailableError

ZERO = "0x" + "00" * 20


class FakeChain:
    def __init__(self, head: int = 1) -> None:
        self.head = head
        self.down = False
        self.calls = 0
        self._fork = 0
        self._forks: dict[int, int] = {}  # block -> fork generation it was mined in
        self._history: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._transfers: list[tuple[int, str, str, str, int]] = []  # block, token, src, dst, v

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise ChainUnavailableError("fake chain is down")

    def mine(self, blocks: int = 1) -> int:
        for _ in range(blocks):
            self.head += 1
            self._forks[self.head] = self._fork
        return self.head

    def hash_of(self, block: int) -> str:
        return "0x" + f"{self._forks.get(block, 0):032x}{block:032x}"

    def reorg(self, depth: int) -> None:
        """Drop the last `depth` blocks' changes and give those heights new hashes."""
        cut = self.head - depth
        self._fork += 1
        for key, entries in self._history.items():
            self._history[key] = [(b, v) for b, v in entries if b <= cut]
        self._transfers = [t for t in self._transfers if t[0] <= cut]
        for block in range(cut + 1, self.head + 1):
            self._forks[block] = self._fork

    def _record(self, token: str, holder: str, amount: int, block: int) -> None:
        self._history.setdefault((token.lower(), holder.lower()), []).append((block, amount))

    def set_balance(self, token: str, holder: str, amount: int) -> int:
        """Mine one block in which the holder's balance becomes `amount`; returns it."""
        current = self.balance_now(token, holder)
        block = self.mine()
        self._record(token, holder, amount, block)
        src, dst = (ZERO, holder) if amount >= current else (holder, ZERO)
        self._transfers.append(
            (block, token.lower(), src.lower(), dst.lower(), abs(amount - current))
        )
        return block

    def add(self, token: str, holder: str, delta: int) -> int:
        current = self.balance_now(token, holder)
        if current + delta < 0:
            raise ChainError("fake chain: balance would go negative")
        return self.set_balance(token, holder, current + delta)

    def transfer(self, token: str, src: str, dst: str, amount: int) -> int:
        """Mine one block moving `amount` from `src` to `dst` (one Transfer event)."""
        have = self.balance_now(token, src)
        if amount < 0 or amount > have:
            raise ChainError("fake chain: transfer exceeds the balance")
        block = self.mine()
        if src.lower() != dst.lower():
            self._record(token, src, have - amount, block)
            self._record(token, dst, self.balance_now(token, dst) + amount, block)
        self._transfers.append((block, token.lower(), src.lower(), dst.lower(), amount))
        return block

    def balance_now(self, token: str, holder: str) -> int:
        return self._at(token, holder, self.head)

    def _at(self, token: str, holder: str, block: int) -> int:
        value = 0
        for mined, amount in self._history.get((token.lower(), holder.lower()), []):
            if mined <= block:
                value = amount
        return value

    def _number(self, block_hash: str) -> int:
        number = int(block_hash[-32:], 16)
        if number > self.head or self.hash_of(number) != block_hash.lower():
            raise ChainError(f"fake chain: unknown block {block_hash}")
        return number

    async def block_number(self) -> int:
        self._check()
        return self.head

    async def head_block(self) -> tuple[int, str]:
        self._check()
        return self.head, self.hash_of(self.head)

    async def block_hash(self, block: int) -> str:
        self._check()
        if block > self.head or block < 0:
            raise ChainError(f"fake chain: no block {block}")
        return self.hash_of(block)

    async def balance_of(self, token: str, holder: str, block: int) -> int:
        self._check()
        if block > self.head:
            raise ChainError(f"fake chain: block {block} is beyond the head {self.head}")
        return self._at(token, holder, block)

    async def balance_at(self, token: str, holder: str, block_hash: str) -> int:
        self._check()
        return self._at(token, holder, self._number(block_hash))

    async def transferred_out(self, token: str, holder: str, first: int, last: int) -> int:
        self._check()
        t, h = token.lower(), holder.lower()
        return sum(
            v for b, tk, s, _, v in self._transfers if tk == t and s == h and first <= b <= last
        )
