"""Progress reporting: the event type the pipeline emits, and ffmpeg ``-progress`` parsing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """Steps of publishing a clip, in order."""

    PROBE = "probe"
    TRANSCODE = "transcode"
    ENCRYPT = "encrypt"
    ADD = "add"
    MANIFEST = "manifest"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Progress:
    """``done`` out of ``total`` units of ``stage`` (ms of media for transcode, bytes otherwise)."""

    stage: Stage
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Completion of this stage between 0 and 1."""
        if self.total <= 0:
            return 1.0
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]
"""Receives pipeline progress (the peer turns it into bus events, the CLI into a bar)."""


class FfmpegProgressParser:
    """Turn ffmpeg ``-progress`` output (``key=value`` lines) into media milliseconds done.

    ffmpeg writes a block of keys, then ``progress=continue`` (or ``progress=end``). Both
    ``out_time_us`` and (despite its name) ``out_time_ms`` are microseconds; either may read
    ``N/A`` before the first frame is written.
    """

    def __init__(self, total_ms: int) -> None:
        self.total_ms = total_ms
        self._out_us: int | None = None
        self.finished = False

    @property
    def out_ms(self) -> int | None:
        """The last reported output time in milliseconds (not clamped), if any."""
        return None if self._out_us is None else self._out_us // 1000

    def feed(self, line: bytes | str) -> int | None:
        """Consume one line; return milliseconds done at the end of each block, else None."""
        text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
        key, sep, value = text.strip().partition("=")
        if not sep:
            return None
        if key in ("out_time_us", "out_time_ms"):
            with contextlib.suppress(ValueError):
                self._out_us = max(0, int(value))
            return None
        if key != "progress":
            return None
        if value == "end":
            self.finished = True
            return self.total_ms
        done = 0 if self._out_us is None else self._out_us // 1000
        return min(done, self.total_ms)
