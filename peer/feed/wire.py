"""Strict wire codec of signed records (pure).

Wire shape: ``{"v": 1, "<kind>": {...fields...}, "sig": "0x<65 bytes hex>"}`` as UTF-8 JSON.
Encoding is canonical (sorted keys, no whitespace, non-ASCII kept as UTF-8), which is what
``shared/testdata/post_vectors.json`` shows. Decoding is strict and accepts exactly the values the
encoder can produce, whatever the key order or whitespace:

- no unknown or missing fields, no duplicate keys, no floats, NaN or Infinity;
- integers are JSON numbers up to 2^53 and decimal strings (no sign, no leading zero) above;
- addresses are EIP-55 checksummed, ``bytes32`` and ``sig`` are lowercase ``0x`` hex;
- strings must be encodable as UTF-8 (no lone surrogates);
- the encoded record is at most ``MAX_RECORD_BYTES`` bytes.

Every failure raises ``DecodeError`` (``OversizeError`` for size, ``UnknownKindError`` for a
well-formed envelope of a kind this build does not know); nothing else escapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from eth_utils.address import to_checksum_address

from peer.feed.errors import DecodeError, EncodeError, OversizeError, UnknownKindError
from peer.feed.records import KIND_TO_TYPE, SCHEMAS, Record, schema_of
from peer.feed.signatures import SIGNATURE_BYTES
from storage import untrusted
from storage.errors import UntrustedJsonError

MAX_RECORD_BYTES: Final = 16384
MAX_JSON_NUMBER: Final = 2**53
MAX_DEPTH: Final = 4
"""Deepest nesting of a wire record (``{"post": {"tags": [...]}}`` nests 3 levels)."""
WIRE_VERSION: Final = 1
_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A record with its signature, as carried on the wire.

    ``wire`` holds the canonical bytes when they are already known (``decode`` sets it), so
    ``encode`` of a decoded record costs nothing; it is not an init field, so
    ``dataclasses.replace`` (a changed record) never carries stale bytes over.
    """

    record: Record
    signature: bytes
    wire: bytes | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """The wire kind: ``post``, ``profile``, ``follow``, ``like``, ``likeV2``, ``tombstone``."""
        return schema_of(self.record).kind


class _Invalid(Exception):
    """Internal: a field failed a check; becomes ``DecodeError`` with the field name."""


