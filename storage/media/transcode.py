"""Transcode an accepted input into the vertical renditions and a poster, in one ffmpeg run.

One decode feeds every rendition (``split``) and the poster. ffmpeg runs as a subprocess
(asyncio), never on the event loop; its ``-progress`` output drives the progress callback.
All outputs go into a fresh private directory, which is removed if anything fails or the task
is cancelled; on success the caller owns it (:meth:`Transcoded.cleanup`).

Output is reproducible: a fixed x264 thread count, ``bitexact`` muxing and no copied metadata,
so the same input and settings give byte-identical renditions (hence identical CIDs).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ffmpeg

from storage.media.errors import TranscodeFailed, Unreadable
from storage.media.ladder import (
    Plan,
    gop_frames,
    output_fps,
    plan_renditions,
    poster_frame_index,
    poster_plan,
)
from storage.media.mp4info import inspect_mp4
from storage.media.probe import ProbeLimits, ProbeResult, probe
from storage.media.progress import FfmpegProgressParser, Progress, ProgressCallback, Stage
from storage.media.tools import ToolOptions, demuxer_options, global_args, input_url, run_tool

RENDITION_MIME: Final = "video/mp4"
POSTER_MIME: Final = "image/jpeg"
_JPEG_SOI: Final = b"\xff\xd8\xff"
_DURATION_SLACK_MS: Final = 500


@dataclass(frozen=True, slots=True)
class TranscodeOptions:
    """Encoder settings (the composition root fills these from config; tests go faster)."""

    preset: str = "veryfast"
    """x264 preset; ``ultrafast`` for tests, ``medium`` for smaller files."""
    crf: int = 23
    """x264 constant rate factor (quality); each rung's bitrate cap still applies."""
    threads: int = 2
    """x264 threads. Fixed (not "auto") so output, and CIDs, do not depend on the machine."""
    poster_quality: int = 3
    """JPEG quality scale of the poster, 2 (best) to 31."""
    poster_max_width: int = 720
    """Poster width cap, pixels."""
    timeout_base_s: float = 120.0
    """Wall-clock allowance for one transcode, plus :attr:`timeout_per_media_s` per second."""
    timeout_per_media_s: float = 20.0
    """Extra wall-clock seconds allowed per second of media."""


@dataclass(frozen=True, slots=True)
class RenditionFile:
    """One finished rendition on disk."""

    path: Path
    width: int
    height: int
    size: int
    bitrate: int
    """Average total bitrate (video + audio), bits per second."""
    codecs: str
    """RFC 6381 codecs string, e.g. ``avc1.64001f,mp4a.40.2``."""
    mime: str = RENDITION_MIME


@dataclass(frozen=True, slots=True)
class PosterFile:
    """The finished poster image on disk."""

    path: Path
    width: int
    height: int
    size: int
    mime: str = POSTER_MIME


