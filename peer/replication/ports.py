"""What replication needs from the rest of the peer: the feed's wants, the content store's pins
and verified blocks (the composition root passes the feed index, the store and bitswap)."""

from __future__ import annotations

from typing import Protocol

from peer.replication.state import WantedPost
from storage.cid import CID
from storage.ports import GcResult


class Wants(Protocol):
    """What replication reads from the feed (the daemon wires ``IndexWants``); blocking calls."""

    def data_version(self) -> int: ...

    def wanted(self, me: str, limit: int) -> list[WantedPost]: ...

    def own_manifests(self, me: str) -> list[str]: ...

    def withdrawn(self, post_id: str) -> bool: ...


class Pins(Protocol):
    """The part of ``storage.ports.ContentStore`` replication uses."""

    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None: ...

    async def unpin(self, cid: CID | str) -> None: ...

    async def is_pinned(self, cid: CID | str) -> bool: ...

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes: ...

    async def gc(self) -> GcResult: ...


class BlockSource(Protocol):
    """Verified blocks by CID (``storage.bitswap.service.Bitswap`` is one)."""

    async def get_block(self, cid: CID | str, timeout: float | None = None) -> bytes: ...  # noqa: ASYNC109
