"""Plan the vertical renditions of a clip (pure).

Policy (recorded in docs/ARCHITECTURE.md):

* Every rendition is a 9:16 portrait frame from the ladder 1080x1920, 720x1280, 480x854.
* The source is shown whole: scaled to fit inside the frame and centred, with black bars where
  its shape differs ("fit and pad"). A landscape source therefore gets bars above and below; a
  source narrower than 9:16 gets bars at the sides. Nothing is cropped.
* Never upscaled: a rung is produced only if the source must shrink (or keep its size) to fit.
* A source too small for even the lowest rung gets one rendition: the smallest 9:16 frame that
  holds it at its own size.
* Frame rate: the source's, capped at 30 fps, made constant; unknown rates become 30 fps.
  A keyframe every 2 seconds exactly (fixed GOP, no scene-cut keyframes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

MAX_FPS: Final = Fraction(30)
KEYFRAME_INTERVAL_S: Final = 2


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of the ladder: frame size and bitrate caps."""

    width: int
    height: int
    max_video_bitrate: int
    """Video bitrate cap, bits per second (``-maxrate``; ``-bufsize`` is twice this)."""
    audio_bitrate: int
    """AAC bitrate, bits per second."""


LADDER: Final[tuple[Rung, ...]] = (
    Rung(1080, 1920, 5_000_000, 128_000),
    Rung(720, 1280, 2_500_000, 128_000),
    Rung(480, 854, 1_000_000, 96_000),
)


@dataclass(frozen=True, slots=True)
class Plan:
    """One rendition to produce: the frame, and the size of the picture inside it."""

    width: int
    height: int
    content_width: int
    content_height: int
    max_video_bitrate: int
    audio_bitrate: int

    @property
    def pad_x(self) -> int:
        """Left bar width (even, so chroma planes stay aligned)."""
        return _even_down((self.width - self.content_width) // 2)

    @property
    def pad_y(self) -> int:
        """Top bar height (even)."""
        return _even_down((self.height - self.content_height) // 2)


def _even_down(n: int) -> int:
    return n - n % 2


def _even_up(n: int) -> int:
    return n + n % 2


def _fit(src_w: int, src_h: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    """Content size of a ``src`` picture scaled to fit inside ``frame`` (even, >= 2)."""
    scale = min(Fraction(frame_w, src_w), Fraction(frame_h, src_h))
    w = min(frame_w, max(2, _even_down(round(src_w * scale))))
    h = min(frame_h, max(2, _even_down(round(src_h * scale))))
    return w, h


def plan_renditions(display_width: int, display_height: int) -> list[Plan]:
    """The renditions for a source shown at ``display_width`` x ``display_height``.

    Largest first. Raises ``ValueError`` for non-positive dimensions.
    """
    if display_width <= 0 or display_height <= 0:
        raise ValueError("dimensions must be positive")
    plans: list[Plan] = []
    for rung in LADDER:
        scale = min(Fraction(rung.width, display_width), Fraction(rung.height, display_height))
        if scale > 1:
            continue  # the source is smaller than this frame: would be upscaled
        cw, ch = _fit(display_width, display_height, rung.width, rung.height)
        plans.append(
            Plan(rung.width, rung.height, cw, ch, rung.max_video_bitrate, rung.audio_bitrate)
        )
    if plans:
        return plans
    # Smaller than the lowest rung: the smallest 9:16 frame holding the source unscaled.
    if display_width * 16 >= display_height * 9:  # wider than (or exactly) 9:16
        fw = _even_up(display_width)
        fh = _even_up(math.ceil(fw * 16 / 9))
    else:
        fh = _even_up(display_height)
        fw = _even_up(math.ceil(fh * 9 / 16))
    cw = max(2, _even_down(display_width))
    ch = max(2, _even_down(display_height))
    low = LADDER[-1]
    return [Plan(fw, fh, cw, ch, low.max_video_bitrate, low.audio_bitrate)]


def output_fps(source_fps: Fraction | None) -> Fraction:
    """Constant output frame rate: the source's, capped at 30; 30 when unknown."""
    if source_fps is None or source_fps <= 0:
        return MAX_FPS
    return min(source_fps, MAX_FPS)


def gop_frames(fps: Fraction) -> int:
    """Frames between keyframes for a keyframe every :data:`KEYFRAME_INTERVAL_S` seconds."""
    return max(1, round(fps * KEYFRAME_INTERVAL_S))


def poster_frame_index(duration_ms: int, fps: Fraction) -> int:
    """Which output frame becomes the poster: the one at 1 s, or mid-clip for shorter clips."""
    at_ms = min(1000, duration_ms // 2)
    return max(0, math.floor(Fraction(at_ms, 1000) * fps))


def poster_plan(
    display_width: int, display_height: int, largest: Plan, max_width: int = 720
) -> Plan:
    """The poster's frame: the largest rendition's frame, at most ``max_width`` wide."""
    if largest.width <= max_width:
        fw, fh = largest.width, largest.height
    else:
        fw = max_width
        fh = _even_down(round(Fraction(largest.height * max_width, largest.width)))
    cw, ch = _fit(display_width, display_height, fw, fh)
    # Never upscale the poster either: keep the content no larger than the largest rendition's.
    cw, ch = min(cw, largest.content_width), min(ch, largest.content_height)
    return Plan(fw, fh, cw, ch, 0, 0)
