"""Container sniffing and the validation of ffprobe output (pure parts of the probe)."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.media.errors import (
    BadDimensions,
    InputRejected,
    NotAVideo,
    NoVideoStream,
    TooLong,
    Unreadable,
    ZeroDuration,
)
from storage.media.probe import ProbeLimits, interpret_probe
from storage.media.sniff import Container, sniff_container

MP4_FMT = "mov,mp4,m4a,3gp,3g2,mj2"


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", Container.MP4),
        (b"\x00\x00\x00\x14ftypqt  ", Container.MP4),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", Container.MP4),
        (b"\x00\x00\x00\x00moov", Container.MP4),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", Container.MATROSKA),
    ],
)
def test_supported_containers_are_recognised_by_content(head: bytes, container: Container) -> None:
    assert sniff_container(head) is container


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"#EXTM3U\n#EXT-X-VERSION:3\n",
        b"ffconcat version 1.0\nfile '/etc/passwd'\n",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"\x00\x00\x00\x04ftyp",  # box smaller than its own header
        b"GIF89a",
        bytes(range(64)),
    ],
)
def test_anything_else_is_not_a_video(head: bytes) -> None:
    with pytest.raises(NotAVideo):
        sniff_container(head)


def video_stream(**over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "index": 0,
        "codec_type": "video",
        "codec_name": "h264",
        "width": 1920,
        "height": 1080,
        "avg_frame_rate": "30000/1001",
        "sample_aspect_ratio": "1:1",
        "disposition": {"attached_pic": 0},
    }
    s.update(over)
    return s


def ffprobe_json(streams: list[dict[str, Any]], duration: Any = "12.500000") -> dict[str, Any]:
    fmt: dict[str, Any] = {"format_name": MP4_FMT}
    if duration is not None:
        fmt["duration"] = duration
    return {"format": fmt, "streams": streams}


def interpret(data: dict[str, Any], limits: ProbeLimits | None = None) -> Any:
    return interpret_probe(
        data,
        path=Path("clip.mp4"),
        container=Container.MP4,
        size=1000,
        limits=limits or ProbeLimits(),
    )


def test_a_valid_landscape_clip_is_described() -> None:
    audio = {"index": 1, "codec_type": "audio", "codec_name": "aac"}
    info = interpret(ffprobe_json([video_stream(), audio]))
    assert (info.width, info.height, info.rotation) == (1920, 1080, 0)
    assert (info.display_width, info.display_height) == (1920, 1080)
    assert info.duration_ms == 12500
    assert info.fps == Fraction(30000, 1001)
    assert info.has_audio
    assert info.video_index == 0


@pytest.mark.parametrize(
    "side_data",
    [
        {"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
        {"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 90}]},
        {"tags": {"rotate": "90"}},
        {"tags": {"rotate": "270"}},
    ],
)
def test_quarter_turn_rotation_swaps_the_displayed_size(side_data: dict[str, Any]) -> None:
    info = interpret(ffprobe_json([video_stream(**side_data)]))
    assert info.rotation in (90, 270)
    assert (info.display_width, info.display_height) == (1080, 1920)


def test_half_turn_keeps_the_displayed_size() -> None:
    info = interpret(ffprobe_json([video_stream(side_data_list=[{"rotation": 180}])]))
    assert info.rotation == 180
    assert (info.display_width, info.display_height) == (1920, 1080)


def test_non_square_pixels_widen_the_displayed_size() -> None:
    info = interpret(ffprobe_json([video_stream(width=1440, sample_aspect_ratio="4:3")]))
    assert (info.display_width, info.display_height) == (1920, 1080)


def test_cover_art_is_not_a_video_stream() -> None:
    cover = video_stream(codec_name="mjpeg", disposition={"attached_pic": 1})
    with pytest.raises(NoVideoStream, match="no video stream"):
        interpret(ffprobe_json([{"index": 0, "codec_type": "audio"}, cover]))


def test_the_first_real_video_stream_is_chosen_after_cover_art() -> None:
    cover = video_stream(index=0, disposition={"attached_pic": 1})
    info = interpret(ffprobe_json([cover, video_stream(index=1, width=640, height=360)]))
    assert (info.video_index, info.width) == (1, 640)


def test_audio_only_file_has_no_video_stream() -> None:
    with pytest.raises(NoVideoStream):
        interpret(ffprobe_json([{"index": 0, "codec_type": "audio"}]))


@pytest.mark.parametrize("duration", [None, "0.000000", "N/A", "-1", "0"])
def test_missing_or_zero_duration_is_rejected(duration: Any) -> None:
    with pytest.raises(ZeroDuration, match="no duration"):
        interpret(ffprobe_json([video_stream()], duration=duration))


def test_stream_duration_is_used_when_the_container_has_none() -> None:
    info = interpret(ffprobe_json([video_stream(duration="3.2")], duration=None))
    assert info.duration_ms == 3200


def test_too_long_is_rejected_with_both_lengths() -> None:
    with pytest.raises(TooLong, match=r"180\.5 s long; the maximum is 180 s"):
        interpret(ffprobe_json([video_stream()], duration="180.5"))


def test_the_duration_limit_comes_from_the_limits() -> None:
    with pytest.raises(TooLong):
        interpret(
            ffprobe_json([video_stream()], duration="11"), ProbeLimits(max_duration_ms=10_000)
        )


@pytest.mark.parametrize(
    ("width", "height"), [(60000, 60000), (8193, 100), (100, 9000), (8192, 8192)]
)
def test_huge_dimensions_are_rejected(width: int, height: int) -> None:
    with pytest.raises(BadDimensions, match=f"{width}x{height}"):
        interpret(ffprobe_json([video_stream(width=width, height=height)]))


@pytest.mark.parametrize("width", [0, -5, None, "wide", True])
def test_invalid_dimensions_are_rejected(width: Any) -> None:
    with pytest.raises(BadDimensions):
        interpret(ffprobe_json([video_stream(width=width)]))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"format": {}, "streams": "x"},
        {"format": {"format_name": "hls"}, "streams": []},
        {"format": {"format_name": "matroska,webm"}, "streams": []},
    ],
)
def test_unexpected_probe_output_is_unreadable(data: dict[str, Any]) -> None:
    with pytest.raises(Unreadable):
        interpret(data)


@pytest.mark.parametrize("rate", ["0/0", "30/0", "abc", None, "100000/1"])
def test_unknown_frame_rate_is_none(rate: Any) -> None:
    info = interpret(ffprobe_json([video_stream(avg_frame_rate=rate, r_frame_rate=rate)]))
    assert info.fps is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=100)
@given(json_values)
def test_arbitrary_probe_json_only_raises_input_rejected(data: Any) -> None:
    try:
        interpret({"format": {"format_name": MP4_FMT, "duration": "1"}, "streams": [data]})
        interpret(data if isinstance(data, dict) else {"format": data, "streams": data})
    except InputRejected:
        pass


@settings(max_examples=100)
@given(st.dictionaries(st.sampled_from(sorted(video_stream())), json_values, max_size=8))
def test_arbitrary_stream_fields_only_raise_input_rejected(over: dict[str, Any]) -> None:
    with contextlib.suppress(InputRejected):
        interpret(ffprobe_json([video_stream(**over)]))
