"""Content identifiers (CIDv0 / CIDv1), multihash and the multibases we use (varints are
:mod:`storage.varint`).

Pure module, no I/O. Supports exactly what Toktok content needs:

* codecs ``dag-pb`` (0x70) and ``raw`` (0x55); other codecs parse but are kept opaque;
* multihash ``sha2-256`` (0x12, 32 bytes) for hashing and verification; other hash
  functions parse but :meth:`CID.verify` raises :class:`UnsupportedError`;
* string forms: CIDv0 is base58btc without prefix (``Qm...``); CIDv1 is written in
  base32 lower case (``b...``, Kubo's default) and parsed from base32 (``b`` lower case,
  ``B`` upper case), base58btc (``z``) and base16 (``f`` lower case, ``F`` upper case);
  varints must be minimal, a multihash digest may not be empty, and nothing may follow it.

:func:`is_cid` is the yes/no form the feed rules use ("the manifest field names content").
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

from storage.errors import CorruptBlockError, InvalidCIDError, UnsupportedError
from storage.varint import decode_varint, encode_varint

DAG_PB: Final = 0x70
RAW: Final = 0x55
SHA2_256: Final = 0x12
_CIDV1: Final = 0x01
MAX_CID_CHARS: Final = 256
"""The longest CID string :func:`is_cid` accepts (a sha2-256 CIDv1 in base32 has 59)."""

CODEC_NAMES: Final[dict[int, str]] = {DAG_PB: "dag-pb", RAW: "raw"}

_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}


# --------------------------------------------------------------------------- multibase
def b58encode(data: bytes) -> str:
    """Bitcoin base58 (used by CIDv0 and the ``z`` multibase)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    chars = []
    while num:
        num, rem = divmod(num, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; ``ValueError`` on a character outside the alphabet."""
    num = 0
    for ch in text:
        idx = _B58_INDEX.get(ch)
        if idx is None:
            raise ValueError(f"invalid base58 character {ch!r}")
        num = num * 58 + idx
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def b32encode(data: bytes) -> str:
    """RFC 4648 base32, lower case, no padding (the ``b`` multibase)."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


_B32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_B32_CHARS = frozenset(_B32_ALPHABET)
_B32_AS_INT_DIGITS = str.maketrans(_B32_ALPHABET, "0123456789abcdefghijklmnopqrstuv")


def b32decode(text: str) -> bytes:
    """Inverse of :func:`b32encode` (either case); ``ValueError`` on bad input.

    The text is read as one base-32 integer (``int`` does the work in C; the standard library's
    base32 is pure Python and this runs for every CID the feed validates). An encoder leaves
    fewer than 5 bits over after the last whole byte, and leaves them zero.
    """
    lower = text.lower()
    if not _B32_CHARS.issuperset(lower):
        raise ValueError("invalid base32: a character outside a-z2-7")
    nbytes, spare = divmod(5 * len(lower), 8)
    if spare >= 5:
        raise ValueError("invalid base32 length")
    number = int(lower.translate(_B32_AS_INT_DIGITS), 32) if lower else 0
    if number & ((1 << spare) - 1):
        raise ValueError("non-canonical base32 (trailing bits set)")
    return (number >> spare).to_bytes(nbytes, "big")


# --------------------------------------------------------------------------- multihash
def sha256_multihash(data: bytes | memoryview) -> bytes:
    """The sha2-256 multihash of ``data``."""
    return b"\x12\x20" + hashlib.sha256(data).digest()


def decode_multihash(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Decode a multihash at ``pos``; return ``(code, digest, next_pos)``."""
    code, pos = decode_varint(data, pos)
    length, pos = decode_varint(data, pos)
    if length == 0:
        raise ValueError("empty multihash digest")
    if pos + length > len(data):
        raise ValueError("truncated multihash digest")
    return code, bytes(data[pos : pos + length]), pos + length


# --------------------------------------------------------------------------- CID
@dataclass(frozen=True, slots=True)
class CID:
    """A content identifier: version, codec and multihash (its bytes)."""

    version: int
    codec: int
    multihash: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InvalidCIDError(f"unsupported CID version {self.version}")
        if self.version == 0 and (
            self.codec != DAG_PB or len(self.multihash) != 34 or self.multihash[:2] != b"\x12\x20"
        ):
            raise InvalidCIDError("CIDv0 must be dag-pb with a sha2-256 multihash")
        try:
            _, _, end = decode_multihash(self.multihash)
        except ValueError as exc:
            raise InvalidCIDError(f"invalid multihash: {exc}") from exc
        if end != len(self.multihash):
            raise InvalidCIDError("trailing bytes after multihash")

    # -- construction
    @classmethod
    def for_block(cls, codec: int, data: bytes | memoryview, version: int = 1) -> CID:
        """The CID of a block's bytes (sha2-256)."""
        return cls(version, codec, sha256_multihash(data))

    @classmethod
    def from_bytes(cls, data: bytes) -> CID:
        """Decode a binary CID (as found in dag-pb links)."""
        data = bytes(data)
        if len(data) == 34 and data[:2] == b"\x12\x20":
            return cls(0, DAG_PB, data)
        try:
            version, pos = decode_varint(data)
            if version != _CIDV1:
                raise InvalidCIDError(f"unsupported CID version {version}")
            codec, pos = decode_varint(data, pos)
        except ValueError as exc:
            raise InvalidCIDError(f"invalid binary CID: {exc}") from exc
        return cls(1, codec, data[pos:])

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse a CID string (CIDv0 ``Qm...`` or a multibase CIDv1)."""
        if not isinstance(text, str) or not text:
            raise InvalidCIDError("empty CID")
        text = text.strip()
        try:
            if len(text) == 46 and text.startswith("Qm"):
                raw = b58decode(text)
                if len(raw) != 34:
                    raise ValueError("CIDv0 must decode to 34 bytes")
                return cls(0, DAG_PB, raw)
            prefix, body = text[0], text[1:]
            if prefix in "bfBF" and body != (body.lower() if prefix in "bf" else body.upper()):
                raise ValueError(
                    f"multibase {prefix!r} is {'lower' if prefix in 'bf' else 'upper'} case"
                )
            if prefix in "bB":
                raw = b32decode(body)
            elif prefix == "z":
                raw = b58decode(body)
            elif prefix in "fF":
                if len(body) % 2 or not all(c in "0123456789abcdefABCDEF" for c in body):
                    raise ValueError("invalid base16")
                raw = bytes.fromhex(body)
            else:
                raise ValueError(f"unsupported multibase prefix {prefix!r}")
        except ValueError as exc:
            raise InvalidCIDError(f"invalid CID {text[:80]!r}: {exc}") from exc
        if len(raw) == 34 and raw[:2] == b"\x12\x20":
            raise InvalidCIDError("a CIDv0 must be written in base58btc without prefix")
        return cls.from_bytes(raw)

    # -- encodings
    def to_bytes(self) -> bytes:
        """The binary form (as used in dag-pb links)."""
        if self.version == 0:
            return self.multihash
        return encode_varint(_CIDV1) + encode_varint(self.codec) + self.multihash

    def encode(self) -> str:
        """The canonical string form (base58btc for v0, base32 for v1)."""
        if self.version == 0:
            return b58encode(self.multihash)
        return "b" + b32encode(self.to_bytes())

    def __str__(self) -> str:
        return self.encode()

    def __repr__(self) -> str:
        return f"CID({self.encode()!r})"

    # -- conversions and checks
    def to_v1(self) -> CID:
        """The same content as a CIDv1."""
        return CID(1, self.codec, self.multihash)

    @property
    def codec_name(self) -> str:
        """``dag-pb``, ``raw`` or ``0x..`` for anything else."""
        return CODEC_NAMES.get(self.codec, hex(self.codec))

    @property
    def hash_code(self) -> int:
        """The multihash function code (0x12 for sha2-256)."""
        return decode_multihash(self.multihash)[0]

    @property
    def digest(self) -> bytes:
        """The raw hash digest."""
        return decode_multihash(self.multihash)[1]

    def verify(self, data: bytes | memoryview) -> None:
        """Raise :class:`CorruptBlockError` unless ``data`` hashes to this CID."""
        if self.hash_code != SHA2_256:
            raise UnsupportedError(f"hash function {hex(self.hash_code)} is not supported")
        if hashlib.sha256(data).digest() != self.digest:
            raise CorruptBlockError(f"block does not hash to {self}", cid=str(self))


def parse_cid(value: str | CID) -> CID:
    """Accept a :class:`CID` or its string form."""
    return value if isinstance(value, CID) else CID.parse(value)


def is_cid(text: str) -> bool:
    """True if ``text`` is exactly a valid CIDv0 or CIDv1 string (no surrounding space, at most
    :data:`MAX_CID_CHARS`). Codec and hash function are not restricted."""
    if not 2 <= len(text) <= MAX_CID_CHARS or text != text.strip():
        return False
    try:
        CID.parse(text)
    except InvalidCIDError:
        return False
    return True