def _hex(value: object, nbytes: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 + 2 * nbytes or not value.startswith("0x"):
        raise _Invalid(f"expected 0x-prefixed hex of {nbytes} bytes")
    if not _HEX.issuperset(value[2:]):
        raise _Invalid("hex must be lowercase 0-9a-f")
    return bytes.fromhex(value[2:])


@lru_cache(maxsize=65536)
def checksum_address(raw: bytes) -> str:
    """The EIP-55 form of a 20-byte address (cached: the same creators recur constantly)."""
    return str(to_checksum_address(raw))


def _address(value: object) -> str:
    raw = _hex(value.lower() if isinstance(value, str) else value, 20)
    checksummed = checksum_address(raw)
    if value != checksummed:
        raise _Invalid("address is not EIP-55 checksummed")
    return checksummed


def _uint(value: object, bits: int) -> int:
    if type(value) is int:
        if not 0 <= value <= MAX_JSON_NUMBER:
            raise _Invalid("integer out of JSON number range (use a decimal string above 2^53)")
        number = value
    elif isinstance(value, str):
        if not value.isascii() or not value.isdigit() or value.startswith("0"):
            raise _Invalid("integer string must be decimal digits without leading zero")
        if len(value) > 80:
            raise _Invalid("integer string too long")
        number = int(value)
        if number <= MAX_JSON_NUMBER:
            raise _Invalid("integers up to 2^53 must be JSON numbers")
    else:
        raise _Invalid("expected an integer")
    if number >= 1 << bits:
        raise _Invalid(f"integer does not fit uint{bits}")
    return number


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid("expected a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Invalid("string is not valid Unicode (lone surrogate)") from exc
    return value


def _decoder(typ: str) -> Callable[[object], object]:
    """The checking decoder of one EIP-712 type (looked up once per schema, not per value)."""
    if typ == "address":
        return _address
    if typ.startswith("uint"):
        bits = int(typ[4:])
        return lambda value: _uint(value, bits)
    if typ == "bytes32":
        return lambda value: _hex(value, 32)
    if typ == "bool":
        return _bool
    if typ == "string":
        return _string
    if typ == "string[]":
        return _strings
    raise AssertionError(f"unsupported type {typ}")


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Invalid("expected true or false")
    return value


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid("expected an array of strings")
    return tuple(_string(item) for item in value)


def _parse(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_RECORD_BYTES:
        raise OversizeError(f"record is {len(data)} bytes; the limit is {MAX_RECORD_BYTES}")
    try:
        obj = untrusted.loads(
            data, max_bytes=MAX_RECORD_BYTES, max_depth=MAX_DEPTH, integers_only=True,
            what="record",
        )  # fmt: skip
    except UntrustedJsonError as exc:
        raise DecodeError(f"invalid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise DecodeError("record must be a JSON object")
    return obj


_FIELD_DECODERS: Final = {
    kind: (
        record_type,
        frozenset(wire for wire, _a, _t in SCHEMAS[record_type].fields),
        tuple((wire, attr, _decoder(typ)) for wire, attr, typ in SCHEMAS[record_type].fields),
    )
    for kind, record_type in KIND_TO_TYPE.items()
}
_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(data: bytes) -> Envelope:
    """Decode one signed record strictly; raises ``DecodeError`` on any deviation.

    The envelope's ``wire`` is the canonical form of ``data`` (``data`` itself when the sender
    encoded canonically, as every Toktok peer does).
    """
    obj = _parse(data)
    kinds = [key for key in obj if key not in ("v", "sig")]
    if len(kinds) != 1 or set(obj) != {"v", "sig", kinds[0]}:
        raise DecodeError(f"record must have exactly v, sig and one kind; got keys {sorted(obj)}")
    if type(obj["v"]) is not int or obj["v"] != WIRE_VERSION:
        raise DecodeError(f"unsupported wire version {obj['v']!r}; expected {WIRE_VERSION}")
    kind = kinds[0]
    if kind not in _FIELD_DECODERS:
        if isinstance(obj[kind], dict) and isinstance(obj["sig"], str):
            raise UnknownKindError(kind)
        raise DecodeError(f"record must have exactly v, sig and one kind; got keys {sorted(obj)}")
    record_type, expected, decoders = _FIELD_DECODERS[kind]
    body = obj[kind]
    if not isinstance(body, dict):
        raise DecodeError(f"{kind} must be a JSON object")
    if body.keys() != expected:
        unknown = sorted(set(body) - expected)
        missing = sorted(expected - set(body))
        raise DecodeError(f"{kind} fields wrong: unknown {unknown}, missing {missing}")
    values: dict[str, Any] = {}
    for wire, attr, check in decoders:
        try:
            values[attr] = check(body[wire])
        except _Invalid as exc:
            raise DecodeError(f"{kind}.{wire}: {exc}") from exc
    try:
        signature = _hex(obj["sig"], SIGNATURE_BYTES)
    except _Invalid as exc:
        raise DecodeError(f"sig: {exc}") from exc
    envelope = Envelope(record_type(**values), signature)
    # Every value passed the checks above, so the canonical dump of the parsed object is
    # exactly what ``encode`` would produce from the envelope.
    canonical = _CANONICAL.encode(obj).encode()
    object.__setattr__(envelope, "wire", data if canonical == data else canonical)
    return envelope


def _encode_value(typ: str, value: object) -> object:
    if typ.startswith("uint"):
        assert isinstance(value, int)
        if not 0 <= value < 1 << int(typ[4:]):
            raise EncodeError(f"{value} does not fit {typ}")
        return value if value <= MAX_JSON_NUMBER else str(value)
    if typ == "bytes32":
        assert isinstance(value, bytes)
        if len(value) != 32:
            raise EncodeError("bytes32 value must be 32 bytes")
        return "0x" + value.hex()
    if typ == "string[]":
        assert isinstance(value, tuple)
        return list(value)
    if typ == "address":
        assert isinstance(value, str)
        try:
            return _address(value)
        except _Invalid as exc:
            raise EncodeError(f"bad address {value!r}: {exc}") from exc
    return value


def encode(envelope: Envelope) -> bytes:
    """Canonical wire bytes of ``envelope``; ``EncodeError`` if a field or the size is invalid.

    A decoded envelope already carries them (``Envelope.wire``).
    """
    if envelope.wire is not None:
        return envelope.wire
    schema = schema_of(envelope.record)
    body = {
        wire: _encode_value(typ, getattr(envelope.record, attr))
        for wire, attr, typ in schema.fields
    }
    if len(envelope.signature) != SIGNATURE_BYTES:
        raise EncodeError(f"signature must be {SIGNATURE_BYTES} bytes")
    obj = {"v": WIRE_VERSION, schema.kind: body, "sig": "0x" + envelope.signature.hex()}
    try:
        data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise EncodeError(f"string field is not valid Unicode: {exc}") from exc
    if len(data) > MAX_RECORD_BYTES:
        raise EncodeError(f"record is {len(data)} bytes; the limit is {MAX_RECORD_BYTES}")
    return data
