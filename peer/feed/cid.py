"""Syntax check of CID strings (pure): is this string a well-formed CIDv0 or CIDv1?

CIDv0: base58btc of a sha2-256 multihash (``Qm...``, 46 characters). CIDv1: a multibase prefix
(``b``/``B`` base32, ``z`` base58btc, ``f``/``F`` base16) over ``varint(1) || varint(codec) ||
multihash``, where the multihash is ``varint(code) || varint(length) || digest[length]``.
Varints must be minimal and the bytes must be consumed exactly. The codec and hash function are
not restricted: this only says "the manifest field names content", the content store checks it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

MAX_CID_CHARS: Final = 256
_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58)}
_B32_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_HEX_LOWER: Final = frozenset("0123456789abcdef")


def _b58decode(text: str) -> bytes | None:
    if not text or any(c not in _B58_INDEX for c in text):
        return None
    number = 0
    for char in text:
        number = number * 58 + _B58_INDEX[char]
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return bytes(leading) + body


def _b32decode(text: str) -> bytes | None:
    if not text or any(c not in _B32_LOWER for c in text):
        return None
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        return None
    canonical = base64.b32encode(raw).decode().rstrip("=").lower()
    return raw if canonical == text else None  # reject non-zero trailing bits


def _hexdecode(text: str) -> bytes | None:
    if not text or len(text) % 2 or any(c not in _HEX_LOWER for c in text):
        return None
    return bytes.fromhex(text)


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """Minimal unsigned LEB128 varint at ``pos`` (at most 9 bytes): (value, next pos)."""
    value = 0
    for i in range(9):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                return None  # not minimal
            return value, pos + i + 1
    return None


def _is_multihash(data: bytes, pos: int) -> bool:
    code = _varint(data, pos)
    if code is None:
        return False
    length = _varint(data, code[1])
    if length is None:
        return False
    return len(data) - length[1] == length[0] and length[0] > 0


def is_cid(text: str) -> bool:
    """True if ``text`` is a syntactically valid CIDv0 or CIDv1 string."""
    if not 2 <= len(text) <= MAX_CID_CHARS:
        return False
    if len(text) == 46 and text.startswith("Qm"):
        raw = _b58decode(text)
        return raw is not None and len(raw) == 34 and raw[:2] == b"\x12\x20"
    prefix, body = text[0], text[1:]
    if prefix == "b":
        raw = _b32decode(body)
    elif prefix == "B":
        raw = _b32decode(body.lower()) if body == body.upper() else None
    elif prefix == "z":
        raw = _b58decode(body)
    elif prefix == "f":
        raw = _hexdecode(body)
    elif prefix == "F":
        raw = _hexdecode(body.lower()) if body == body.upper() else None
    else:
        return False
    if raw is None:
        return False
    version = _varint(raw, 0)
    if version is None or version[0] != 1:
        return False
    codec = _varint(raw, version[1])
    return codec is not None and _is_multihash(raw, codec[1])
