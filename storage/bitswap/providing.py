"""``ProvidingContentStore``: a :class:`NetworkContentStore` that announces what it pins.

Every root it adds with ``pin=True``, and every root pinned directly, is handed to ``announce``
(the daemon passes its provide queue's ``reprovide``, so adding never waits for the network). A
recursive pin announces through bitswap's fetch of the DAG.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from pathlib import Path

from storage.bitswap.service import Bitswap
from storage.bitswap.store import NetworkContentStore
from storage.cid import CID
from storage.embedded import EmbeddedContentStore
from storage.ports import ProgressCallback


class ProvidingContentStore(NetworkContentStore):
    """``NetworkContentStore`` that announces every pinned root it adds (a recursive pin
    announces through bitswap's fetch; a direct pin here)."""

    def __init__(
        self,
        local: EmbeddedContentStore,
        bitswap: Bitswap,
        announce: Callable[[list[CID]], None],
    ) -> None:
        super().__init__(local, bitswap)
        self._announce = announce

    async def add_file(
        self,
        path: Path | str,
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        cid = await super().add_file(path, progress, cid_version=cid_version, pin=pin)
        if pin:
            self._announce([cid])
        return cid

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        cid = await super().add_bytes(data, cid_version=cid_version, pin=pin)
        if pin:
            self._announce([cid])
        return cid

    async def add_stream(
        self,
        chunks: AsyncIterable[bytes],
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        cid = await super().add_stream(chunks, progress, cid_version=cid_version, pin=pin)
        if pin:
            self._announce([cid])
        return cid

    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        await super().pin(cid, recursive=recursive)
        if not recursive:
            self._announce([CID.parse(str(cid))])
