"""Bitswap 1.0.0 / 1.1.0 / 1.2.0 wire format: the protobuf ``Message`` and its stream framing.

Pure module: no I/O. A bitswap stream carries any number of messages, each prefixed by its
length as an unsigned varint. The protobuf (from the bitswap spec)::

    message Message {
      message Wantlist {
        enum WantType { Block = 0; Have = 1; }
        message Entry {
          bytes block = 1;         // the CID, binary
          int32 priority = 2;
          bool cancel = 3;
          WantType wantType = 4;   // 1.2.0
          bool sendDontHave = 5;   // 1.2.0
        }
        repeated Entry entries = 1;
        bool full = 2;
      }
      message Block {
        bytes prefix = 1;          // CID prefix: version, codec, multihash type, length
        bytes data = 2;
      }
      enum BlockPresenceType { Have = 0; DontHave = 1; }
      message BlockPresence { bytes cid = 1; BlockPresenceType type = 2; }
      Wantlist wantlist = 1;
      repeated bytes blocks = 2;           // 1.0.0: raw bytes, CIDv0 implied
      repeated Block payload = 3;          // 1.1.0+
      repeated BlockPresence blockPresences = 4;
      int32 pendingBytes = 5;
    }

Decoding skips unknown fields (forward compatibility, as protobuf intends) but rejects
truncated or impossible input with :class:`BitswapProtocolError`. A received block's CID is
rebuilt from its prefix and the hash of its bytes, so a block can never be filed under a CID
it does not hash to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from storage import protobuf as pb
from storage.cid import CID, DAG_PB, SHA2_256, sha256_multihash
from storage.errors import BitswapProtocolError, InvalidCIDError
from storage.varint import decode_varint, encode_varint

PROTOCOL_120 = "/ipfs/bitswap/1.2.0"
PROTOCOL_110 = "/ipfs/bitswap/1.1.0"
PROTOCOL_100 = "/ipfs/bitswap/1.0.0"
PROTOCOL_LEGACY = "/ipfs/bitswap"
PROTOCOLS: tuple[str, ...] = (PROTOCOL_120, PROTOCOL_110, PROTOCOL_100, PROTOCOL_LEGACY)
"""Every protocol id we speak, preferred first."""

MAX_MESSAGE_SIZE = 4 * 1024 * 1024
"""Largest message we read or write (the libp2p/Kubo limit); a larger length prefix is an error."""
MAX_BLOCK_SIZE = 2 * 1024 * 1024
"""Largest block accepted (the bitswap spec's limit)."""


class WantType(IntEnum):
    """``Wantlist.WantType``: send the block, or only say whether we have it."""

    BLOCK = 0
    HAVE = 1


class PresenceType(IntEnum):
    """``BlockPresenceType``."""

    HAVE = 0
    DONT_HAVE = 1


@dataclass(frozen=True, slots=True)
class WantEntry:
    """One wantlist entry."""

    cid: CID
    priority: int = 1
    cancel: bool = False
    want_type: WantType = WantType.BLOCK
    send_dont_have: bool = False


@dataclass(frozen=True, slots=True)
class Presence:
    """A HAVE / DONT_HAVE answer for one CID."""

    cid: CID
    type: PresenceType


@dataclass(frozen=True, slots=True)
class BitswapMessage:
    """A decoded (or to-be-encoded) bitswap message."""

    wants: tuple[WantEntry, ...] = ()
    full: bool = False
    blocks: tuple[tuple[CID, bytes], ...] = field(default=())
    presences: tuple[Presence, ...] = ()
    pending_bytes: int = 0
    has_wantlist: bool = False
    """True when the message carried a ``wantlist`` field (even an empty one)."""


# --------------------------------------------------------------------------- encoding
def cid_prefix(cid: CID) -> bytes:
    """The CID prefix of a ``payload`` block: version, codec, multihash code and length."""
    code, digest = cid.hash_code, cid.digest
    return b"".join(encode_varint(v) for v in (cid.version, cid.codec, code, len(digest)))


def encode_entry(entry: WantEntry) -> bytes:
    """One ``Wantlist.Entry`` (without its enclosing length prefix)."""
    out = pb.bytes_field(1, entry.cid.to_bytes()) + pb.int_field(2, entry.priority)
    if entry.cancel:
        out += pb.int_field(3, 1)
    if entry.want_type is not WantType.BLOCK:
        out += pb.int_field(4, int(entry.want_type))
    if entry.send_dont_have:
        out += pb.int_field(5, 1)
    return out


def encode_message(msg: BitswapMessage) -> bytes:
    """Encode a message (1.1.0+ layout: blocks go to ``payload`` with their prefix)."""
    parts: list[bytes] = []
    if msg.wants or msg.full or msg.has_wantlist:
        wl = b"".join(pb.bytes_field(1, encode_entry(e)) for e in msg.wants)
        if msg.full:
            wl += pb.int_field(2, 1)
        parts.append(pb.bytes_field(1, wl))
    for cid, data in msg.blocks:
        parts.append(
            pb.bytes_field(3, pb.bytes_field(1, cid_prefix(cid)) + pb.bytes_field(2, data))
        )
    for presence in msg.presences:
        body = pb.bytes_field(1, presence.cid.to_bytes())
        if presence.type is not PresenceType.HAVE:
            body += pb.int_field(2, int(presence.type))
        parts.append(pb.bytes_field(4, body))
    if msg.pending_bytes:
        parts.append(pb.int_field(5, msg.pending_bytes))
    return b"".join(parts)


def frame(payload: bytes) -> bytes:
    """Length-prefix one encoded message for the stream."""
    if len(payload) > MAX_MESSAGE_SIZE:
        raise BitswapProtocolError(
            f"message of {len(payload)} bytes exceeds the {MAX_MESSAGE_SIZE} byte limit"
        )
    return encode_varint(len(payload)) + payload


# --------------------------------------------------------------------------- decoding
def _fields(buf: bytes | memoryview, what: str) -> list[pb.Field]:
    """The varint and length-delimited fields (fixed-size ones are skipped)."""
    try:
        return [f for f in pb.split(buf) if f[1] in (pb.VARINT, pb.LEN)]
    except ValueError as exc:
        raise BitswapProtocolError(f"{what}: {exc}") from exc


def _as_bytes(value: int | memoryview, what: str) -> bytes:
    if isinstance(value, int):
        raise BitswapProtocolError(f"{what}: expected bytes, got a varint")
    return bytes(value)


def _as_int(value: int | memoryview, what: str) -> int:
    if not isinstance(value, int):
        raise BitswapProtocolError(f"{what}: expected a varint, got bytes")
    return value


def _cid(raw: bytes, what: str) -> CID:
    try:
        return CID.from_bytes(raw)
    except InvalidCIDError as exc:
        raise BitswapProtocolError(f"{what}: invalid CID ({exc})") from exc


def _decode_entry(buf: memoryview) -> WantEntry:
    cid: CID | None = None
    priority, cancel, want_type, dont_have = 1, False, WantType.BLOCK, False
    for number, _, value in _fields(buf, "wantlist entry"):
        if number == 1:
            cid = _cid(_as_bytes(value, "entry.block"), "wantlist entry")
        elif number == 2:
            priority = _as_int(value, "entry.priority") & 0x7FFFFFFF
        elif number == 3:
            cancel = bool(_as_int(value, "entry.cancel"))
        elif number == 4:
            kind = _as_int(value, "entry.wantType")
            want_type = WantType.HAVE if kind == WantType.HAVE else WantType.BLOCK
        elif number == 5:
            dont_have = bool(_as_int(value, "entry.sendDontHave"))
    if cid is None:
        raise BitswapProtocolError("wantlist entry without a CID")
    return WantEntry(cid, priority, cancel, want_type, dont_have)


def block_cid(prefix: bytes, data: bytes | memoryview) -> CID:
    """The CID of a received block: the sender's prefix plus OUR hash of the bytes."""
    try:
        version, pos = decode_varint(prefix)
        codec, pos = decode_varint(prefix, pos)
        code, pos = decode_varint(prefix, pos)
        length, pos = decode_varint(prefix, pos)
    except ValueError as exc:
        raise BitswapProtocolError(f"bad block prefix ({exc})") from exc
    if code != SHA2_256 or length != 32:
        raise BitswapProtocolError(f"block hash {hex(code)}/{length} is not supported (sha2-256)")
    if version not in (0, 1) or (version == 0 and codec != DAG_PB):
        raise BitswapProtocolError(f"bad block prefix: CIDv{version} with codec {hex(codec)}")
    return CID(version, codec, sha256_multihash(data))


def decode_message(buf: bytes | memoryview) -> BitswapMessage:
    """Decode one message (without its length prefix)."""
    wants: list[WantEntry] = []
    full = has_wantlist = False
    blocks: list[tuple[CID, bytes]] = []
    presences: list[Presence] = []
    pending = 0
    for number, _, value in _fields(buf, "bitswap message"):
        if number == 1:
            has_wantlist = True
            for sub, _, item in _fields(_as_bytes(value, "wantlist"), "wantlist"):
                if sub == 1:
                    wants.append(_decode_entry(memoryview(_as_bytes(item, "entry"))))
                elif sub == 2:
                    full = bool(_as_int(item, "wantlist.full"))
        elif number == 2:
            data = _as_bytes(value, "blocks")
            _check_block_size(len(data))
            blocks.append((CID(0, DAG_PB, sha256_multihash(data)), data))
        elif number == 3:
            prefix, data_b = b"", b""
            for sub, _, item in _fields(_as_bytes(value, "payload"), "payload block"):
                if sub == 1:
                    prefix = _as_bytes(item, "payload.prefix")
                elif sub == 2:
                    data_b = _as_bytes(item, "payload.data")
            _check_block_size(len(data_b))
            blocks.append((block_cid(prefix, data_b), data_b))
        elif number == 4:
            cid_b: bytes | None = None
            kind = PresenceType.HAVE
            for sub, _, item in _fields(_as_bytes(value, "presence"), "block presence"):
                if sub == 1:
                    cid_b = _as_bytes(item, "presence.cid")
                elif sub == 2:
                    kind = (
                        PresenceType.DONT_HAVE
                        if _as_int(item, "presence.type") == PresenceType.DONT_HAVE
                        else PresenceType.HAVE
                    )
            if cid_b is None:
                raise BitswapProtocolError("block presence without a CID")
            presences.append(Presence(_cid(cid_b, "block presence"), kind))
        elif number == 5:
            pending = _as_int(value, "pendingBytes") & 0x7FFFFFFF
    return BitswapMessage(
        tuple(wants), full, tuple(blocks), tuple(presences), pending, has_wantlist
    )


def _check_block_size(size: int) -> None:
    if size > MAX_BLOCK_SIZE:
        raise BitswapProtocolError(f"block of {size} bytes exceeds {MAX_BLOCK_SIZE}")


class FrameReader:
    """Splits a byte stream into length-prefixed messages (bounded by ``max_size``)."""

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buf = bytearray()
        self._max = max_size

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message now complete (payloads, in order)."""
        self._buf += data
        out: list[bytes] = []
        while self._buf:
            try:
                length, pos = decode_varint(bytes(self._buf[:10]))
            except ValueError as exc:
                if len(self._buf) < 10 and "truncated" in str(exc):
                    break
                raise BitswapProtocolError(f"bad message length prefix ({exc})") from exc
            if length > self._max:
                raise BitswapProtocolError(
                    f"message of {length} bytes exceeds the {self._max} byte limit"
                )
            if len(self._buf) < pos + length:
                break
            out.append(bytes(self._buf[pos : pos + length]))
            del self._buf[: pos + length]
        return out