@dataclass(frozen=True, slots=True)
class Transcoded:
    """Everything one transcode produced; the files live in :attr:`directory`."""

    directory: Path
    duration_ms: int
    renditions: tuple[RenditionFile, ...]
    """Largest first."""
    poster: PosterFile

    def cleanup(self) -> None:
        """Delete the output directory and everything in it."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _chain(stream: Any, plan: Plan) -> Any:
    return (
        stream.filter("scale", plan.content_width, plan.content_height)
        .filter("pad", plan.width, plan.height, plan.pad_x, plan.pad_y, color="black")
        .filter("setsar", 1)
    )


def build_ffmpeg_argv(
    info: ProbeResult,
    out_dir: Path,
    *,
    options: TranscodeOptions,
    tools: ToolOptions,
) -> tuple[list[str], list[Plan], Plan]:
    """The ffmpeg command for ``info``; returns ``(argv, rendition plans, poster plan)``.

    Outputs are ``out_dir/r<i>.mp4`` and ``out_dir/poster.jpg``.
    """
    plans = plan_renditions(info.display_width, info.display_height)
    poster = poster_plan(
        info.display_width, info.display_height, plans[0], max_width=options.poster_max_width
    )
    fps = output_fps(info.fps)
    gop = gop_frames(fps)
    source = ffmpeg.input(input_url(info.path), **demuxer_options(info.container, tools))
    video = source[str(info.video_index)]
    if info.sar != 1:
        video = video.filter("scale", "trunc(iw*sar/2)*2", "ih").filter("setsar", 1)
    # ffmpeg applies the rotation (display matrix) itself while decoding (autorotate).
    video = video.filter("fps", fps=str(fps))
    branches = video.filter_multi_output("split", len(plans) + 1)
    outputs = []
    for i, plan in enumerate(plans):
        v = _chain(branches.stream(i), plan).filter("format", "yuv420p")
        streams = [v, source["a:0"]] if info.has_audio else [v]
        opts: dict[str, Any] = {
            "c:v": "libx264",
            "preset": options.preset,
            "crf": options.crf,
            "profile:v": "high",
            "maxrate": plan.max_video_bitrate,
            "bufsize": 2 * plan.max_video_bitrate,
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": 0,
            "threads": options.threads,
            "movflags": "+faststart",
            "fflags": "+bitexact",
            "flags:v": "+bitexact",
            "map_metadata": -1,
            "map_chapters": -1,
            "protocol_whitelist": "file",
            "f": "mp4",
        }
        if info.has_audio:
            opts.update({"c:a": "aac", "b:a": plan.audio_bitrate, "ac": 2, "ar": 48000})
            opts["flags:a"] = "+bitexact"
        outputs.append(ffmpeg.output(*streams, input_url(out_dir / f"r{i}.mp4"), **opts))
    frame = poster_frame_index(info.duration_ms, fps)
    pv = _chain(branches.stream(len(plans)).filter("select", f"gte(n,{frame})"), poster)
    pv = pv.filter("format", "yuvj420p")
    outputs.append(
        ffmpeg.output(
            pv,
            input_url(out_dir / "poster.jpg"),
            **{
                "frames:v": 1,
                "c:v": "mjpeg",
                "q:v": options.poster_quality,
                "fflags": "+bitexact",
                "flags:v": "+bitexact",
                "map_metadata": -1,
                "protocol_whitelist": "file",
                "update": 1,
                "f": "image2",
            },
        )
    )
    compiled: list[str] = ffmpeg.merge_outputs(*outputs).compile(cmd=tools.ffmpeg)
    argv = [
        compiled[0],
        *global_args(tools),
        "-nostdin",
        "-n",
        "-progress",
        "pipe:1",
        "-nostats",
        *compiled[1:],
    ]
    return argv, plans, poster


async def transcode(
    source: Path | ProbeResult,
    work_dir: Path,
    *,
    options: TranscodeOptions | None = None,
    tools: ToolOptions | None = None,
    limits: ProbeLimits | None = None,
    progress: ProgressCallback | None = None,
) -> Transcoded:
    """Transcode ``source`` into a new directory under ``work_dir``.

    A path is probed (and validated) first, so hostile files get the same specific errors as
    from :func:`~storage.media.probe.probe`.
    """
    options = options or TranscodeOptions()
    tools = tools or ToolOptions()
    if isinstance(source, ProbeResult):
        info = source
    else:
        info = await probe(source, limits=limits, tools=tools)
    out_dir = await asyncio.to_thread(_make_out_dir, work_dir)
    try:
        return await _run(info, out_dir, options, tools, progress)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _make_out_dir(work_dir: Path) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="transcode-", dir=work_dir))


async def _run(
    info: ProbeResult,
    out_dir: Path,
    options: TranscodeOptions,
    tools: ToolOptions,
    progress: ProgressCallback | None,
) -> Transcoded:
    argv, plans, poster = build_ffmpeg_argv(info, out_dir, options=options, tools=tools)
    parser = FfmpegProgressParser(info.duration_ms)

    def on_line(line: bytes) -> None:
        done = parser.feed(line)
        if done is not None and progress is not None:
            progress(Progress(Stage.TRANSCODE, done, info.duration_ms))

    timeout = options.timeout_base_s + options.timeout_per_media_s * info.duration_ms / 1000
    run = await run_tool(argv, timeout_s=timeout, on_stdout_line=on_line)
    if run.returncode != 0:
        raise TranscodeFailed(
            "ffmpeg could not convert this video (it may be damaged or use an unsupported "
            f"codec: {info.video_codec})"
        )
    decoded = parser.out_ms or 0
    if decoded < info.duration_ms - max(_DURATION_SLACK_MS, info.duration_ms // 10):
        raise Unreadable(
            f"the video is truncated or damaged: only {decoded / 1000:.1f} s of "
            f"{info.duration_ms / 1000:.1f} s could be decoded"
        )
    return await asyncio.to_thread(_verify_outputs, out_dir, plans, poster, info)


def _verify_outputs(
    out_dir: Path, plans: list[Plan], poster: Plan, info: ProbeResult
) -> Transcoded:
    renditions = tuple(
        _verify_rendition(out_dir / f"r{i}.mp4", plan, info) for i, plan in enumerate(plans)
    )
    return Transcoded(out_dir, info.duration_ms, renditions, _verify_poster(out_dir, poster))


def _verify_rendition(path: Path, plan: Plan, info: ProbeResult) -> RenditionFile:
    try:
        with open(path, "rb") as fh:
            mp4 = inspect_mp4(fh)
        size = path.stat().st_size
    except OSError as exc:
        raise TranscodeFailed("ffmpeg did not produce a rendition") from exc
    if not mp4.fast_start:
        raise TranscodeFailed("rendition is not fast-start (moov after mdat)")
    expected = 2 if info.has_audio else 1
    if len(mp4.codecs) != expected or not mp4.codecs[0].startswith("avc1."):
        raise TranscodeFailed(f"rendition has unexpected tracks: {mp4.codecs_string}")
    bitrate = size * 8 * 1000 // max(1, info.duration_ms)
    return RenditionFile(path, plan.width, plan.height, size, bitrate, mp4.codecs_string)


def _verify_poster(out_dir: Path, plan: Plan) -> PosterFile:
    path = out_dir / "poster.jpg"
    try:
        with open(path, "rb") as fh:
            head = fh.read(3)
        size = path.stat().st_size
    except OSError as exc:
        raise TranscodeFailed("ffmpeg did not produce a poster") from exc
    if head != _JPEG_SOI:
        raise TranscodeFailed("the poster is not a JPEG image")
    return PosterFile(path, plan.width, plan.height, size)
