"""UnixFS file importer and exporter, byte-identical to ``ipfs add``.

Pure module: no I/O. The importer turns a stream of bytes into blocks (fixed 256 KiB chunks,
balanced layout with at most 174 links per node, dag-pb + UnixFS protobuf):

* ``cid_version=1``: raw leaves, CIDv1 (``ipfs add --cid-version=1``, Kubo's default since
  the raw-leaves switch);
* ``cid_version=0``: dag-pb UnixFS ``File`` leaves, CIDv0 (plain ``ipfs add``).

It holds at most one chunk plus at most 174 pending links per tree level, so memory is bounded
for any file size. Blocks are handed back to the caller as soon as they are complete, children
always before their parents.

The exporter reads through a ``BlockGetter`` (the caller's I/O, which must verify every block
against its CID) and walks ``blocksizes`` so a byte range touches only the blocks it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from storage.cid import CID, DAG_PB, RAW
from storage.dagpb import (
    PBLink,
    PBNode,
    UnixFSData,
    UnixFSType,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
)
from storage.errors import InvalidRangeError, MalformedDagError, UnsupportedError

CHUNK_SIZE = 262_144
MAX_LINKS = 174
MAX_DEPTH = 32
"""Deepest DAG the exporter follows (174**31 chunks is far beyond any real file)."""

BlockGetter = Callable[[CID], bytes]
"""Returns the verified bytes of a block, or raises a :class:`StorageError`."""


@dataclass(frozen=True, slots=True)
class Block:
    """A block: its CID and bytes (``cid`` always matches ``data``)."""

    cid: CID
    data: bytes


@dataclass(frozen=True, slots=True)
class _Child:
    cid: CID
    tsize: int
    filesize: int


class FileImporter:
    """Incremental UnixFS file builder.

    ``write()`` and ``finish()`` return the blocks that became complete; store them in order.
    """

    def __init__(
        self, cid_version: int = 1, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
    ) -> None:
        if cid_version not in (0, 1):
            raise UnsupportedError(f"CID version must be 0 or 1, not {cid_version}")
        if chunk_size < 1 or max_links < 2:
            raise ValueError("chunk_size must be >= 1 and max_links >= 2")
        self._version = cid_version
        self._chunk_size = chunk_size
        self._max_links = max_links
        self._buffer = bytearray()
        self._levels: list[list[_Child]] = [[]]
        self._size = 0
        self._finished = False

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    def write(self, data: bytes | bytearray | memoryview) -> list[Block]:
        """Feed bytes; return the blocks completed by them."""
        if self._finished:
            raise RuntimeError("importer already finished")
        out: list[Block] = []
        view = memoryview(data).cast("B")
        self._size += len(view)
        chunk = self._chunk_size
        if self._buffer:
            take = min(chunk - len(self._buffer), len(view))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < chunk:
                return out
            self._add_leaf(bytes(self._buffer), out)
            self._buffer.clear()
        while len(view) >= chunk:
            self._add_leaf(bytes(view[:chunk]), out)
            view = view[chunk:]
        self._buffer += view
        return out

    def finish(self) -> tuple[CID, list[Block]]:
        """Flush the last chunk and the pending tree; return the root CID and final blocks."""
        if self._finished:
            raise RuntimeError("importer already finished")
        self._finished = True
        out: list[Block] = []
        if self._buffer or not any(self._levels):
            self._add_leaf(bytes(self._buffer), out)
            self._buffer.clear()
        level = 0
        while True:
            top = all(not higher for higher in self._levels[level + 1 :])
            children = self._levels[level]
            if top and len(children) == 1:
                return children[0].cid, out
            if children:
                self._levels[level] = []
                self._push(level + 1, self._make_parent(children, out), out)
            level += 1

    # -- internals
    def _add_leaf(self, chunk: bytes, out: list[Block]) -> None:
        if self._version == 1:
            cid = CID.for_block(RAW, chunk)
            out.append(Block(cid, chunk))
            self._push(0, _Child(cid, len(chunk), len(chunk)), out)
            return
        unixfs = UnixFSData(UnixFSType.FILE, chunk if chunk else None, len(chunk))
        block = encode_node(PBNode((), encode_unixfs(unixfs)))
        cid = CID.for_block(DAG_PB, block, version=0)
        out.append(Block(cid, block))
        self._push(0, _Child(cid, len(block), len(chunk)), out)

    def _push(self, level: int, child: _Child, out: list[Block]) -> None:
        if level == len(self._levels):
            self._levels.append([])
        self._levels[level].append(child)
        if len(self._levels[level]) == self._max_links:
            children = self._levels[level]
            self._levels[level] = []
            self._push(level + 1, self._make_parent(children, out), out)

    def _make_parent(self, children: list[_Child], out: list[Block]) -> _Child:
        filesize = sum(c.filesize for c in children)
        unixfs = UnixFSData(UnixFSType.FILE, None, filesize, tuple(c.filesize for c in children))
        links = tuple(PBLink(c.cid, "", c.tsize) for c in children)
        block = encode_node(PBNode(links, encode_unixfs(unixfs)))
        cid = CID.for_block(DAG_PB, block, version=self._version)
        out.append(Block(cid, block))
        return _Child(cid, len(block) + sum(c.tsize for c in children), filesize)


def import_chunks(
    chunks: Iterable[bytes | bytearray | memoryview], cid_version: int = 1
) -> Iterator[Block | CID]:
    """Yield every block of the file made of ``chunks``, then its root CID last."""
    importer = FileImporter(cid_version)
    for chunk in chunks:
        yield from importer.write(chunk)
    root, blocks = importer.finish()
    yield from blocks
    yield root


def import_bytes(data: bytes, cid_version: int = 1) -> tuple[CID, list[Block]]:
    """Import a whole byte string; return its root CID and every block."""
    importer = FileImporter(cid_version)
    blocks = importer.write(data)
    root, tail = importer.finish()
    return root, blocks + tail


# --------------------------------------------------------------------------- exporter
@dataclass(frozen=True, slots=True)
class FileNode:
    """A decoded UnixFS file node: inline data, then children with their content sizes."""

    data: bytes
    children: tuple[tuple[CID, int], ...]
    filesize: int


def decode_file_node(cid: CID, block: bytes) -> FileNode:
    """Interpret a block as (part of) a UnixFS file."""
    if cid.codec == RAW:
        return FileNode(block, (), len(block))
    if cid.codec != DAG_PB:
        raise UnsupportedError(f"{cid} has codec {cid.codec_name}, not a UnixFS file")
    node = decode_node(block)
    if node.data is None:
        raise MalformedDagError(f"{cid} has no UnixFS data")
    unixfs = decode_unixfs(node.data)
    if unixfs.type not in (UnixFSType.FILE, UnixFSType.RAW):
        raise UnsupportedError(f"{cid} is a UnixFS {unixfs.type.name.lower()}, not a file")
    if len(unixfs.blocksizes) != len(node.links):
        raise MalformedDagError(
            f"{cid}: {len(node.links)} links but blocksizes for {len(unixfs.blocksizes)}"
        )
    inline = unixfs.data or b""
    total = len(inline) + sum(unixfs.blocksizes)
    if unixfs.filesize is not None and unixfs.filesize != total:
        raise MalformedDagError(f"{cid}: filesize {unixfs.filesize} != content {total}")
    children = tuple(zip((link.cid for link in node.links), unixfs.blocksizes, strict=True))
    return FileNode(inline, children, total)


def links_of(cid: CID, block: bytes) -> list[CID]:
    """The CIDs a block links to (dag-pb links; none for raw blocks)."""
    if cid.codec == RAW:
        return []
    if cid.codec != DAG_PB:
        raise UnsupportedError(f"{cid} has codec {cid.codec_name}; cannot follow its links")
    return [link.cid for link in decode_node(block).links]


def file_size(get: BlockGetter, cid: CID) -> int:
    """The file size recorded in the root block."""
    return decode_file_node(cid, get(cid)).filesize


def iter_range(
    get: BlockGetter, cid: CID, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Yield the bytes ``[start, end)`` of the file (``end=None``: to the end).

    Only blocks overlapping the range are fetched. Pieces are yielded in order; a child
    whose content does not have the size its parent declares raises :class:`MalformedDagError`.
    """
    if start < 0 or (end is not None and end < start):
        raise InvalidRangeError(f"invalid byte range [{start}, {end})")
    yield from _walk(get, cid, start, end, None, 0)


