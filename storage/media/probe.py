"""Probe and validate an input file: what it is, and whether Toktok accepts it.

:func:`probe` does the I/O (stat, first bytes, one hardened ffprobe run);
:func:`interpret_probe` is the pure part that turns ffprobe's JSON into a :class:`ProbeResult`
or a specific :class:`~storage.media.errors.InputRejected` error.
"""

from __future__ import annotations

import asyncio
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from storage import untrusted
from storage.media.errors import (
    BadDimensions,
    NoVideoStream,
    TooLarge,
    TooLong,
    Unreadable,
    ZeroDuration,
)
from storage.media.sniff import SNIFF_BYTES, Container, sniff_container
from storage.media.tools import ToolOptions, ffprobe_argv, run_tool

# What ffprobe reports as format_name for each demuxer we name with -f.
MAX_PROBE_OUTPUT: Final = 16 * 1024 * 1024
"""ffprobe output is collected up to this size by ``run_tool`` (its ``max_stdout``)."""
_FORMAT_NAMES: Final = {
    Container.MP4: "mov,mp4,m4a,3gp,3g2,mj2",
    Container.MATROSKA: "matroska,webm",
}


@dataclass(frozen=True, slots=True)
class ProbeLimits:
    """What the pipeline accepts (the composition root fills these from config)."""

    max_duration_ms: int = 180_000
    """Longest accepted clip (default 3 minutes)."""
    max_file_bytes: int = 1024**3
    """Largest accepted input file (default 1 GiB)."""
    max_side: int = 8192
    """Largest accepted frame width or height, pixels."""
    max_pixels: int = 8192 * 4320
    """Largest accepted frame area, pixels (8K UHD)."""
    timeout_s: float = 30.0
    """Wall-clock limit for one ffprobe run."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """An accepted input, as far as the transcoder needs to know it."""

    path: Path
    container: Container
    size: int
    """File size in bytes."""
    duration_ms: int
    video_index: int
    """ffmpeg stream index of the video stream to publish."""
    video_codec: str
    width: int
    """Coded width (before rotation)."""
    height: int
    rotation: int
    """Display rotation in degrees, normalised to 0, 90, 180 or 270."""
    sar: Fraction
    """Sample (pixel) aspect ratio; 1 for square pixels."""
    fps: Fraction | None
    """Average frame rate, or ``None`` when ffprobe does not know it."""
    has_audio: bool

    @property
    def display_width(self) -> int:
        """Width as shown (rotation and pixel aspect applied)."""
        w = max(1, round(self.width * self.sar))
        return self.height if self.rotation in (90, 270) else w

    @property
    def display_height(self) -> int:
        """Height as shown (rotation and pixel aspect applied)."""
        w = max(1, round(self.width * self.sar))
        return w if self.rotation in (90, 270) else self.height


async def probe(
    path: Path, *, limits: ProbeLimits | None = None, tools: ToolOptions | None = None
) -> ProbeResult:
    """Inspect ``path`` and return what it is, or raise a specific ``InputRejected`` error.

    The container is recognised from the file's bytes, never from its name.
    """
    limits = limits or ProbeLimits()
    tools = tools or ToolOptions()
    size, head = await asyncio.to_thread(_read_head, path)
    if size > limits.max_file_bytes:
        raise TooLarge(
            f"the file is {_mib(size)} MiB; the maximum is {_mib(limits.max_file_bytes)} MiB"
        )
    container = sniff_container(head)
    run = await run_tool(ffprobe_argv(path, container, tools), timeout_s=limits.timeout_s)
    if run.returncode != 0:
        raise Unreadable(
            "the video file is damaged or truncated and cannot be read; "
            "try exporting it again from the camera or editor"
        )
    try:
        data = untrusted.loads(run.stdout, max_bytes=MAX_PROBE_OUTPUT, what="ffprobe output")
    except ValueError as exc:
        raise Unreadable("ffprobe returned unusable output for this file") from exc
    if not isinstance(data, dict):
        raise Unreadable("ffprobe returned unusable output for this file")
    return interpret_probe(data, path=path, container=container, size=size, limits=limits)


def _read_head(path: Path) -> tuple[int, bytes]:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"{path.name!r} is not a regular file")
        with open(path, "rb") as fh:
            return st.st_size, fh.read(SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise Unreadable(f"{path.name!r} does not exist") from exc
    except PermissionError as exc:
        raise Unreadable(f"{path.name!r} cannot be read (permission denied)") from exc
    except OSError as exc:
        raise Unreadable(f"{path.name!r} cannot be read: {exc.strerror}") from exc


def _mib(n: int) -> int:
    return math.ceil(n / 1024**2)


def interpret_probe(
    data: Mapping[str, Any],
    *,
    path: Path,
    container: Container,
    size: int,
    limits: ProbeLimits,
) -> ProbeResult:
    """Validate ffprobe's ``-show_format -show_streams`` JSON (pure)."""
    fmt = data.get("format")
    streams = data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(streams, list):
        raise Unreadable("the file's container could not be parsed")
    if fmt.get("format_name") != _FORMAT_NAMES[container]:
        raise Unreadable("the file's container could not be parsed")
    video = _pick_video(streams)
    if video is None:
        raise NoVideoStream("the file has no video stream (audio only or empty); nothing to show")
    duration_ms = _duration_ms(fmt.get("duration"))
    if duration_ms is None:
        duration_ms = _duration_ms(video.get("duration"))
    if duration_ms is None or duration_ms <= 0:
        raise ZeroDuration("the video has no duration (a single image or an empty recording)")
    if duration_ms > limits.max_duration_ms:
        raise TooLong(
            f"the clip is {_secs(duration_ms)} s long; the maximum is "
            f"{_secs(limits.max_duration_ms)} s: trim it and try again"
        )
    width, height = _int(video.get("width")), _int(video.get("height"))
    if width is None or height is None or width <= 0 or height <= 0:
        raise BadDimensions("the video declares no valid frame size")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise BadDimensions(
            f"the video is {width}x{height}; the maximum is {limits.max_side} pixels per side "
            f"and {limits.max_pixels} pixels per frame"
        )
    index = _int(video.get("index"))
    if index is None or index < 0:
        raise Unreadable("the file's stream table could not be parsed")
    return ProbeResult(
        path=path,
        container=container,
        size=size,
        duration_ms=duration_ms,
        video_index=index,
        video_codec=str(video.get("codec_name", "unknown")),
        width=width,
        height=height,
        rotation=_rotation(video),
        sar=_sar(video.get("sample_aspect_ratio")),
        fps=_fps(video.get("avg_frame_rate")) or _fps(video.get("r_frame_rate")),
        has_audio=any(isinstance(s, dict) and s.get("codec_type") == "audio" for s in streams),
    )


