"""What the token side needs from a chain (``ChainClient`` and ``testing.FakeChain`` implement
it)."""

from __future__ import annotations

from typing import Protocol


class BalanceSource(Protocol):
    """What the checker needs from a chain (ChainClient and FakeChain implement it)."""

    async def block_number(self) -> int: ...

    async def head_block(self) -> tuple[int, str]:
        """The head's number and hash (``0x`` hex), read together."""
        ...

    async def block_hash(self, block: int) -> str:
        """The hash of the canonical block `block` (``0x`` hex)."""
        ...

    async def balance_at(self, token: str, holder: str, block_hash: str) -> int:
        """The holder's balance after the block with hash `block_hash`."""
        ...

    async def transferred_out(self, token: str, holder: str, first: int, last: int) -> int:
        """Sum of the holder's outgoing ``Transfer`` values in blocks ``first..last``."""
        ...
