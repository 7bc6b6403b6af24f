"""The hardened ffprobe / ffmpeg argument lists (storage/media/tools.py)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from storage.media.sniff import Container
from storage.media.tools import ToolOptions, demuxer_options, ffprobe_argv, input_url


@pytest.mark.parametrize("name", ["-i", "-y.mp4", "http:evil.mp4", "a b.mp4", "concat:x|y"])
def test_inputs_are_absolute_file_urls(name: str) -> None:
    url = input_url(Path(name))
    assert url == "file:" + os.path.abspath(name)
    assert url.startswith("file:/")


def pairs(argv: list[str]) -> dict[str, str]:
    return {a: b for a, b in itertools.pairwise(argv) if a.startswith("-")}


@pytest.mark.parametrize("container", list(Container))
def test_ffprobe_names_the_demuxer_and_whitelists_only_files(container: Container) -> None:
    argv = ffprobe_argv(Path("-clip.mp4"), container, ToolOptions(probesize=1234))
    opts = pairs(argv)
    assert opts["-f"] == container.value
    assert opts["-protocol_whitelist"] == "file"
    assert opts["-probesize"] == "1234"
    assert opts["-analyzeduration"] == "5000000"
    assert opts["-max_alloc"] == str(512 * 1024 * 1024)
    assert argv[-2:] == ["-i", input_url(Path("-clip.mp4"))]
    # every option comes before the input
    assert argv.index("-f") < argv.index("-i")


def test_mp4_external_data_references_stay_disabled() -> None:
    assert demuxer_options(Container.MP4, ToolOptions())["enable_drefs"] == 0
    assert "enable_drefs" not in demuxer_options(Container.MATROSKA, ToolOptions())
