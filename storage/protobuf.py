"""The protobuf wire format, as far as dag-pb, UnixFS and bitswap need it; pure.

:func:`split` cuts a message into ``(field number, wire type, value)`` triples: an ``int`` for
varint fields, a ``memoryview`` of the bytes for length-delimited and fixed-size fields. It
raises ``ValueError`` for field number 0, a truncated field, an unsupported wire type (groups)
or a bad varint; each codec translates that into its own error. The encoders write the field
keys and length prefixes the codecs build their canonical messages from.
"""

from __future__ import annotations

from typing import Final

from storage.varint import decode_varint, encode_varint

VARINT: Final = 0
I64: Final = 1
LEN: Final = 2
I32: Final = 5

Field = tuple[int, int, int | memoryview]


def key(field_no: int, wire: int) -> bytes:
    """The key of a field: its number and wire type."""
    return encode_varint(field_no << 3 | wire)


def bytes_field(field_no: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return key(field_no, LEN) + encode_varint(len(payload)) + payload


def int_field(field_no: int, value: int) -> bytes:
    """A varint field (non-negative: a negative int32 would be a 10-byte varint)."""
    if value < 0:
        raise ValueError("negative protobuf int")
    return key(field_no, VARINT) + encode_varint(value)


def split(buf: bytes | memoryview) -> list[Field]:
    """Every field of the message in ``buf``, in order."""
    out: list[Field] = []
    view = memoryview(buf)
    pos = 0
    while pos < len(view):
        field_key, pos = decode_varint(view, pos)
        field_no, wire = field_key >> 3, field_key & 7
        if field_no == 0:
            raise ValueError("protobuf field number 0")
        if wire == VARINT:
            value, pos = decode_varint(view, pos)
            out.append((field_no, wire, value))
            continue
        if wire == LEN:
            size, pos = decode_varint(view, pos)
        elif wire in (I64, I32):
            size = 8 if wire == I64 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos + size > len(view):
            raise ValueError(f"truncated protobuf field {field_no}")
        out.append((field_no, wire, view[pos : pos + size]))
        pos += size
    return out
