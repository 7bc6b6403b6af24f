"""``NetworkContentStore``: the embedded store plus bitswap, so reads fetch what is missing.

Adding, unpinning, listing and GC go to the local :class:`EmbeddedContentStore`. Reads
(``open``, ``read_range``, ``stat``) walk the UnixFS DAG through :meth:`Bitswap.get_block`
(local first, else the network in the file's bitswap session; fetched blocks are cached
unpinned), prefetching up to
``prefetch`` sibling blocks ahead so a sequential read keeps many wants in flight. A recursive
``pin`` fetches the whole DAG first. Every block is verified before its bytes are used; a block
the network cannot deliver raises :class:`~storage.errors.ContentUnavailableError`.

This is the ``ContentStore`` the composition root hands to the gateway and the services when
``storage.backend = embedded``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path

from storage import unixfs
from storage.bitswap.service import Bitswap
from storage.cid import CID, parse_cid
from storage.embedded import EmbeddedContentStore
from storage.errors import InvalidRangeError
from storage.ports import (
    ContentStat,
    ContentStore,
    GcResult,
    Pin,
    ProgressCallback,
    StoreUsage,
)

AsyncGetter = Callable[[CID], Awaitable[bytes]]


class NetworkContentStore:
    """:class:`~storage.ports.ContentStore` that fetches missing blocks over bitswap."""

    def __init__(self, local: EmbeddedContentStore, bitswap: Bitswap, prefetch: int = 16) -> None:
        self.local = local
        self.bitswap = bitswap
        self._prefetch = max(1, prefetch)

    # -- add: local
    async def add_file(
        self,
        path: Path | str,
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import a local file."""
        return await self.local.add_file(path, progress, cid_version=cid_version, pin=pin)

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        """Import bytes."""
        return await self.local.add_bytes(data, cid_version=cid_version, pin=pin)

    async def add_stream(
        self,
        chunks: AsyncIterable[bytes],
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import an async stream."""
        return await self.local.add_stream(chunks, progress, cid_version=cid_version, pin=pin)

    # -- read: local or network
    def _getter(self, root: CID) -> AsyncGetter:
        """Block reads of the file under ``root``, all in its bitswap session."""
        session = self.bitswap.session(root)

        async def get(cid: CID) -> bytes:
            return await self.bitswap.get_block(cid, session=session)

        return get

    async def open(self, cid: CID | str) -> AsyncIterator[bytes]:
        """Stream the file, fetching missing blocks (verified) as it goes."""
        root = parse_cid(cid)
        with self.bitswap.noting_relay_cuts(root):
            async for piece in iter_range(self._getter(root), root, 0, None, self._prefetch):
                yield piece

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``, fetching only the blocks the range needs."""
        if start < 0 or end < start:
            raise InvalidRangeError(f"invalid byte range [{start}, {end})")
        root = parse_cid(cid)
        with self.bitswap.noting_relay_cuts(root):
            pieces = [
                p async for p in iter_range(self._getter(root), root, start, end, self._prefetch)
            ]
        return b"".join(pieces)

    async def stat(self, cid: CID | str) -> ContentStat:
        """Size from the root block (fetched if needed); counts cover the local part."""
        root = parse_cid(cid)
        await self.bitswap.get_block(root)
        return await self.local.stat(root)

    # -- pins
    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        """Pin; a recursive pin fetches the whole DAG first."""
        root = parse_cid(cid)
        if recursive:
            await self.bitswap.fetch(root, pin=True)
            return
        await self.bitswap.get_block(root)
        await self.local.pin(root, recursive=False)

    async def unpin(self, cid: CID | str) -> None:
        """Remove a pin."""
        await self.local.unpin(cid)

    async def is_pinned(self, cid: CID | str) -> bool:
        """True if ``cid`` carries a pin."""
        return await self.local.is_pinned(cid)

    async def pins(self) -> list[Pin]:
        """Every pin."""
        return await self.local.pins()

    async def usage(self) -> StoreUsage:
        """Local disk usage."""
        return await self.local.usage()

    async def gc(self) -> GcResult:
        """Collect unpinned blocks (including cached remote ones)."""
        return await self.local.gc()


async def iter_range(
    get: AsyncGetter, cid: CID, start: int = 0, end: int | None = None, prefetch: int = 16
) -> AsyncIterator[bytes]:
    """The file's bytes ``[start, end)`` through an async block getter, prefetching siblings."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRangeError(f"invalid byte range [{start}, {end})")
    root = await get(cid)
    async for piece in _walk(get, cid, root, start, end, None, 0, prefetch):
        yield piece


async def _walk(
    get: AsyncGetter,
    cid: CID,
    block: bytes,
    start: int,
    end: int | None,
    expected: int | None,
    depth: int,
    prefetch: int,
) -> AsyncIterator[bytes]:
    step = unixfs.range_step(cid, block, start, end, expected, depth)
    if step.data:
        yield step.data
    needed = step.children  # child, size, its start, its end
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[bytes]] = []
    try:
        for index, (child, size, lo, hi) in enumerate(needed):
            while len(tasks) < min(len(needed), index + prefetch):
                tasks.append(loop.create_task(_get(get, needed[len(tasks)][0])))
            data = await tasks[index]
            async for piece in _walk(get, child, data, lo, hi, size, depth + 1, prefetch):
                yield piece
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


async def _get(get: AsyncGetter, cid: CID) -> bytes:
    return await get(cid)


def _check_protocol(store: NetworkContentStore) -> ContentStore:
    return store  # mypy proves NetworkContentStore satisfies the port
