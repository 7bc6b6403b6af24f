"""The request/response framing (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer.p2p import wire
from storage.varint import encode_varint


class Chunked:
    """A stream that hands out its bytes in small pieces, then b"" forever."""

    def __init__(self, data: bytes, piece: int = 3) -> None:
        self._data = data
        self._piece = piece

    async def read(self, n: int | None = None) -> bytes:
        size = min(self._piece, n if n is not None else self._piece)
        out, self._data = self._data[:size], self._data[size:]
        return out


@pytest.mark.parametrize("raw", [b"\x80", b"\xff" * 11, b"\x80\x00"])
async def test_a_truncated_overlong_or_non_minimal_length_is_a_frame_error(raw: bytes) -> None:
    with pytest.raises(wire.FrameError):
        await wire.read_frame(Chunked(raw), limit=1024)


@given(st.binary(max_size=2000))
async def test_frames_round_trip_through_a_chunked_stream(body: bytes) -> None:
    assert await wire.read_frame(Chunked(wire.frame(body)), limit=2000) == body


async def test_a_frame_over_the_limit_is_refused_before_reading_it() -> None:
    with pytest.raises(wire.FrameTooLarge) as info:
        await wire.read_frame(Chunked(encode_varint(10**9)), limit=1024)
    assert (info.value.size, info.value.limit) == (10**9, 1024)


async def test_a_stream_ending_early_is_a_frame_error() -> None:
    with pytest.raises(wire.FrameError, match="ended after 2 of 5"):
        await wire.read_frame(Chunked(encode_varint(5) + b"ab"), limit=100)


async def test_an_endless_varint_on_the_wire_is_refused() -> None:
    with pytest.raises(wire.FrameError):
        await wire.read_varint(Chunked(b"\xff" * 20))


def test_response_frame_layout() -> None:
    assert wire.response_frame(wire.STATUS_HANDLER_ERROR, b"oops") == b"\x01\x04oops"
