"""Transcoding against real ffmpeg: rendition properties checked with ffprobe, rotation,
letterboxing, keyframes, reproducibility, progress, cancellation and hostile inputs."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from integration.media.media_helpers import (
    FAST,
    Listener,
    files_under,
    hls_playlist,
    passwd_markers,
    processes_mentioning,
)

from storage.media.errors import (
    BadDimensions,
    NotAVideo,
    ToolTimeout,
    TranscodeFailed,
    Unreadable,
    ZeroDuration,
)
from storage.media.probe import ProbeResult
from storage.media.progress import Progress, Stage
from storage.media.sniff import Container
from storage.media.transcode import Transcoded, transcode

pytestmark = pytest.mark.integration


def ffprobe_json(path: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", *args, str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def streams(path: Path) -> list[dict[str, Any]]:
    return list(ffprobe_json(path, "-show_streams")["streams"])


def top_level_boxes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    pos, kinds = 0, []
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kinds.append(data[pos + 4 : pos + 8])
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        pos += size if size else len(data)
    return kinds


def keyframe_times(path: Path) -> list[float]:
    frames = ffprobe_json(
        path, "-select_streams", "v:0", "-show_entries", "frame=pts_time,key_frame", "-show_frames"
    )["frames"]
    return [float(f["pts_time"]) for f in frames if f["key_frame"] == 1]


def gray_frame(path: Path, width: int, height: int) -> bytes:
    """The first frame as 8-bit luma."""
    return subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout[: width * height]


def mean(rows: bytes) -> float:
    return sum(rows) / max(1, len(rows))


def make_rotated_source(src: Path) -> Path:
    """Landscape pixels, left half white and right half black, displayed a quarter turn."""
    src.mkdir()
    plain, rotated = src / "plain.mp4", src / "rotated.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=white:s=160x90:d=1:r=10",
            "-f",
            "lavfi",
            "-i",
            "color=black:s=160x90:d=1:r=10",
            "-filter_complex",
            "[0][1]hstack",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(plain),
        ],
        check=True,
        timeout=60,
    )
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
        timeout=60,
    )
    return rotated


def entries(path: Path) -> list[Path]:
    return list(path.iterdir())


async def run(source: Path | ProbeResult, work: Path, **kw: Any) -> Transcoded:
    return await transcode(source, work, options=kw.pop("options", FAST), **kw)


async def test_a_1080x1920_source_gets_three_verified_renditions(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    result = await run(samples["tall"], tmp_path)
    try:
        assert [(r.width, r.height) for r in result.renditions] == [
            (1080, 1920),
            (720, 1280),
            (480, 854),
        ]
        for r in result.renditions:
            video, audio = streams(r.path)
            assert (video["codec_name"], video["width"], video["height"]) == (
                "h264",
                r.width,
                r.height,
            )
            assert video["pix_fmt"] == "yuv420p"
            assert audio["codec_name"] == "aac"
            assert audio["profile"] == "LC"
            boxes = top_level_boxes(r.path)
            assert boxes.index(b"moov") < boxes.index(b"mdat")
            assert r.codecs.startswith("avc1.")
            assert r.codecs.endswith(",mp4a.40.2")
            assert r.size == r.path.stat().st_size
            assert "side_data_list" not in video
        poster = ffprobe_json(result.poster.path, "-show_streams")["streams"][0]
        assert (poster["codec_name"], poster["width"], poster["height"]) == ("mjpeg", 720, 1280)
    finally:
        result.cleanup()
    assert files_under(tmp_path) == []


async def test_keyframes_every_two_seconds(samples: dict[str, Path], tmp_path: Path) -> None:
    result = await run(samples["long"], tmp_path)
    [r] = result.renditions
    times = keyframe_times(r.path)
    assert times == pytest.approx([0.0, 2.0, 4.0], abs=0.05)
    fmt = ffprobe_json(r.path, "-show_format")["format"]
    assert float(fmt["duration"]) == pytest.approx(4.5, abs=0.1)
    assert len(streams(r.path)) == 1  # no audio in, no audio out
    assert r.codecs.count(",") == 0
    result.cleanup()


async def test_rotation_is_applied_to_the_pixels(tmp_path: Path) -> None:
    rotated = make_rotated_source(tmp_path / "src")
    result = await run(rotated, tmp_path / "work")
    [r] = result.renditions
    assert (r.width, r.height) == (180, 320)
    luma = gray_frame(r.path, 180, 320)
    top, bottom = luma[: 160 * 180], luma[160 * 180 :]
    # A quarter turn moves "left" to the top or the bottom: the halves differ strongly.
    assert abs(mean(top) - mean(bottom)) > 100
    left = bytes(b for i, b in enumerate(luma) if i % 180 < 90)
    right = bytes(b for i, b in enumerate(luma) if i % 180 >= 90)
    assert abs(mean(left) - mean(right)) < 20
    assert "side_data_list" not in streams(r.path)[0]
    result.cleanup()


async def test_landscape_source_is_letterboxed(samples: dict[str, Path], tmp_path: Path) -> None:
    result = await run(samples["landscape"], tmp_path)
    [r] = result.renditions
    assert (r.width, r.height) == (320, 570)
    luma = gray_frame(r.path, 320, 570)
    band = (570 - 180) // 2
    assert mean(luma[: 320 * (band - 4)]) < 25  # black bar on top
    assert mean(luma[-320 * (band - 4) :]) < 25  # and at the bottom
    assert mean(luma[320 * band : 320 * (band + 180)]) > 40  # the picture in between
    result.cleanup()


async def test_webm_source_becomes_h264_aac(samples: dict[str, Path], tmp_path: Path) -> None:
    result = await run(samples["webm"], tmp_path)
    [r] = result.renditions
    assert [s["codec_name"] for s in streams(r.path)] == ["h264", "aac"]
    result.cleanup()


async def test_same_input_gives_identical_bytes(samples: dict[str, Path], tmp_path: Path) -> None:
    a = await run(samples["portrait"], tmp_path)
    b = await run(samples["portrait"], tmp_path)
    assert a.directory != b.directory
    for ra, rb in zip(a.renditions, b.renditions, strict=True):
        assert ra.path.read_bytes() == rb.path.read_bytes()
    assert a.poster.path.read_bytes() == b.poster.path.read_bytes()
    a.cleanup()
    b.cleanup()


async def test_progress_is_reported_up_to_the_duration(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    seen: list[Progress] = []
    result = await run(samples["long"], tmp_path, progress=seen.append)
    assert seen
    assert all(p.stage is Stage.TRANSCODE for p in seen)
    done = [p.done for p in seen]
    assert done == sorted(done)
    assert seen[-1].done == seen[-1].total == result.duration_ms
    result.cleanup()


async def test_cancelling_kills_ffmpeg_and_leaves_no_files(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    started = asyncio.Event()
    slow = replace(FAST, preset="veryslow")

    def on_progress(_p: Progress) -> None:
        started.set()

    task = asyncio.create_task(
        transcode(samples["tall"], tmp_path, options=slow, progress=on_progress)
    )
    await asyncio.wait_for(started.wait(), 60)
    assert processes_mentioning(str(tmp_path))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files_under(tmp_path) == []
    assert entries(tmp_path) == []
    assert processes_mentioning(str(tmp_path)) == []


async def test_timeout_kills_ffmpeg_and_leaves_no_files(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    options = replace(FAST, preset="veryslow", timeout_base_s=0.3, timeout_per_media_s=0)
    with pytest.raises(ToolTimeout, match="did not finish"):
        await transcode(samples["tall"], tmp_path, options=options)
    assert entries(tmp_path) == []
    assert processes_mentioning(str(tmp_path)) == []


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("random.mp4", NotAVideo),
        ("concat.mp4", NotAVideo),
        ("truncated.mp4", Unreadable),
        ("cut.mp4", Unreadable),
        ("huge16k.mp4", BadDimensions),
        ("zero.mp4", ZeroDuration),
    ],
)
async def test_hostile_files_fed_to_transcode_get_clear_errors(
    hostile_dir: Path, tmp_path: Path, name: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        await run(hostile_dir / name, tmp_path)
    assert entries(tmp_path) == []
    for marker in passwd_markers():
        assert marker.decode() not in str(caught.value)


async def test_playlist_fed_to_transcode_fetches_nothing_and_leaks_nothing(
    tmp_path: Path, listener: Listener
) -> None:
    evil = tmp_path / "in" / "clip.mp4"
    evil.parent.mkdir()
    evil.write_text(hls_playlist(listener.port))
    work = tmp_path / "work"
    with pytest.raises(NotAVideo):
        await run(evil, work)
    # Bypass the sniffer and probe entirely: the ffmpeg command itself is hardened.
    for container in Container:
        forged = ProbeResult(
            path=evil,
            container=container,
            size=evil.stat().st_size,
            duration_ms=20_000,
            video_index=0,
            video_codec="h264",
            width=180,
            height=320,
            rotation=0,
            sar=Fraction(1),
            fps=Fraction(30),
            has_audio=True,
        )
        with pytest.raises(TranscodeFailed) as caught:
            await run(forged, work)
        for marker in passwd_markers():
            assert marker.decode() not in str(caught.value)
    assert listener.connections == []
    assert files_under(work) == []