@dataclass(frozen=True, slots=True)
class RangeStep:
    """What one node of a file contributes to a byte range: its own bytes in the range, then
    the children that overlap it, each as ``(cid, declared size, start, end)`` within it."""

    data: bytes
    children: tuple[tuple[CID, int, int, int], ...]


def range_step(
    cid: CID, block: bytes, start: int, end: int | None, expected: int | None, depth: int
) -> RangeStep:
    """One step of a range walk (the walk itself fetches blocks: here, and in
    ``storage.bitswap.store`` over the network). Checks the depth and that the node holds the
    size its parent declares (``expected``)."""
    if depth > MAX_DEPTH:
        raise MalformedDagError(f"DAG deeper than {MAX_DEPTH} levels at {cid}")
    node = decode_file_node(cid, block)
    if expected is not None and node.filesize != expected:
        raise MalformedDagError(f"{cid} holds {node.filesize} bytes, parent declares {expected}")
    stop = node.filesize if end is None else min(end, node.filesize)
    if start >= stop:
        return RangeStep(b"", ())
    children: list[tuple[CID, int, int, int]] = []
    offset = len(node.data)
    for child, size in node.children:
        lo, hi = offset, offset + size
        offset = hi
        if hi <= start or size == 0:
            continue
        if lo >= stop:
            break
        children.append((child, size, max(start - lo, 0), min(stop, hi) - lo))
    return RangeStep(node.data[start:stop], tuple(children))


def _walk(
    get: BlockGetter, cid: CID, start: int, end: int | None, expected: int | None, depth: int
) -> Iterator[bytes]:
    step = range_step(cid, get(cid), start, end, expected, depth)
    if step.data:
        yield step.data
    for child, size, lo, hi in step.children:
        yield from _walk(get, child, lo, hi, size, depth + 1)


def read_range(get: BlockGetter, cid: CID, start: int, end: int) -> bytes:
    """Return bytes ``[start, end)`` of the file (``end`` clamped to the size)."""
    return b"".join(iter_range(get, cid, start, end))
