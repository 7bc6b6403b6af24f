"""The bitswap wire format: encoding, strict decoding, framing."""

from __future__ import annotations

import pytest

from storage.bitswap.wire import (
    MAX_MESSAGE_SIZE,
    BitswapMessage,
    FrameReader,
    Presence,
    PresenceType,
    WantEntry,
    WantType,
    block_cid,
    cid_prefix,
    decode_message,
    encode_message,
    frame,
)
from storage.cid import CID, DAG_PB, RAW
from storage.errors import BitswapProtocolError
from storage.varint import encode_varint

RAW_CID = CID.for_block(RAW, b"hello")
V0_CID = CID.for_block(DAG_PB, b"\x0a\x02\x08\x02", version=0)


def field(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def varint_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value)


def test_message_round_trips() -> None:
    msg = BitswapMessage(
        wants=(
            WantEntry(RAW_CID, 5, want_type=WantType.HAVE, send_dont_have=True),
            WantEntry(V0_CID, 1, cancel=True),
        ),
        full=True,
        blocks=((RAW_CID, b"hello"),),
        presences=(Presence(V0_CID, PresenceType.DONT_HAVE), Presence(RAW_CID, PresenceType.HAVE)),
        pending_bytes=42,
        has_wantlist=True,
    )
    assert decode_message(encode_message(msg)) == msg


def test_hand_built_kubo_style_message_decodes() -> None:
    entry = (
        field(1, RAW_CID.to_bytes())
        + varint_field(2, 7)
        + varint_field(4, 1)  # want-have
        + varint_field(5, 1)  # send DONT_HAVE
    )
    payload_block = field(1, bytes([1, RAW, 0x12, 32])) + field(2, b"hello")
    presence = field(1, V0_CID.to_bytes()) + varint_field(2, 1)
    raw = field(1, field(1, entry)) + field(3, payload_block) + field(4, presence)
    msg = decode_message(raw)
    assert msg.wants == (WantEntry(RAW_CID, 7, False, WantType.HAVE, True),)
    assert msg.blocks == ((RAW_CID, b"hello"),)
    assert msg.presences == (Presence(V0_CID, PresenceType.DONT_HAVE),)
    assert not msg.full


def test_bitswap_100_blocks_field_gives_cidv0() -> None:
    data = b"\x0a\x02\x08\x02"
    msg = decode_message(field(2, data))
    assert msg.blocks == ((V0_CID, data),)


def test_unknown_fields_are_skipped() -> None:
    block = field(1, bytes([1, RAW, 0x12, 32])) + field(2, b"x") + field(7, b"?")
    raw = field(9, b"future") + varint_field(10, 3) + field(3, block)
    msg = decode_message(raw)
    assert msg.blocks == ((CID.for_block(RAW, b"x"), b"x"),)


def test_block_cid_comes_from_our_hash_not_the_senders_claim() -> None:
    forged = block_cid(cid_prefix(RAW_CID), b"not hello")
    assert forged != RAW_CID
    assert forged == CID.for_block(RAW, b"not hello")
    assert block_cid(cid_prefix(V0_CID), b"\x0a\x02\x08\x02") == V0_CID


@pytest.mark.parametrize(
    "prefix",
    [
        bytes([1, RAW, 0x13, 64]),  # sha2-512: we cannot verify it
        bytes([0, RAW, 0x12, 32]),  # CIDv0 must be dag-pb
        bytes([2, RAW, 0x12, 32]),  # unknown CID version
        bytes([1, RAW, 0x12]),  # truncated
    ],
)
def test_unusable_block_prefixes_are_rejected(prefix: bytes) -> None:
    with pytest.raises(BitswapProtocolError):
        decode_message(field(3, field(1, prefix) + field(2, b"data")))


@pytest.mark.parametrize(
    "raw",
    [
        field(1, b"\x0a\x05\x0a\x03abc")[:-1],  # truncated
        b"\x0a\xff",  # length runs past the end
        field(1, field(1, varint_field(2, 1))),  # entry without a CID
        field(1, field(1, field(1, b"\x01\x55\x12\x05ab"))),  # digest shorter than declared
        field(3, field(2, b"data")),  # payload block without a prefix
        field(4, varint_field(2, 1)),  # presence without a CID
        b"\x07",  # field number 0
        varint_field(1, 5),  # wantlist as a varint
    ],
)
def test_malformed_messages_raise_protocol_errors(raw: bytes) -> None:
    with pytest.raises(BitswapProtocolError):
        decode_message(raw)


def test_oversized_block_is_rejected() -> None:
    big = b"\0" * (2 * 1024 * 1024 + 1)
    with pytest.raises(BitswapProtocolError, match="exceeds"):
        decode_message(field(2, big))


def test_frame_reader_reassembles_split_and_merged_frames() -> None:
    one = encode_message(BitswapMessage(blocks=((RAW_CID, b"hello"),)))
    two = encode_message(BitswapMessage(wants=(WantEntry(V0_CID),)))
    stream = frame(one) + frame(two) + frame(b"")
    reader = FrameReader()
    got: list[bytes] = []
    for i in range(len(stream)):
        got += reader.feed(stream[i : i + 1])
    assert got == [one, two, b""]
    assert reader.buffered == 0
    assert FrameReader().feed(stream) == [one, two, b""]


def test_frame_reader_refuses_a_length_over_the_limit() -> None:
    reader = FrameReader(max_size=100)
    with pytest.raises(BitswapProtocolError, match="exceeds"):
        reader.feed(encode_varint(101))
    with pytest.raises(BitswapProtocolError):
        frame(b"\0" * (MAX_MESSAGE_SIZE + 1))


def test_frame_reader_rejects_an_overlong_varint() -> None:
    with pytest.raises(BitswapProtocolError):
        FrameReader().feed(b"\xff" * 11)
