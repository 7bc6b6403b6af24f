"""MP4 box walking: fast-start detection and RFC 6381 codecs strings (storage/media/mp4info.py)."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.media.errors import TranscodeFailed
from storage.media.mp4info import aac_codecs, avc_codecs, inspect_mp4


def box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def full(kind: bytes, body: bytes) -> bytes:
    return box(kind, b"\x00\x00\x00\x00" + body)


def avc1_entry(profile: int = 0x64, compat: int = 0x00, level: int = 0x1F) -> bytes:
    avcc = box(b"avcC", bytes([1, profile, compat, level, 0xFF, 0xE0, 0x00]))
    return box(b"avc1", bytes(78) + avcc)


def esds(aot: int = 2) -> bytes:
    asc = bytes([aot << 3, 0x10])
    dsi = bytes([0x05, len(asc)]) + asc
    dcd_body = bytes([0x40, 0x15]) + bytes(11) + dsi
    dcd = bytes([0x04, len(dcd_body)]) + dcd_body
    es_body = b"\x00\x01\x00" + dcd
    es = bytes([0x03, 0x80, 0x80, 0x80, len(es_body)]) + es_body  # 4-byte length form
    return full(b"esds", es)


def mp4a_entry(aot: int = 2) -> bytes:
    return box(b"mp4a", bytes(28) + esds(aot))


def trak(entry: bytes) -> bytes:
    stsd = full(b"stsd", (1).to_bytes(4, "big") + entry)
    return box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stsd))))


def movie(*entries: bytes, fast_start: bool = True) -> bytes:
    moov = box(b"moov", b"".join(trak(e) for e in entries))
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00")
    mdat = box(b"mdat", b"\x00" * 100)
    return ftyp + (moov + mdat if fast_start else mdat + moov)


def test_fast_start_movie_with_video_and_audio() -> None:
    info = inspect_mp4(io.BytesIO(movie(avc1_entry(), mp4a_entry())))
    assert info.fast_start
    assert info.codecs_string == "avc1.64001f,mp4a.40.2"


def test_moov_after_mdat_is_not_fast_start() -> None:
    info = inspect_mp4(io.BytesIO(movie(avc1_entry(), fast_start=False)))
    assert not info.fast_start
    assert info.codecs == ("avc1.64001f",)


def test_constrained_baseline_codecs_string() -> None:
    assert avc_codecs(bytes([1, 0x42, 0xC0, 0x1E])) == "avc1.42c01e"


def test_he_aac_object_type_is_reported() -> None:
    assert aac_codecs(esds(5)[8:]) == "mp4a.40.5"


def test_missing_moov_is_an_error() -> None:
    with pytest.raises(TranscodeFailed, match="moov"):
        inspect_mp4(io.BytesIO(box(b"ftyp", b"isom") + box(b"mdat", b"x")))


@pytest.mark.parametrize(
    "data",
    [
        box(b"ftyp", b"isom")[:-1] + b"\x00\x00\x00\xffmoov",  # box runs past the end
        b"\x00\x00\x00\x04moov",  # smaller than its header
        box(b"moov", box(b"trak", b"\x00\x00\x00\x09mdia")),  # child runs past its parent
    ],
)
def test_corrupt_box_sizes_are_errors(data: bytes) -> None:
    with pytest.raises(TranscodeFailed):
        inspect_mp4(io.BytesIO(data))


def test_avcc_with_a_bad_version_is_an_error() -> None:
    with pytest.raises(TranscodeFailed):
        avc_codecs(bytes([0, 0x64, 0, 0x1F]))


@settings(max_examples=100)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_transcode_failed(data: bytes) -> None:
    with contextlib.suppress(TranscodeFailed):
        inspect_mp4(io.BytesIO(data))


@settings(max_examples=100)
@given(st.integers(0, 2000), st.integers(0, 255))
def test_a_corrupted_valid_movie_only_raises_transcode_failed(pos: int, value: int) -> None:
    data = bytearray(movie(avc1_entry(), mp4a_entry()))
    data[pos % len(data)] = value
    with contextlib.suppress(TranscodeFailed):
        inspect_mp4(io.BytesIO(bytes(data)))
