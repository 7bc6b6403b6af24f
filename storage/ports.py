"""The ``ContentStore`` port: what the rest of Toktok needs from IPFS-style storage.

Implementations: the embedded store (``storage.embedded``, our block store + pin set, and its
in-memory fake) and, later, a Kubo-RPC backend. One conformance suite
(``tests/integration/storage/test_content_store_conformance.py``) runs against all of them.

Conventions shared by every implementation:

* CIDs are :class:`storage.cid.CID` values; methods also accept the string form.
* Content is a UnixFS file: 256 KiB fixed chunks, balanced layout (174 links). ``cid_version=1``
  (default) gives raw leaves and CIDv1 base32, identical to ``ipfs add --cid-version=1``;
  ``cid_version=0`` is identical to plain ``ipfs add``.
* Adding pins recursively by default (like ``ipfs add``).
* Byte ranges are half-open: ``read_range(cid, start, end)`` returns bytes ``[start, end)``;
  ``end`` beyond the file size is clamped, ``start >= size`` returns ``b""``.
* Every block is verified against its CID before its bytes are returned; a mismatch raises
  :class:`storage.errors.CorruptBlockError`, never returns bytes.
* Blocking work runs in worker threads; all methods are safe to call from the event loop.
* ``progress`` callbacks receive ``(bytes_done, bytes_total_or_None)`` and are invoked on the
  event loop thread.
* Errors are :class:`storage.errors.StorageError` subclasses (see ``storage/errors.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from storage.cid import CID

ProgressCallback = Callable[[int, int | None], None]
"""Called with ``(bytes_done, bytes_total)``; ``bytes_total`` is ``None`` when unknown."""


class PinKind(StrEnum):
    """How a CID is pinned: the whole DAG (``recursive``) or only its root block (``direct``)."""

    RECURSIVE = "recursive"
    DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Pin:
    """One entry of the pin set."""

    cid: CID
    kind: PinKind


@dataclass(frozen=True, slots=True)
class ContentStat:
    """What ``stat(cid)`` reports about one piece of content."""

    cid: CID
    size: int
    """File size in bytes (UnixFS ``filesize``; block length for a raw block)."""
    cumulative_size: int
    """Bytes of all blocks of the DAG as stored (like Kubo's ``CumulativeSize``)."""
    blocks: int
    """Number of blocks in the DAG."""
    local: bool
    """True when every block of the DAG is present locally."""


@dataclass(frozen=True, slots=True)
class StoreUsage:
    """Disk usage of the whole store (``toktok storage stats``)."""

    blocks: int
    bytes: int
    pins: int


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a garbage collection removed."""

    removed_blocks: int
    freed_bytes: int


@runtime_checkable
class ContentStore(Protocol):
    """Add, read, pin and collect content-addressed files."""

    async def add_file(
        self,
        path: Path | str,
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import the file at ``path`` (streamed, bounded memory) and return its root CID."""
        ...

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        """Import ``data`` as a UnixFS file and return its root CID."""
        ...

    async def add_stream(
        self,
        chunks: AsyncIterable[bytes],
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Import a file given as an async stream of byte chunks of any sizes."""
        ...

    def open(self, cid: CID | str) -> AsyncIterator[bytes]:
        """Stream the whole file's bytes, block by block (each verified before it is yielded).

        A missing root raises :class:`BlockNotFoundError` on the first iteration.
        """
        ...

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes:
        """Return bytes ``[start, end)`` of the file, touching only the blocks needed."""
        ...

    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        """Pin ``cid``. A recursive pin requires the whole DAG to be present
        (:class:`IncompleteDagError` otherwise). Re-pinning changes the kind if needed."""
        ...

    async def unpin(self, cid: CID | str) -> None:
        """Remove the pin on ``cid`` (:class:`NotPinnedError` if there is none)."""
        ...

    async def is_pinned(self, cid: CID | str) -> bool:
        """True if ``cid`` itself carries a pin (direct or recursive)."""
        ...

    async def pins(self) -> list[Pin]:
        """Every pin, sorted by CID string."""
        ...

    async def stat(self, cid: CID | str) -> ContentStat:
        """Size and block count of the content (:class:`BlockNotFoundError` if absent)."""
        ...

    async def usage(self) -> StoreUsage:
        """Blocks, bytes on disk and pins of the whole store."""
        ...

    async def gc(self) -> GcResult:
        """Remove every block not reachable from a pin; never removes pinned data."""
        ...
