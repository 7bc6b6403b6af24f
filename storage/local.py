"""The local store: block store + pin set + UnixFS, with crash-safe ordering and GC.

Blocking, thread-safe core of the embedded ``ContentStore`` (which runs it in worker threads).

Ordering rules that make a crash (even SIGKILL mid-write) harmless:

* blocks are written atomically (temp file + rename) and children before parents;
* a pin is recorded only after every block of its DAG is written and flushed;
* GC deletes only blocks unreachable from the recorded pins; a crash mid-GC leaves fewer
  unreachable blocks, never a pinned DAG with holes.

Concurrency: any number of readers; imports write blocks concurrently through an
:class:`ImportSession`, which registers each block as *in flight* before writing it so a
concurrent GC cannot delete it before the session pins its root. Pin-set changes and GC are
serialised by one writer lock.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from storage import unixfs
from storage.blockstore import BlockStore, FileBlockStore, MemoryBlockStore
from storage.cid import CID, DAG_PB, RAW
from storage.dagpb import decode_node
from storage.errors import (
    BlockNotFoundError,
    CorruptBlockError,
    IncompleteDagError,
    NotPinnedError,
    StorageError,
    StoreIOError,
)
from storage.pins import MemoryPinStore, PinStore, SqlitePinStore
from storage.ports import ContentStat, GcResult, Pin, PinKind, StoreUsage

ProgressFn = Callable[[int, int | None], None]
READ_SIZE = 4 * unixfs.CHUNK_SIZE


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Result of :meth:`LocalStore.verify`."""

    blocks: int
    corrupt: tuple[str, ...] = ()
    incomplete_pins: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every block is intact and every pinned DAG is complete."""
        return not self.corrupt and not self.incomplete_pins


@dataclass
class _DagSummary:
    blocks: int = 0
    cumulative: int = 0
    missing: list[CID] = field(default_factory=list)


class ImportSession:
    """Writes blocks that a concurrent GC must not collect until the root is pinned."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._keys: list[bytes] = []

    def put(self, cid: CID, data: bytes, *, verify: bool = True) -> None:
        """Register the block as in flight, then write it."""
        self._store._hold(cid.multihash)
        self._keys.append(cid.multihash)
        self._store.blocks.put(cid, data, verify=verify)

    def pin(self, root: CID, kind: PinKind = PinKind.RECURSIVE) -> None:
        """Flush the written blocks and record the pin."""
        self._store.blocks.flush()
        with self._store._writer:
            self._store.pin_store.set(root, kind)

    def close(self) -> None:
        """Release the in-flight holds (blocks not pinned by now become collectable)."""
        self._store._release(self._keys)
        self._keys = []

    def __enter__(self) -> ImportSession:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LocalStore:
    """UnixFS content over a :class:`BlockStore` and a :class:`PinStore`."""

    def __init__(self, blocks: BlockStore, pins: PinStore, *, write_threads: int = 1) -> None:
        self.blocks = blocks
        self.pin_store = pins
        self.write_threads = write_threads
        self._writer = threading.Lock()
        self._inflight: Counter[bytes] = Counter()
        self._inflight_lock = threading.Lock()

    @classmethod
    def open(cls, root: Path, *, fsync: bool = True, owner: bool = True) -> LocalStore:
        """The on-disk store in ``root`` (``<data>/store``).

        ``owner=False`` opens it beside the owning process (a reader, e.g. ``toktok cat``
        while the daemon runs): leftovers of interrupted writes are then left alone.
        """
        blocks = FileBlockStore(root, fsync=fsync, owner=owner)
        pins = SqlitePinStore(Path(root) / "pins.sqlite")
        return cls(blocks, pins, write_threads=4 if fsync else 1)

    @classmethod
    def memory(cls) -> LocalStore:
        """A store that lives in memory (public fake)."""
        return cls(MemoryBlockStore(), MemoryPinStore())

    # -- in-flight bookkeeping
    def _hold(self, key: bytes) -> None:
        with self._inflight_lock:
            self._inflight[key] += 1

    def _release(self, keys: Iterable[bytes]) -> None:
        with self._inflight_lock:
            self._inflight.subtract(keys)
            for key in [k for k, n in self._inflight.items() if n <= 0]:
                del self._inflight[key]

    def session(self) -> ImportSession:
        """Start writing blocks of a DAG to be pinned (use as a context manager)."""
        return ImportSession(self)

    # -- import
    def import_chunks(
        self,
        chunks: Iterable[bytes | bytearray | memoryview],
        *,
        cid_version: int = 1,
        pin: bool = True,
        progress: ProgressFn | None = None,
        total: int | None = None,
    ) -> CID:
        """Import a file given as byte chunks; pin it recursively unless ``pin=False``."""
        importer = unixfs.FileImporter(cid_version)
        with self.session() as session, _Writer(session, self.write_threads) as writer:
            for chunk in chunks:
                for block in importer.write(chunk):
                    writer.put(block)
                if progress is not None:
                    progress(importer.size, total)
            root, tail = importer.finish()
            for block in tail:
                writer.put(block)
            writer.drain()
            if pin:
                session.pin(root)
        return root

    def import_file(
        self,
        path: Path | str,
        *,
        cid_version: int = 1,
        pin: bool = True,
        progress: ProgressFn | None = None,
    ) -> CID:
        """Import a file from disk, streamed in 1 MiB reads."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, reads are streamed
        except OSError as exc:
            raise StoreIOError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with handle:
            total = os.fstat(handle.fileno()).st_size
            return self.import_chunks(
                _read_chunks(handle, path),
                cid_version=cid_version,
                pin=pin,
                progress=progress,
                total=total,
            )

    # -- read
    def get(self, cid: CID) -> bytes:
        """A verified block."""
        return self.blocks.get(cid)

    def iter_file(self, cid: CID, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The file's bytes ``[start, end)``, block by block."""
        return unixfs.iter_range(self.blocks.get, cid, start, end)

    def read_range(self, cid: CID, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the file."""
        return unixfs.read_range(self.blocks.get, cid, start, end)

    # -- pins
    def pin(self, cid: CID, *, recursive: bool = True) -> None:
        """Pin content already in the store (the whole DAG must be present if recursive)."""
        with self._writer:
            if recursive:
                summary = self._summarise(cid)
                if summary.missing:
                    raise IncompleteDagError(
                        f"cannot pin {cid}: block {summary.missing[0]} is missing "
                        f"({len(summary.missing)} missing); fetch it first",
                        missing=str(summary.missing[0]),
                    )
            elif not self.blocks.has(cid):
                raise BlockNotFoundError(f"cannot pin {cid}: it is not in the store", str(cid))
            self.blocks.flush()
            self.pin_store.set(cid, PinKind.RECURSIVE if recursive else PinKind.DIRECT)

    def unpin(self, cid: CID) -> None:
        """Remove a pin."""
        with self._writer:
            if not self.pin_store.remove(cid):
                raise NotPinnedError(f"{cid} is not pinned")

    def is_pinned(self, cid: CID) -> bool:
        """True if ``cid`` carries a pin."""
        return self.pin_store.get(cid) is not None

    def pins(self) -> list[Pin]:
        """Every pin."""
        return self.pin_store.all()

    # -- stats
    def stat(self, cid: CID) -> ContentStat:
        """Size, block count and locality of some content."""
        root = self.blocks.get(cid)
        size = unixfs.decode_file_node(cid, root).filesize
        summary = self._summarise(cid)
        return ContentStat(cid, size, summary.cumulative, summary.blocks, not summary.missing)

    def usage(self) -> StoreUsage:
        """Blocks and bytes stored, pins recorded."""
        count = total = 0
        for _, size in self.blocks.entries():
            count += 1
            total += size
        return StoreUsage(count, total, len(self.pin_store.all()))

    # -- GC and verification
    def gc(self) -> GcResult:
        """Delete every block not reachable from a pin (nor held by a running import).

        Raises :class:`IncompleteDagError` (and deletes nothing) if a pinned DAG has a
        missing block, since its unreachable-looking descendants could not be told apart.
        """
        with self._writer:
            keep: set[bytes] = set()
            for pin in self.pin_store.all():
                if pin.kind is PinKind.DIRECT:
                    keep.add(pin.cid.multihash)
                    continue
                summary = self._summarise(pin.cid, keep)
                if summary.missing:
                    raise IncompleteDagError(
                        f"GC aborted: pinned {pin.cid} lacks block {summary.missing[0]}; "
                        "re-add or unpin it, then run GC again",
                        missing=str(summary.missing[0]),
                    )
            removed = freed = 0
            for key, _ in list(self.blocks.entries()):
                if key in keep:
                    continue
                with self._inflight_lock:
                    if self._inflight[key] > 0:
                        continue
                    size = self.blocks.delete(key)
                if size is not None:
                    removed += 1
                    freed += size
            return GcResult(removed, freed)

    def verify(self) -> VerifyReport:
        """Hash every block against its key and check every pinned DAG is complete."""
        corrupt: list[str] = []
        count = 0
        for key, _ in self.blocks.entries():
            count += 1
            cid = CID(1, RAW, key)
            try:
                self.blocks.get(cid)
            except CorruptBlockError:
                corrupt.append(str(cid))
            except BlockNotFoundError:
                count -= 1
        incomplete: list[str] = []
        for pin in self.pin_store.all():
            try:
                missing = (
                    self._summarise(pin.cid).missing
                    if pin.kind is PinKind.RECURSIVE
                    else ([] if self.blocks.has(pin.cid) else [pin.cid])
                )
            except StorageError:
                missing = [pin.cid]
            if missing:
                incomplete.append(str(pin.cid))
        return VerifyReport(count, tuple(corrupt), tuple(incomplete))

    def _summarise(self, root: CID, seen: set[bytes] | None = None) -> _DagSummary:
        """Walk a DAG: count blocks and bytes, list missing blocks, add keys to ``seen``.

        Raw blocks are only checked for presence (their size comes from the parent's
        ``Tsize``); dag-pb blocks are read and verified to follow their links.
        """
        seen = set() if seen is None else seen
        summary = _DagSummary()
        stack: list[tuple[CID, int | None]] = [(root, None)]
        while stack:
            cid, tsize = stack.pop()
            if cid.multihash in seen:
                continue
            if cid.codec == RAW and tsize is not None:
                if not self.blocks.has(cid):
                    summary.missing.append(cid)
                    continue
                seen.add(cid.multihash)
                summary.blocks += 1
                summary.cumulative += tsize
                continue
            try:
                data = self.blocks.get(cid)
            except BlockNotFoundError:
                summary.missing.append(cid)
                continue
            seen.add(cid.multihash)
            summary.blocks += 1
            summary.cumulative += len(data)
            if cid.codec == DAG_PB:
                for link in reversed(decode_node(data).links):
                    stack.append((link.cid, link.tsize))
        return summary


class _Writer:
    """Writes a session's blocks on up to ``threads`` threads, at most ``4 * threads`` queued.

    Parallel fsyncs let the file system commit several blocks per journal flush; the bounded
    queue keeps memory bounded. ``drain()`` waits for every write (and re-raises the first
    error) before the caller pins.
    """

    def __init__(self, session: ImportSession, threads: int) -> None:
        self._session = session
        self._pool = ThreadPoolExecutor(threads, "toktok-store") if threads > 1 else None
        self._window = 4 * threads
        self._pending: deque[Future[None]] = deque()

    def put(self, block: unixfs.Block) -> None:
        if self._pool is None:
            self._session.put(block.cid, block.data, verify=False)
            return
        if len(self._pending) >= self._window:
            self._pending.popleft().result()
        self._pending.append(
            self._pool.submit(self._session.put, block.cid, block.data, verify=False)
        )

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)


def _read_chunks(handle: BinaryIO, path: Path | str) -> Iterator[memoryview]:
    buf = bytearray(READ_SIZE)
    view = memoryview(buf)
    while True:
        try:
            n = handle.readinto(buf)  # type: ignore[attr-defined]
        except OSError as exc:
            raise StoreIOError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not n:
            return
        yield view[:n]
