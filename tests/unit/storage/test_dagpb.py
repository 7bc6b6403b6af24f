"""dag-pb and UnixFS protobuf codecs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.cid import CID, RAW
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
from storage.errors import MalformedDagError

links = st.builds(
    PBLink,
    st.binary(max_size=8).map(lambda b: CID.for_block(RAW, b)),
    st.one_of(st.none(), st.text(max_size=8)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2**62)),
)


@given(st.lists(links, max_size=5), st.one_of(st.none(), st.binary(max_size=32)))
def test_pbnode_round_trips(link_list: list[PBLink], data: bytes | None) -> None:
    node = PBNode(tuple(link_list), data)
    assert decode_node(encode_node(node)) == node


@given(
    st.sampled_from(list(UnixFSType)),
    st.one_of(st.none(), st.binary(max_size=16)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2**62)),
    st.lists(st.integers(min_value=0, max_value=2**40), max_size=6),
)
def test_unixfs_round_trips(
    kind: UnixFSType, data: bytes | None, size: int | None, sizes: list[int]
) -> None:
    msg = UnixFSData(kind, data, size, tuple(sizes))
    assert decode_unixfs(encode_unixfs(msg)) == msg


def test_empty_file_unixfs_bytes_match_kubo() -> None:
    assert encode_node(PBNode((), encode_unixfs(UnixFSData(UnixFSType.FILE, None, 0)))) == (
        b"\x0a\x04\x08\x02\x18\x00"
    )


def test_packed_blocksizes_and_unknown_optional_fields_are_accepted() -> None:
    # Type=File, filesize=3, blocksizes packed [1, 2], mode (7) = 0o644, mtime (8) message
    raw = b"\x08\x02\x18\x03\x22\x02\x01\x02\x38\xa4\x03\x42\x02\x08\x01"
    assert decode_unixfs(raw) == UnixFSData(UnixFSType.FILE, None, 3, (1, 2))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x12\x00", "Type"),
        (b"\x08\x09", "unknown UnixFS type"),
        (b"\x0a\x01\x02", "wrong wire type"),
        (b"\x08\x02\x22\x01\x80", "packed"),
        (b"\x08", "varint"),
        (b"\x08\x02\x13", "wire type 3"),
    ],
)
def test_bad_unixfs_messages_are_rejected(raw: bytes, match: str) -> None:
    with pytest.raises(MalformedDagError, match=match):
        decode_unixfs(raw)


LINK = encode_node(PBNode((PBLink(CID.for_block(RAW, b""), "", 0),)))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x0a\x00" + LINK, "after Data"),  # data before links
        (b"\x0a\x00\x0a\x00", "after Data"),  # two data fields
        (b"\x18\x01", "unexpected dag-pb field 3"),
        (b"\x12\x02\x18\x01", "without a Hash"),
        (b"\x12\x04\x12\x00\x0a\x00", "out of order"),
        (b"\x12\x03\x0a\x01\x00", "invalid CID"),
        (b"\x12\x04\x0a\x02\xff\xfe", "invalid CID"),
        (b"\x12\x02\x20\x01", "unexpected dag-pb link field 4"),
        (b"\x0a\x05ab", "truncated"),
        (b"\x02", "field number 0"),
        (b"\x09" + b"\x00" * 3, "truncated"),
    ],
)
def test_non_canonical_or_broken_dag_pb_is_rejected(raw: bytes, match: str) -> None:
    with pytest.raises(MalformedDagError, match=match):
        decode_node(raw)


def test_link_name_must_be_utf8() -> None:
    cid = CID.for_block(RAW, b"")
    hash_field = b"\x0a" + bytes([len(cid.to_bytes())]) + cid.to_bytes()
    link = hash_field + b"\x12\x01\xff"
    raw = b"\x12" + bytes([len(link)]) + link
    with pytest.raises(MalformedDagError, match="UTF-8"):
        decode_node(raw)
