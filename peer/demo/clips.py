"""The demo creator's sample clips: made with ffmpeg's synthetic sources, cached on disk.

``scripts/setup`` runs ``python -m peer.demo.clips CACHE_DIR`` (through ``scripts/sample-media
--demo``). The cache is keyed by a hash of this module's source: the clips are made again only
when the way they are made changes. ``CACHE_DIR/clips.json`` lists them (written last, so a
half-made cache is never taken for a complete one).

No external media: every picture and tone comes from ffmpeg's ``lavfi`` sources.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from peer.demo.errors import DemoMediaError
from storage import untrusted

INDEX_FILE = "clips.json"
_MAX_FILE = 64 * 1024  # the index is < 1 KB
WIDTH, HEIGHT = 480, 854  # the smallest rung of the rendition ladder: one rendition each
DURATION_S = 4
FPS = 24


@dataclass(frozen=True, slots=True)
class DemoClip:
    """One sample clip: what it looks like, and the post it becomes."""

    name: str
    title: str
    tags: tuple[str, ...]
    video: str
    """A lavfi video source (size, rate and duration are appended)."""
    caption: str
    tone_hz: int
    premium: bool = False
    min_balance: int = 0
    """Whole creator tokens a viewer must hold (premium clips only)."""
    pixel: int = 1
    """Drawn at 1/pixel of the size and scaled up with big square pixels (smaller files)."""

    @property
    def filename(self) -> str:
        return f"{self.name}.mp4"


# Distinct looks: fractal, cellular life, cool gradient (the premium one), warm gradient.
# Published in this order; the feed shows the newest first.
CLIPS: tuple[DemoClip, ...] = (
    DemoClip(
        "fractal-dive",
        "A dive into the Mandelbrot set",
        ("math", "fractal"),
        "mandelbrot",
        "Fractal dive",
        523,
    ),
    DemoClip(
        "game-of-life",
        "Conway's Game of Life, live",
        ("science", "pixels"),
        "life=mold=10:ratio=0.2:death_color=0x1d2671:life_color=0x55efc4",
        "Game of life",
        659,
        pixel=6,
    ),
    DemoClip(
        "behind-the-scenes",
        "Behind the scenes (holders only)",
        ("premium", "bts"),
        "gradients=c0=0x00c9ff:c1=0x92fe9d:c2=0x3a1c71:n=3:speed=0.05",
        "Behind the scenes",
        440,
        premium=True,
        min_balance=5,
    ),
    DemoClip(
        "golden-hour",
        "Golden hour over the bay",
        ("sunset", "chill"),
        "gradients=c0=0xff7e5f:c1=0xfeb47b:c2=0x6a3093:n=3:speed=0.04",
        "Golden hour",
        392,
    ),
)


def generator_hash() -> str:
    """Hash of the generator (this module): the cache key."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _argv(clip: DemoClip, target: Path, *, caption: bool, ffmpeg: str) -> list[str]:
    size = f"{WIDTH // clip.pixel}x{HEIGHT // clip.pixel}"
    joiner = ":" if "=" in clip.video else "="
    source = f"{clip.video}{joiner}size={size}:rate={FPS}"
    video = f"[0:v]trim=duration={DURATION_S},setpts=PTS-STARTPTS"
    video += f",scale={WIDTH}:{HEIGHT}:flags=neighbor,setsar=1,format=yuv420p"
    if caption:
        text = clip.caption.replace("'", "")
        video += (
            f",drawtext=text='{text}':fontcolor=white:fontsize=44:box=1:boxcolor=black@0.35"
            ":boxborderw=18:x=(w-text_w)/2:y=h*0.72"
        )
    tone = f"sine=frequency={clip.tone_hz}:duration={DURATION_S},volume=0.2"
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", source, "-f", "lavfi", "-i", tone,
        "-filter_complex", video + "[v]", "-map", "[v]", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26",
        "-c:a", "aac", "-b:a", "64k", "-t", str(DURATION_S), "-movflags", "+faststart",
        str(target),
    ]  # fmt: skip


def make_clip(clip: DemoClip, out_dir: Path, *, ffmpeg: str = "ffmpeg") -> Path:
    """Write ``clip`` into ``out_dir`` (with its caption if fonts allow) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / clip.filename
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        work = Path(tmp) / clip.filename
        errors = []
        for caption in (True, False):  # no font on the machine: the same clip without caption
            try:
                done = subprocess.run(
                    _argv(clip, work, caption=caption, ffmpeg=ffmpeg),
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise DemoMediaError(f"cannot run {ffmpeg} for {clip.name}: {exc}") from exc
            if done.returncode == 0:
                os.replace(work, target)
                return target
            errors.append(done.stderr.strip()[-400:])
    raise DemoMediaError(f"ffmpeg could not make the demo clip {clip.name}: {errors[-1]}")


def cached_index(cache_dir: Path) -> dict[str, object] | None:
    """The cache's index if it is complete and made by this generator, else None."""
    try:
        index = untrusted.loads((cache_dir / INDEX_FILE).read_bytes(), max_bytes=_MAX_FILE)
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("generator") != generator_hash():
        return None
    files = index.get("files")
    if not isinstance(files, dict) or set(files) != {c.name for c in CLIPS}:
        return None
    if not all(isinstance(p, str) and Path(p).is_file() for p in files.values()):
        return None
    return index


def ensure_clips(cache_dir: Path, *, ffmpeg: str = "ffmpeg") -> dict[str, Path]:
    """Clip name -> path, made now unless the cache is complete and current."""
    cache_dir = cache_dir.resolve()
    index = cached_index(cache_dir)
    if index is None:
        (cache_dir / INDEX_FILE).unlink(missing_ok=True)
        made = {clip.name: str(make_clip(clip, cache_dir, ffmpeg=ffmpeg)) for clip in CLIPS}
        index = {"generator": generator_hash(), "files": made}
        tmp = cache_dir / (INDEX_FILE + ".tmp")
        tmp.write_text(json.dumps(index, indent=2))
        os.replace(tmp, cache_dir / INDEX_FILE)
    files = index["files"]
    assert isinstance(files, dict)
    return {name: Path(path) for name, path in files.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m peer.demo.clips CACHE_DIR``: make the demo clips unless cached; print JSON."""
    parser = argparse.ArgumentParser(prog="demo-clips", description=__doc__)
    parser.add_argument("cache_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        files = ensure_clips(args.cache_dir)
    except DemoMediaError as exc:
        print(f"demo clips: {exc}", file=sys.stderr)
        return 1
    json.dump({"files": {k: str(v) for k, v in files.items()}}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
