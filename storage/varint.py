"""Unsigned varints (LEB128, as multiformats and protobuf write them), pure: the one codec of
CIDs, multihashes, dag-pb, bitswap and the peer's request/response frames.

Decoding is strict: at most :data:`MAX_VARINT_BYTES` bytes (the multiformats limit, which covers
every length and protobuf integer we accept) and minimal encodings only.
"""

from __future__ import annotations

from typing import Final

MAX_VARINT_BYTES: Final = 9


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 (the multiformats / protobuf varint)."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode a varint at ``pos``; return ``(value, next_pos)``.

    Raises ``ValueError`` on truncation, on more than 9 bytes (multiformats limit, which also
    covers every protobuf uint64 we accept) and on non-minimal encodings.
    """
    value = 0
    shift = 0
    for i in range(MAX_VARINT_BYTES + 1):
        if pos + i >= len(data):
            raise ValueError("truncated varint")
        if i == MAX_VARINT_BYTES:
            raise ValueError("varint longer than 9 bytes")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise ValueError("non-minimal varint")
            return value, pos + i + 1
    raise AssertionError("unreachable")  # pragma: no cover
