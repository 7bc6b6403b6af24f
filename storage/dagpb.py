"""dag-pb (``PBNode``/``PBLink``) and UnixFS ``Data`` protobuf codecs.

Pure module, no I/O. Encoding is canonical (the byte layout Kubo and js-ipfs produce: links
before data, ``Name`` always present on links, non-packed ``blocksizes``). Decoding is strict
for dag-pb (canonical field order, no unknown fields, as the dag-pb spec requires) and
tolerant for the UnixFS message (unknown optional fields such as ``mode``/``mtime`` are
skipped, ``blocksizes`` may be packed or not).

Errors: :class:`MalformedDagError` for anything that does not decode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from storage import protobuf as pb
from storage.cid import CID
from storage.errors import InvalidCIDError, MalformedDagError
from storage.varint import decode_varint, encode_varint


class UnixFSType(IntEnum):
    """UnixFS ``Data.DataType``."""

    RAW = 0
    DIRECTORY = 1
    FILE = 2
    METADATA = 3
    SYMLINK = 4
    HAMT_SHARD = 5


@dataclass(frozen=True, slots=True)
class PBLink:
    """A dag-pb link: target CID, name (``""`` for file chunks) and cumulative size."""

    cid: CID
    name: str | None = ""
    tsize: int | None = None


@dataclass(frozen=True, slots=True)
class PBNode:
    """A dag-pb node: ordered links and optional data."""

    links: tuple[PBLink, ...] = ()
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """The UnixFS message carried in a dag-pb node's ``Data``."""

    type: UnixFSType
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default=())


# --------------------------------------------------------------------------- encoding
def encode_link(link: PBLink) -> bytes:
    """Encode one ``PBLink`` message (without its enclosing length prefix)."""
    out = pb.bytes_field(1, link.cid.to_bytes())
    if link.name is not None:
        out += pb.bytes_field(2, link.name.encode("utf-8"))
    if link.tsize is not None:
        out += pb.key(3, pb.VARINT) + encode_varint(link.tsize)
    return out


def encode_node(node: PBNode) -> bytes:
    """Encode a ``PBNode`` canonically (links first, then data)."""
    parts = [pb.bytes_field(2, encode_link(link)) for link in node.links]
    if node.data is not None:
        parts.append(pb.bytes_field(1, node.data))
    return b"".join(parts)


def encode_unixfs(msg: UnixFSData) -> bytes:
    """Encode a UnixFS ``Data`` message (fields in number order, ``blocksizes`` not packed)."""
    out = pb.key(1, pb.VARINT) + encode_varint(int(msg.type))
    if msg.data is not None:
        out += pb.bytes_field(2, msg.data)
    if msg.filesize is not None:
        out += pb.key(3, pb.VARINT) + encode_varint(msg.filesize)
    for size in msg.blocksizes:
        out += pb.key(4, pb.VARINT) + encode_varint(size)
    return out


# --------------------------------------------------------------------------- decoding
def _fields(buf: bytes | memoryview) -> list[pb.Field]:
    """Split a protobuf message into ``(field_no, wire_type, value)`` triples."""
    try:
        return pb.split(buf)
    except ValueError as exc:
        raise MalformedDagError(f"bad protobuf: {exc}") from exc


def _decode_link(buf: memoryview) -> PBLink:
    cid: CID | None = None
    name: str | None = None
    tsize: int | None = None
    last = 0
    for field_no, wire, value in _fields(buf):
        if field_no <= last:
            raise MalformedDagError("dag-pb link fields out of order or repeated")
        last = field_no
        if field_no == 1 and wire == pb.LEN and isinstance(value, memoryview):
            try:
                cid = CID.from_bytes(bytes(value))
            except InvalidCIDError as exc:
                raise MalformedDagError(f"dag-pb link has an invalid CID: {exc}") from exc
        elif field_no == 2 and wire == pb.LEN and isinstance(value, memoryview):
            try:
                name = bytes(value).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedDagError("dag-pb link name is not UTF-8") from exc
        elif field_no == 3 and wire == pb.VARINT and isinstance(value, int):
            tsize = value
        else:
            raise MalformedDagError(f"unexpected dag-pb link field {field_no}")
    if cid is None:
        raise MalformedDagError("dag-pb link without a Hash")
    return PBLink(cid, name, tsize)


def decode_node(buf: bytes) -> PBNode:
    """Decode a dag-pb block strictly (links then data, nothing else)."""
    links: list[PBLink] = []
    data: bytes | None = None
    for field_no, wire, value in _fields(buf):
        if data is not None:
            raise MalformedDagError("dag-pb field after Data")
        if field_no == 2 and wire == pb.LEN and isinstance(value, memoryview):
            links.append(_decode_link(value))
        elif field_no == 1 and wire == pb.LEN and isinstance(value, memoryview):
            data = bytes(value)
        else:
            raise MalformedDagError(f"unexpected dag-pb field {field_no}")
    return PBNode(tuple(links), data)


def decode_unixfs(buf: bytes) -> UnixFSData:
    """Decode a UnixFS ``Data`` message."""
    type_: int | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for field_no, wire, value in _fields(buf):
        if field_no == 1 and wire == pb.VARINT and isinstance(value, int):
            type_ = value
        elif field_no == 2 and wire == pb.LEN and isinstance(value, memoryview):
            data = bytes(value)
        elif field_no == 3 and wire == pb.VARINT and isinstance(value, int):
            filesize = value
        elif field_no == 4 and wire == pb.VARINT and isinstance(value, int):
            blocksizes.append(value)
        elif field_no == 4 and wire == pb.LEN and isinstance(value, memoryview):
            pos = 0
            try:
                while pos < len(value):
                    size, pos = decode_varint(value, pos)
                    blocksizes.append(size)
            except ValueError as exc:
                raise MalformedDagError(f"bad packed blocksizes: {exc}") from exc
        elif field_no in (1, 2, 3, 4):
            raise MalformedDagError(f"UnixFS field {field_no} has the wrong wire type")
        # fields 5.. (hashType, fanout, mode, mtime) do not affect file content
    if type_ is None:
        raise MalformedDagError("UnixFS message without a Type")
    try:
        kind = UnixFSType(type_)
    except ValueError as exc:
        raise MalformedDagError(f"unknown UnixFS type {type_}") from exc
    return UnixFSData(kind, data, filesize, tuple(blocksizes))
