"""The hardened probe against real ffprobe: accepted inputs, every rejection, hostile files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from integration.media.media_helpers import Listener, hls_playlist, passwd_markers

from storage.media.errors import (
    BadDimensions,
    InputRejected,
    NotAVideo,
    NoVideoStream,
    TooLarge,
    ToolError,
    ToolMissing,
    TooLong,
    ToolTimeout,
    Unreadable,
    ZeroDuration,
)
from storage.media.probe import ProbeLimits, probe
from storage.media.sniff import Container
from storage.media.tools import ToolOptions, ffprobe_argv, run_tool

pytestmark = pytest.mark.integration


async def test_portrait_clip_is_accepted(samples: dict[str, Path]) -> None:
    info = await probe(samples["portrait"])
    assert info.container is Container.MP4
    assert (info.display_width, info.display_height) == (180, 320)
    assert info.has_audio
    assert 1900 <= info.duration_ms <= 2100
    assert info.video_codec == "h264"


async def test_rotated_clip_reports_its_displayed_size(samples: dict[str, Path]) -> None:
    info = await probe(samples["rotated"])
    assert (info.width, info.height) == (320, 180)
    assert info.rotation in (90, 270)
    assert (info.display_width, info.display_height) == (180, 320)


async def test_webm_is_accepted_as_matroska(samples: dict[str, Path]) -> None:
    info = await probe(samples["webm"])
    assert info.container is Container.MATROSKA
    assert info.video_codec == "vp9"


async def test_clip_without_audio_is_accepted(samples: dict[str, Path]) -> None:
    assert not (await probe(samples["no-audio"])).has_audio


@pytest.mark.parametrize("name", ["-i", "-y.mp4", "--help", "-f lavfi", "x:y.mp4", "http:x.mp4"])
async def test_file_names_that_look_like_options_or_urls_are_just_files(
    samples: dict[str, Path], tmp_path: Path, name: str
) -> None:
    target = tmp_path / name
    shutil.copy(samples["portrait"], target)
    info = await probe(target)
    assert info.path == target
    assert (info.display_width, info.display_height) == (180, 320)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("random.mp4", NotAVideo, "not a video"),
        ("empty.mp4", NotAVideo, "not a video"),
        ("concat.mp4", NotAVideo, "not a video"),
        ("audio.m4a", NoVideoStream, "no video stream"),
        ("audio.mkv", NoVideoStream, "no video stream"),
        ("truncated.mp4", Unreadable, "damaged or truncated"),
        ("zero.mp4", ZeroDuration, "no duration"),
        ("huge16k.mp4", BadDimensions, "16000x16000"),
        ("huge60k.mp4", BadDimensions, "no valid frame size"),
    ],
)
async def test_each_bad_input_gets_its_specific_error(
    hostile_dir: Path, name: str, error: type[InputRejected], message: str
) -> None:
    with pytest.raises(error, match=message):
        await probe(hostile_dir / name)


async def test_too_long_clip_is_rejected(samples: dict[str, Path]) -> None:
    with pytest.raises(TooLong, match=r"the maximum is 1 s"):
        await probe(samples["portrait"], limits=ProbeLimits(max_duration_ms=1000))


async def test_too_large_file_is_rejected_before_ffprobe_runs(samples: dict[str, Path]) -> None:
    with pytest.raises(TooLarge, match="the maximum is 1 MiB"):
        await probe(
            samples["portrait"],
            limits=ProbeLimits(max_file_bytes=1000),
            tools=ToolOptions(ffprobe="/nonexistent/ffprobe"),
        )


async def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(Unreadable, match="does not exist"):
        await probe(tmp_path / "nope.mp4")


async def test_directory_and_fifo_are_not_regular_files(tmp_path: Path) -> None:
    with pytest.raises(Unreadable, match="not a regular file"):
        await probe(tmp_path)
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(Unreadable, match="not a regular file"):
        await probe(fifo)


async def test_unreadable_permissions_are_reported(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    target = tmp_path / "locked.mp4"
    shutil.copy(samples["portrait"], target)
    target.chmod(0)
    with pytest.raises(Unreadable, match="permission denied"):
        await probe(target)


async def test_missing_ffprobe_is_a_tool_error(samples: dict[str, Path]) -> None:
    with pytest.raises(ToolMissing, match="install ffmpeg"):
        await probe(samples["portrait"], tools=ToolOptions(ffprobe="/nonexistent/ffprobe"))


async def test_a_probe_that_exceeds_its_timeout_is_killed(samples: dict[str, Path]) -> None:
    with pytest.raises(ToolTimeout, match="did not finish"):
        await probe(samples["portrait"], limits=ProbeLimits(timeout_s=0.001))


async def test_hls_playlist_named_mp4_is_refused_without_any_fetch(
    tmp_path: Path, listener: Listener
) -> None:
    evil = tmp_path / "clip.mp4"
    evil.write_text(hls_playlist(listener.port))
    with pytest.raises(NotAVideo) as caught:
        await probe(evil)
    assert listener.connections == []
    for marker in passwd_markers():
        assert marker.decode() not in str(caught.value)


async def test_forcing_the_mp4_demuxer_on_a_playlist_fetches_nothing(
    tmp_path: Path, listener: Listener
) -> None:
    """Even if the sniffer were bypassed, the hardened ffprobe call opens nothing else."""
    evil = tmp_path / "clip.mp4"
    evil.write_text(hls_playlist(listener.port))
    for container in Container:
        run = await run_tool(ffprobe_argv(evil, container, ToolOptions()), timeout_s=30)
        assert run.returncode != 0
        for marker in passwd_markers():
            assert marker not in run.stdout
    assert listener.connections == []


def test_control_an_unhardened_ffprobe_does_reach_the_listener(
    tmp_path: Path, listener: Listener
) -> None:
    """Control: the listener sees a connection when ffprobe is left to guess the format and
    may use the network. Without this, the tests above could not fail."""
    evil = tmp_path / "clip.mp4"
    evil.write_text(hls_playlist(listener.port).replace("file:///etc/passwd\n", ""))
    subprocess.run(
        ["ffprobe", "-v", "quiet", "-protocol_whitelist", "file,http,tcp", str(evil)],
        timeout=30,
        check=False,
    )
    listener.close()
    assert listener.connections
    assert b"GET /segment0.ts" in listener.connections[0]


async def test_runaway_tool_output_is_cut_off(samples: dict[str, Path]) -> None:
    argv = ffprobe_argv(samples["portrait"], Container.MP4, ToolOptions())
    with pytest.raises(ToolError, match="more output than expected"):
        await run_tool(argv, timeout_s=30, max_stdout=100)
