"""EIP-712 struct hashing of feed records (pure).

Only the subset of EIP-712 the normative records use: atomic types ``address``, ``bool``,
``uintN``, ``bytes32``, the dynamic type ``string`` and arrays ``string[]``. No record type
references another struct, so ``typeHash = keccak256(type string)``.

- ``string`` is encoded as ``keccak256(utf8 bytes)``.
- ``string[]`` is encoded as ``keccak256(concat(keccak256(utf8(item)) for item))``; the empty
  array hashes to ``keccak256(b"")``.
- ``bytes32`` is used as is; integers, bools and addresses are left-padded to 32 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Final

from peer.feed.hashing import keccak256 as keccak
from peer.feed.records import Record, schema_of

DOMAIN_TYPE: Final = (
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain shared by every record: ``Toktok`` version ``1`` on a chain."""

    chain_id: int
    verifying_contract: str
    name: str = "Toktok"
    version: str = "1"
    separator: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        encoded = (
            _type_hash(DOMAIN_TYPE)
            + keccak(self.name.encode())
            + keccak(self.version.encode())
            + self.chain_id.to_bytes(32, "big")
            + _address(self.verifying_contract)
        )
        object.__setattr__(self, "separator", keccak(encoded))


@cache
def _type_hash(type_string: str) -> bytes:
    return keccak(type_string.encode())


_EMPTY_ARRAY_HASH: Final = keccak(b"")


@lru_cache(maxsize=8192)
def _item_hash(item: str) -> bytes:
    """keccak256 of one ``string[]`` item (tags and key servers recur from post to post)."""
    return keccak(item.encode())


def _address(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


def _encode_value(typ: str, value: object) -> bytes:
    if typ == "address":
        assert isinstance(value, str)
        return _address(value)
    if typ == "bool":
        return (1 if value else 0).to_bytes(32, "big")
    if typ.startswith("uint"):
        assert isinstance(value, int)
        return value.to_bytes(32, "big")
    if typ == "bytes32":
        assert isinstance(value, bytes)
        assert len(value) == 32
        return value
    if typ == "string":
        assert isinstance(value, str)
        return keccak(value.encode())
    if typ == "string[]":
        assert isinstance(value, tuple)
        if not value:
            return _EMPTY_ARRAY_HASH
        return keccak(b"".join(map(_item_hash, value)))
    raise AssertionError(f"unsupported EIP-712 type {typ}")


def hash_struct(record: Record) -> bytes:
    """``hashStruct(record)`` = keccak256(typeHash || encodeData(record))."""
    schema = schema_of(record)
    parts = [_type_hash(schema.type_string)]
    parts.extend(_encode_value(typ, getattr(record, attr)) for _w, attr, typ in schema.fields)
    return keccak(b"".join(parts))


def digest(record: Record, domain: Domain) -> bytes:
    """The EIP-712 signing digest; for a post this is its post id."""
    return keccak(b"\x19\x01" + domain.separator + hash_struct(record))
