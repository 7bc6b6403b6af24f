"""The request/response framing (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer.p2p import wire


class Chunked:
    """A stream that hands out its bytes in small pieces, then b"" forever."""

    def __init__(self, data: bytes, piece: int = 3) -> None:
        self._data = data
        self._piece = piece

    async def read(self, n: int | None = None) -> bytes:
        size = min(self._piece, n if n is not None else self._piece)
        out, self._data = self._data[:size], self._data[size:]
        return out


@given(st.integers(min_value=0, max_value=2**63))
def test_uvarint_round_trips(value: int) -> None:
    encoded = wire.encode_uvarint(value)
    assert wire.decode_uvarint(encoded + b"tail") == (value, len(encoded))


def test_uvarint_known_encodings() -> None:
    assert wire.encode_uvarint(0) == b"\x00"
    assert wire.encode_uvarint(127) == b"\x7f"
    assert wire.encode_uvarint(128) == b"\x80\x01"
    assert wire.encode_uvarint(300) == b"\xac\x02"


def test_negative_uvarint_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        wire.encode_uvarint(-1)


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\xff" * 11])
def test_truncated_or_overlong_uvarint_is_a_frame_error(raw: bytes) -> None:
    with pytest.raises(wire.FrameError):
        wire.decode_uvarint(raw)


@given(st.binary(max_size=2000))
async def test_frames_round_trip_through_a_chunked_stream(body: bytes) -> None:
    assert await wire.read_frame(Chunked(wire.frame(body)), limit=2000) == body


async def test_a_frame_over_the_limit_is_refused_before_reading_it() -> None:
    with pytest.raises(wire.FrameTooLarge) as info:
        await wire.read_frame(Chunked(wire.encode_uvarint(10**9)), limit=1024)
    assert (info.value.size, info.value.limit) == (10**9, 1024)


async def test_a_stream_ending_early_is_a_frame_error() -> None:
    with pytest.raises(wire.FrameError, match="ended after 2 of 5"):
        await wire.read_frame(Chunked(wire.encode_uvarint(5) + b"ab"), limit=100)


async def test_an_endless_varint_on_the_wire_is_refused() -> None:
    with pytest.raises(wire.FrameError):
        await wire.read_uvarint(Chunked(b"\xff" * 20))


def test_response_frame_layout() -> None:
    assert wire.response_frame(wire.STATUS_HANDLER_ERROR, b"oops") == b"\x01\x04oops"
