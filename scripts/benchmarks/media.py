"""Benchmark: publish a 30 s 1080x1920 clip (premium, so every stage runs), split by stage.

    scripts/bench media [--runs N] [--duration S] [--preset P]

Each run publishes the same synthetic source into a fresh on-disk store (fsync on) with a fresh
clip-key store. Reported: per-stage medians, the pipeline's own overhead (everything except
ffmpeg's encode: probe, encrypt, add, manifest) as a fraction of the total, and baselines
measured in the same run on the same machine: SHA-256 over the rendition bytes and a plain
copy + fsync of them (what "add" cannot beat). Prints JSON and writes bench-results/media.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from storage.clipkeys import ClipKeyStore, ScryptParams  # noqa: E402
from storage.embedded import EmbeddedContentStore  # noqa: E402
from storage.media.pipeline import ClipPublisher, MediaSettings  # noqa: E402
from storage.media.transcode import TranscodeOptions  # noqa: E402

CREATOR = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
STAGES = ("probe", "transcode", "encrypt", "add", "manifest", "total")


def make_source(path: Path, duration: float) -> None:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1080x1920:rate=30:duration={duration}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
        timeout=1800,
    )  # fmt: skip


async def publish_once(source: Path, work: Path, preset: str) -> dict[str, Any]:
    store = EmbeddedContentStore.at(work / "store")
    keys = ClipKeyStore(work / "keys", "bench passphrase", kdf=ScryptParams())
    settings = MediaSettings(work / "tmp", transcode=TranscodeOptions(preset=preset))
    clip = await ClipPublisher(store, settings, keys).publish(source, creator=CREATOR, premium=True)
    sizes = []
    blobs = []
    for r in clip.manifest.renditions:
        sizes.append({"width": r.width, "height": r.height, "bytes": r.size, "bitrate": r.bitrate})
        blobs.append(b"".join([piece async for piece in store.open(r.cid)]))
    return {"timings": clip.timings, "renditions": sizes, "blobs": blobs}


def baselines(blobs: list[bytes], work: Path) -> dict[str, float]:
    t = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(blob).digest()
    sha = time.perf_counter() - t
    t = time.perf_counter()
    for i, blob in enumerate(blobs):
        with open(work / f"copy{i}", "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
    copy = time.perf_counter() - t
    return {"sha256_s": sha, "write_fsync_s": copy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--preset", default=TranscodeOptions().preset)
    args = parser.parse_args()

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="toktok-bench-media-") as tmp:
        source = Path(tmp) / "source.mp4"
        make_source(source, args.duration)
        for i in range(args.runs):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            result = asyncio.run(publish_once(source, work, args.preset))
            base = baselines(result.pop("blobs"), work)
            runs.append({**result, "baseline": base})
            shutil.rmtree(work)
            print(f"run {i + 1}/{args.runs}: {result['timings']}", file=sys.stderr)
        source_bytes = source.stat().st_size

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 4)

    stage_median = {s: med([r["timings"][s] for r in runs]) for s in STAGES}
    overheads = [r["timings"]["total"] - r["timings"]["transcode"] for r in runs]
    fractions = [o / r["timings"]["total"] for o, r in zip(overheads, runs, strict=True)]
    add_vs_write = [r["timings"]["add"] / r["baseline"]["write_fsync_s"] for r in runs]
    rendition_bytes = sum(x["bytes"] for x in runs[0]["renditions"])
    report = {
        "benchmark": "media",
        "what": f"premium publish of a {args.duration:g} s 1080x1920 30 fps clip, on-disk store",
        "runs": args.runs,
        "preset": args.preset,
        "source_bytes": source_bytes,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "stages_median_s": stage_median,
        "overhead_median_s": med(overheads),
        "overhead_fraction_median": round(statistics.median(fractions), 5),
        "renditions": runs[0]["renditions"],
        "rendition_bytes_total": rendition_bytes,
        "baseline_median_s": {
            "sha256_renditions": med([r["baseline"]["sha256_s"] for r in runs]),
            "write_fsync_renditions": med([r["baseline"]["write_fsync_s"] for r in runs]),
        },
        "ratios_median": {"add_vs_write_fsync": round(statistics.median(add_vs_write), 3)},
        "per_run": [{"timings": r["timings"], "baseline": r["baseline"]} for r in runs],
    }
    text = json.dumps(report, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "media.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
