"""The embedded ``ContentStore``: our own block store and pin set, no daemon needed.

Every blocking step (hashing, file and SQLite I/O) runs in a worker thread via
``asyncio.to_thread``; the event loop only schedules. Local-only for now: the network half
(bitswap) will fetch missing blocks into the same :class:`LocalStore` through an
:class:`ImportSession`.

``EmbeddedContentStore.at(root)`` is the on-disk store (``<data>/store``);
``EmbeddedContentStore.memory()`` is the in-memory fake with identical behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from storage import unixfs
from storage.cid import CID, parse_cid
from storage.errors import InvalidRangeError
from storage.local import ImportSession, LocalStore, ProgressFn
from storage.ports import (
    ContentStat,
    ContentStore,
    GcResult,
    Pin,
    ProgressCallback,
    StoreUsage,
)

_DONE = object()


class EmbeddedContentStore:
    """:class:`storage.ports.ContentStore` over a :class:`LocalStore`."""

    def __init__(self, local: LocalStore) -> None:
        self.local = local

    @classmethod
    def at(cls, root: Path, *, fsync: bool = True) -> EmbeddedContentStore:
        """The on-disk store in ``root``."""
        return cls(LocalStore.open(root, fsync=fsync))

    @classmethod
    def memory(cls) -> EmbeddedContentStore:
        """An in-memory store (public fake)."""
        return cls(LocalStore.memory())

    # -- add
    async def add_file(
        self,
        path: Path | str,
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import a file in a worker thread; ``progress`` is called on the loop thread."""
        return await asyncio.to_thread(
            self.local.import_file,
            path,
            cid_version=cid_version,
            pin=pin,
            progress=_on_loop(progress),
        )

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        """Import a byte string."""
        return await asyncio.to_thread(
            self.local.import_chunks, [data], cid_version=cid_version, pin=pin
        )

    async def add_stream(
        self,
        chunks: AsyncIterable[bytes],
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import an async stream; each chunk is hashed and written in a worker thread."""
        importer = unixfs.FileImporter(cid_version)
        session = self.local.session()
        try:
            async for chunk in chunks:
                blocks = await asyncio.to_thread(importer.write, chunk)
                if blocks:
                    await asyncio.to_thread(_put_all, session, blocks)
                if progress is not None:
                    progress(importer.size, None)
            root, tail = importer.finish()
            await asyncio.to_thread(_put_all, session, tail)
            if pin:
                await asyncio.to_thread(session.pin, root)
            return root
        finally:
            session.close()

    # -- read
    async def open(self, cid: CID | str) -> AsyncIterator[bytes]:
        """Stream the file block by block (each block verified in a worker thread)."""
        root = parse_cid(cid)
        pieces = self.local.iter_file(root)
        while True:
            piece = await asyncio.to_thread(next, pieces, _DONE)
            if piece is _DONE:
                return
            assert isinstance(piece, bytes)
            yield piece

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``, touching only the blocks needed."""
        if start < 0 or end < start:
            raise InvalidRangeError(f"invalid byte range [{start}, {end})")
        return await asyncio.to_thread(self.local.read_range, parse_cid(cid), start, end)

    # -- pins
    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        """Pin content already present."""
        await asyncio.to_thread(self.local.pin, parse_cid(cid), recursive=recursive)

    async def unpin(self, cid: CID | str) -> None:
        """Remove a pin."""
        await asyncio.to_thread(self.local.unpin, parse_cid(cid))

    async def is_pinned(self, cid: CID | str) -> bool:
        """True if ``cid`` carries a pin."""
        return await asyncio.to_thread(self.local.is_pinned, parse_cid(cid))

    async def pins(self) -> list[Pin]:
        """Every pin, sorted by CID string."""
        return await asyncio.to_thread(self.local.pins)

    # -- stats and GC
    async def stat(self, cid: CID | str) -> ContentStat:
        """Size and block count of some content."""
        return await asyncio.to_thread(self.local.stat, parse_cid(cid))

    async def usage(self) -> StoreUsage:
        """Blocks, bytes and pins of the whole store."""
        return await asyncio.to_thread(self.local.usage)

    async def gc(self) -> GcResult:
        """Collect unpinned blocks."""
        return await asyncio.to_thread(self.local.gc)


def _put_all(session: ImportSession, blocks: list[unixfs.Block]) -> None:
    for block in blocks:
        session.put(block.cid, block.data, verify=False)


def _on_loop(progress: ProgressCallback | None) -> ProgressFn | None:
    """Wrap a callback so the worker thread schedules it on the calling loop."""
    if progress is None:
        return None
    loop = asyncio.get_running_loop()

    def relay(done: int, total: int | None) -> None:
        loop.call_soon_threadsafe(progress, done, total)

    return relay


def _check_protocol(store: EmbeddedContentStore) -> ContentStore:
    return store  # mypy proves EmbeddedContentStore satisfies the port
