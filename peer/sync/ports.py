"""What sync needs from the local feed index (``peer.feed.index.FeedIndex`` implements it)."""

from __future__ import annotations

from typing import Protocol

from peer.feed.index import CreatorInfo
from peer.feed.ingest import StoreResult
from peer.feed.wire import Envelope


class SyncIndex(Protocol):
    """What sync needs from the local index (``FeedIndex`` implements it)."""

    async def heads(self) -> dict[str, tuple[int, bytes]]: ...

    async def fork_heads(self) -> dict[str, int]: ...

    async def forks(self, creator: str) -> list[tuple[int, bytes]]: ...

    async def profile_heads(self) -> dict[str, int]: ...

    async def log_range(self, creator: str, from_seq: int, limit: int = 100) -> list[bytes]: ...

    async def profile_wire(self, creator: str) -> bytes | None: ...

    async def store(self, envelope: Envelope, record_id: bytes) -> StoreResult: ...

    async def is_blocked(self, address: str) -> bool: ...

    async def creator_info(self, address: str) -> CreatorInfo | None: ...
