"""Fixtures for the media integration tests: tiny synthetic clips, hostile files, a listener."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.media.media_helpers import Listener, ffmpeg, patch_dims, zero_durations

from storage.media.samples import SampleSpec, make_sample, standard_set


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The standard sample set (2 s, 180x320-class) plus a few special clips."""
    out = tmp_path_factory.mktemp("samples")
    made = {spec.name: make_sample(spec, out) for spec in standard_set(2.0)}
    made["long"] = make_sample(SampleSpec("long", 180, 320, 4.5, audio=False), out)
    made["tall"] = make_sample(SampleSpec("tall", 1080, 1920, 0.5), out)
    return made


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Malformed and hostile inputs that do not depend on a listener port."""
    out = tmp_path_factory.mktemp("hostile")
    (out / "random.mp4").write_bytes(os.urandom(4096))
    (out / "empty.mp4").write_bytes(b"")
    (out / "concat.mp4").write_text("ffconcat version 1.0\nfile '/etc/passwd'\nfile 'a.mp4'\n")
    # Audio only, in both accepted containers.
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(out / "audio.m4a"))
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus", str(out / "audio.mkv"))
    # A non-fast-start MP4 cut in half: the moov box at the end is gone.
    full = out / "full.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:r=10:d=1", "-c:v", "libx264", str(full))
    data = full.read_bytes()
    (out / "truncated.mp4").write_bytes(data[: len(data) // 2])
    # A fast-start MP4 cut in half: headers intact, the second half of the media is gone.
    fast = out / "fast.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10:d=3", "-c:v", "libx264",
        "-movflags", "+faststart", str(fast),
    )  # fmt: skip
    data = fast.read_bytes()
    (out / "cut.mp4").write_bytes(data[: len(data) // 2])
    # One frame whose every duration field (mvhd, mdhd, tkhd, elst, stts) is patched to 0.
    one = out / "one.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10", "-frames:v", "1", "-c:v", "libx264", str(one)
    )
    (out / "zero.mp4").write_bytes(zero_durations(one.read_bytes()))
    # Raw video whose sample description claims a gigantic frame.
    raw = out / "raw.mov"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=16x16:d=0.2:r=10",
        "-c:v",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        str(raw),
    )
    (out / "huge16k.mp4").write_bytes(patch_dims(raw.read_bytes(), 16000, 16000))
    (out / "huge60k.mp4").write_bytes(patch_dims(raw.read_bytes(), 60000, 60000))
    return out


@pytest.fixture
def listener() -> Iterator[Listener]:
    lis = Listener()
    try:
        yield lis
    finally:
        lis.close()
