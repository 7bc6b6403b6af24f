"""The demo clips: made with real ffmpeg, cached, and made again only when needed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from peer.demo import clips
from peer.demo.errors import DemoMediaError

pytestmark = pytest.mark.integration


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small and short clips: the test is about caching, not about looks."""
    monkeypatch.setattr(clips, "WIDTH", 120)
    monkeypatch.setattr(clips, "HEIGHT", 214)
    monkeypatch.setattr(clips, "DURATION_S", 1)


def probe(path: Path) -> dict[str, object]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {s["codec_type"]: s for s in json.loads(done.stdout)["streams"]}


@pytest.mark.usefixtures("tiny")
def test_clips_are_made_once_and_reused_until_the_generator_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = clips.ensure_clips(tmp_path)
    assert set(files) == {c.name for c in clips.CLIPS}
    for path in files.values():
        streams = probe(path)
        video = streams["video"]
        assert isinstance(video, dict)
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 120, 214)
        assert "audio" in streams
    stamps = {name: path.stat().st_mtime_ns for name, path in files.items()}

    assert clips.ensure_clips(tmp_path) == files
    assert {n: p.stat().st_mtime_ns for n, p in files.items()} == stamps, "cached: not remade"

    files["golden-hour"].unlink()
    assert clips.cached_index(tmp_path) is None, "a missing clip makes the cache incomplete"
    clips.ensure_clips(tmp_path)
    assert files["golden-hour"].is_file()

    monkeypatch.setattr(clips, "generator_hash", lambda: "another generator")
    assert clips.cached_index(tmp_path) is None
    clips.ensure_clips(tmp_path)
    assert json.loads((tmp_path / clips.INDEX_FILE).read_text())["generator"] == "another generator"


def test_a_clip_ffmpeg_cannot_make_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    broken = clips.DemoClip("broken", "Broken", (), "nosuchsource", "Broken", 440)
    with pytest.raises(DemoMediaError, match="broken"):
        clips.make_clip(broken, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_generator_hash_is_the_hash_of_the_generator_source() -> None:
    import hashlib

    source = Path(clips.__file__).read_bytes()
    assert clips.generator_hash() == hashlib.sha256(source).hexdigest()
