"""Content-addressed block stores: one file per block on disk, and an in-memory fake.

Blocks are keyed by their multihash (like Kubo's flatfs), so the same bytes stored under a
raw and a dag-pb CID occupy one file. Every ``get`` hashes the bytes against the CID asked for:
a corrupt block raises :class:`CorruptBlockError`, it never returns bytes.

On-disk layout (``FileBlockStore(root)``)::

    <root>/blocks/<xy>/<key>     key = base32 of the multihash, xy = its next-to-last 2 chars
    <root>/tmp/                  partial writes; emptied when the owner opens the store

Writes go to ``tmp/`` and are renamed into place, so a reader (or a crash) never sees a partial
block. With ``fsync=True`` (the default) each block is fsynced before the rename and
:meth:`FileBlockStore.flush` fsyncs the directories written since the last flush: call it
before recording anything (a pin) that relies on the blocks being durable.

All methods are blocking and thread-safe (many readers, writers serialised by the caller for
anything beyond single-block atomicity). Use them from worker threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from storage.cid import CID, b32decode, b32encode
from storage.errors import BlockNotFoundError, StoreIOError


class BlockStore(Protocol):
    """The block API the content store (and, later, bitswap) uses."""

    def has(self, cid: CID) -> bool:
        """True if the block is present (not verified)."""
        ...

    def get(self, cid: CID) -> bytes:
        """The block's bytes, verified against ``cid``."""
        ...

    def put(self, cid: CID, data: bytes, *, verify: bool = True) -> bool:
        """Store a block (``verify=False`` only for bytes the caller just hashed).
        Returns True if it was new."""
        ...

    def delete(self, multihash: bytes) -> int | None:
        """Remove the block with this multihash; return its size (None if it was absent)."""
        ...

    def entries(self) -> Iterator[tuple[bytes, int]]:
        """Every stored block as ``(multihash, size)``."""
        ...

    def flush(self) -> None:
        """Make every block written so far durable."""
        ...


def block_key(multihash: bytes) -> str:
    """The file name of a block: base32 (lower case) of its multihash."""
    return b32encode(multihash)


class FileBlockStore:
    """Blocks as files under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: Path, *, fsync: bool = True, owner: bool = True) -> None:
        self._root = Path(root)
        self._blocks = self._root / "blocks"
        self._tmp = self._root / "tmp"
        self._fsync = fsync
        self._dirty: set[Path] = set()
        self._shards: set[str] = set()
        self._lock = threading.Lock()
        self._counter = 0
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            if owner:  # only the data dir's owner may remove another write's leftovers
                for stale in self._tmp.iterdir():
                    stale.unlink()
        except OSError as exc:
            raise StoreIOError(f"cannot open block store at {self._root}: {exc}") from exc

    @property
    def root(self) -> Path:
        """The store's folder."""
        return self._root

    def _path(self, multihash: bytes) -> Path:
        key = block_key(multihash)
        return self._blocks / key[-3:-1] / key

    def has(self, cid: CID) -> bool:
        """True if a block with the CID's multihash is present."""
        return self._path(cid.multihash).is_file()

    def get(self, cid: CID) -> bytes:
        """Read and verify a block."""
        try:
            data = self._path(cid.multihash).read_bytes()
        except FileNotFoundError as exc:
            raise BlockNotFoundError(f"block {cid} is not in the store", cid=str(cid)) from exc
        except OSError as exc:
            raise StoreIOError(f"cannot read block {cid}: {exc}") from exc
        cid.verify(data)
        return data

    def put(self, cid: CID, data: bytes, *, verify: bool = True) -> bool:
        """Write a block atomically (temp file + rename); no-op if present."""
        if verify:
            cid.verify(data)
        path = self._path(cid.multihash)
        if path.is_file():
            return False
        with self._lock:
            self._counter += 1
            tmp = self._tmp / f"{os.getpid()}-{threading.get_ident()}-{self._counter}"
        try:
            if path.parent.name not in self._shards:
                path.parent.mkdir(exist_ok=True)
                self._shards.add(path.parent.name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreIOError(f"cannot write block {cid}: {exc}") from exc
        if self._fsync:
            with self._lock:
                self._dirty.add(path.parent)
        return True

    def delete(self, multihash: bytes) -> int | None:
        """Remove a block file; return its size (None if it was absent)."""
        path = self._path(multihash)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreIOError(f"cannot delete block {block_key(multihash)}: {exc}") from exc
        return size

    def entries(self) -> Iterator[tuple[bytes, int]]:
        """Scan the block folders."""
        try:
            shards = sorted(self._blocks.iterdir())
        except OSError as exc:
            raise StoreIOError(f"cannot list {self._blocks}: {exc}") from exc
        for shard in shards:
            try:
                entries = list(os.scandir(shard))
            except FileNotFoundError:
                continue
            for entry in entries:
                try:
                    multihash = b32decode(entry.name)
                    size = entry.stat().st_size
                except (ValueError, FileNotFoundError):
                    continue
                yield multihash, size

    def flush(self) -> None:
        """fsync the directories that received blocks since the last flush."""
        if not self._fsync:
            return
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        try:
            for folder in sorted(dirty):
                fd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise StoreIOError(f"cannot sync block store: {exc}") from exc


class MemoryBlockStore:
    """In-memory :class:`BlockStore` (public fake for unit tests and ephemeral peers)."""

    def __init__(self) -> None:
        self._blocks: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def has(self, cid: CID) -> bool:
        """True if present."""
        return cid.multihash in self._blocks

    def get(self, cid: CID) -> bytes:
        """The verified bytes."""
        data = self._blocks.get(cid.multihash)
        if data is None:
            raise BlockNotFoundError(f"block {cid} is not in the store", cid=str(cid))
        cid.verify(data)
        return data

    def put(self, cid: CID, data: bytes, *, verify: bool = True) -> bool:
        """Store a block."""
        if verify:
            cid.verify(data)
        with self._lock:
            if cid.multihash in self._blocks:
                return False
            self._blocks[cid.multihash] = bytes(data)
            return True

    def delete(self, multihash: bytes) -> int | None:
        """Remove a block."""
        with self._lock:
            data = self._blocks.pop(multihash, None)
        return None if data is None else len(data)

    def entries(self) -> Iterator[tuple[bytes, int]]:
        """Snapshot of the stored blocks."""
        with self._lock:
            items = [(k, len(v)) for k, v in self._blocks.items()]
        yield from items

    def flush(self) -> None:
        """Nothing to do in memory."""

    def corrupt(self, cid: CID, data: bytes) -> None:
        """Replace a block's bytes without verification (for tests of corruption handling)."""
        with self._lock:
            self._blocks[cid.multihash] = data