def _secs(ms: int) -> str:
    return f"{ms / 1000:g}"


def _pick_video(streams: list[Any]) -> dict[str, Any] | None:
    for s in streams:
        if not isinstance(s, dict) or s.get("codec_type") != "video":
            continue
        disposition = s.get("disposition")
        if isinstance(disposition, dict) and disposition.get("attached_pic") == 1:
            continue  # cover art, not a moving picture
        return s
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _duration_ms(value: Any) -> int | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        seconds = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return math.floor(seconds * 1000)


def _ratio(value: Any) -> Fraction | None:
    if not isinstance(value, str):
        return None
    num, sep, den = value.partition("/") if "/" in value else value.partition(":")
    try:
        n, d = int(num), int(den)
    except ValueError:
        return None
    if not sep or n <= 0 or d <= 0:
        return None
    return Fraction(n, d)


def _fps(value: Any) -> Fraction | None:
    fps = _ratio(value)
    if fps is None or not Fraction(1, 10) <= fps <= 1000:
        return None
    return fps


def _sar(value: Any) -> Fraction:
    sar = _ratio(value)
    if sar is None or not Fraction(1, 10) <= sar <= 10:
        return Fraction(1)
    return sar


def _rotation(video: Mapping[str, Any]) -> int:
    """The display rotation normalised to 0, 90, 180 or 270 degrees.

    Only whether it is a quarter turn matters here (it swaps the displayed width and height);
    ffmpeg applies the actual rotation itself while decoding.
    """
    degrees: float | None = None
    side = video.get("side_data_list")
    if isinstance(side, list):
        for item in side:
            if isinstance(item, dict) and isinstance(item.get("rotation"), int | float):
                degrees = float(item["rotation"])
                break
    if degrees is None:
        tags = video.get("tags")
        if isinstance(tags, dict) and isinstance(tags.get("rotate"), str):
            try:
                degrees = float(tags["rotate"])
            except ValueError:
                degrees = None
    if degrees is None or not math.isfinite(degrees):
        return 0
    return round(degrees / 90) % 4 * 90
