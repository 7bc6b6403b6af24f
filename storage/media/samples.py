"""Generate short synthetic clips with ffmpeg's test sources (tests, benchmarks, the demo).

``scripts/sample-media OUTDIR`` writes the standard set: a portrait clip, a landscape clip, a
rotated phone-style clip (landscape pixels with a 90 degree display rotation), a clip without
audio and a WebM. Nothing large is committed to the repository; clips are made on demand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """A synthetic clip: coded size, length, and what it carries."""

    name: str
    width: int
    height: int
    duration_s: float = 2.0
    fps: int = 30
    audio: bool = True
    rotation: int = 0
    """Display rotation in degrees (0 or 90), written as container metadata."""
    webm: bool = False
    """VP9/Opus in WebM instead of H.264/AAC in MP4."""

    @property
    def filename(self) -> str:
        """File name of the generated clip."""
        return f"{self.name}.{'webm' if self.webm else 'mp4'}"


def standard_set(duration_s: float = 2.0, scale: int = 1) -> list[SampleSpec]:
    """The clips ``scripts/sample-media`` writes; ``scale`` multiplies the (small) sizes."""
    w, h = 180 * scale, 320 * scale
    return [
        SampleSpec("portrait", w, h, duration_s),
        SampleSpec("landscape", h, w, duration_s),
        SampleSpec("rotated", h, w, duration_s, rotation=90),
        SampleSpec("no-audio", w, h, duration_s, audio=False),
        SampleSpec("webm", w, h, duration_s, webm=True),
    ]


def make_sample(spec: SampleSpec, out_dir: Path, *, ffmpeg: str = "ffmpeg") -> Path:
    """Write the clip described by ``spec`` into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / spec.filename
    video = f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}:duration={spec.duration_s}"
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", video]
    if spec.audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={spec.duration_s}"]
    if spec.webm:
        argv += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
        argv += ["-c:a", "libopus"] if spec.audio else []
    else:
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        argv += ["-c:a", "aac"] if spec.audio else []
    argv += ["-shortest"] if spec.audio else []
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        plain = Path(tmp) / spec.filename
        subprocess.run([*argv, str(plain)], check=True, timeout=120)
        if spec.rotation:
            # Stream copy with a display rotation, as phones write it (ffmpeg 5: "rotate" tag).
            rotate = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
            rotate += ["-i", str(plain), "-c", "copy"]
            rotate += ["-metadata:s:v:0", f"rotate={spec.rotation}", str(target)]
            subprocess.run(rotate, check=True, timeout=120)
        else:
            os.replace(plain, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """``scripts/sample-media OUTDIR [--duration S] [--scale N]``: write the standard set."""
    parser = argparse.ArgumentParser(prog="sample-media", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per clip")
    parser.add_argument("--scale", type=int, default=1, help="size multiplier of 180x320")
    args = parser.parse_args(argv)
    made = [
        str(make_sample(spec, args.out_dir)) for spec in standard_set(args.duration, args.scale)
    ]
    json.dump({"files": made}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
