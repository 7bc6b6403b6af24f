"""What the token side needs from a chain (``ChainClient`` and ``testing.FakeChain`` implement
it)."""

from __future__ import annotations

from typing import Protocol


class BalanceSource(Protocol):
    """What the checker needs from a chain (ChainClient and FakeChain implement it)."""

    async def block_number(self) -> int: ...

    async def balance_of(self, token: str, holder: str, block: int) -> int: ...
