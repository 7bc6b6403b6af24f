"""CID, multihash, varint and multibase behaviour."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.cid import (
    CID,
    DAG_PB,
    RAW,
    b32decode,
    b32encode,
    b58decode,
    b58encode,
    parse_cid,
    sha256_multihash,
)
from storage.errors import CorruptBlockError, InvalidCIDError, UnsupportedError
from storage.varint import decode_varint, encode_varint

V1_RAW = "bafkreibticedvljqhdozsoz4stjnglb3edqhqwmwtlfech37sovyqr6hiy"
V0 = "QmVb2nQKSpHn7t8t2Mw9uxnVtrhaUc1t6Dx5DXCgc5r2rr"


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trips(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_varint_known_encodings() -> None:
    assert encode_varint(0) == b"\x00"
    assert encode_varint(127) == b"\x7f"
    assert encode_varint(128) == b"\x80\x01"
    assert encode_varint(300) == b"\xac\x02"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (b"\x80", "truncated"),
        (b"\x80\x00", "non-minimal"),
        (b"\xff" * 9 + b"\x01", "longer than 9"),
    ],
)
def test_bad_varints_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_varint(data)


def test_negative_varint_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        encode_varint(-1)


@given(st.binary(max_size=64))
def test_base58_round_trips(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


@given(st.binary(max_size=64))
def test_base32_round_trips(data: bytes) -> None:
    assert b32decode(b32encode(data)) == data
    assert b32decode(b32encode(data).upper()) == data


def test_base58_known_value_and_leading_zeros() -> None:
    assert b58encode(b"hello world") == "StV1DL6CwTryKyV"
    assert b58encode(b"\0\0\x01") == "112"
    assert b58decode("112") == b"\0\0\x01"


@pytest.mark.parametrize("text", ["0OIl", "abc!"])
def test_base58_rejects_characters_outside_alphabet(text: str) -> None:
    with pytest.raises(ValueError, match="base58"):
        b58decode(text)


@pytest.mark.parametrize("text", ["a", "abc", "abcdef", "ab", "8a"])
def test_base32_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match="base32"):
        b32decode(text)


@pytest.mark.parametrize("text", [V1_RAW, V0])
def test_cid_string_round_trips(text: str) -> None:
    cid = CID.parse(text)
    assert str(cid) == text
    assert CID.from_bytes(cid.to_bytes()) == cid
    assert parse_cid(cid) is cid


def test_cidv1_in_other_multibases_parses_to_same_cid() -> None:
    cid = CID.parse(V1_RAW)
    assert CID.parse("z" + b58encode(cid.to_bytes())) == cid
    assert CID.parse("f" + cid.to_bytes().hex()) == cid
    assert CID.parse("B" + V1_RAW[1:].upper()) == cid


def test_v0_and_v1_of_same_content_share_multihash() -> None:
    v0 = CID.parse(V0)
    v1 = v0.to_v1()
    assert (v1.version, v1.codec) == (1, DAG_PB)
    assert v1.multihash == v0.multihash
    assert str(v1).startswith("bafybei")


def test_cid_properties() -> None:
    cid = CID.for_block(RAW, b"abc")
    assert cid.codec_name == "raw"
    assert cid.hash_code == 0x12
    assert cid.digest == hashlib.sha256(b"abc").digest()
    assert CID(1, 0x71, cid.multihash).codec_name == "0x71"
    assert repr(cid).startswith("CID('bafkrei")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Qm",
        "QmVb2nQKSpHn7t8t2Mw9uxnVtrhaUc1t6Dx5DXCgc5r2r0",
        "xabc",
        "bafy!!",
        "b" + b32encode(sha256_multihash(b"x")),
        "f0212",
        "babababab",
    ],
)
def test_malformed_cids_are_rejected(text: str) -> None:
    with pytest.raises(InvalidCIDError):
        CID.parse(text)


def test_invalid_cid_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid CID"):
        CID.parse("not-a-cid")


@pytest.mark.parametrize(
    ("version", "codec", "multihash"),
    [
        (2, RAW, sha256_multihash(b"")),
        (0, RAW, sha256_multihash(b"")),
        (1, RAW, sha256_multihash(b"") + b"x"),
        (1, RAW, b"\x12\x20abc"),
    ],
)
def test_inconsistent_cids_cannot_be_built(version: int, codec: int, multihash: bytes) -> None:
    with pytest.raises(InvalidCIDError):
        CID(version, codec, multihash)


def test_binary_cid_with_unknown_version_is_rejected() -> None:
    with pytest.raises(InvalidCIDError, match="version"):
        CID.from_bytes(b"\x02\x55" + sha256_multihash(b""))


def test_verify_accepts_matching_bytes_and_rejects_others() -> None:
    cid = CID.for_block(RAW, b"payload")
    cid.verify(b"payload")
    with pytest.raises(CorruptBlockError):
        cid.verify(b"payload!")


def test_verify_with_unknown_hash_function_is_unsupported() -> None:
    cid = CID(1, RAW, b"\x13\x02ab")
    with pytest.raises(UnsupportedError):
        cid.verify(b"ab")
