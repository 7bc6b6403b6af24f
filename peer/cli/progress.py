"""One overall progress bar for a publish, in the terminal: named stages, the whole job's
fraction (each stage weighted by what it usually costs), and the real elapsed time.

Stages come as the daemon's ``publish.progress`` names (``probe`` ... ``gossip``) with the
fraction of the current stage; :func:`overall` turns them into the fraction of the whole job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

# Relative cost of each stage (conversion dominates); "encrypt" runs only for premium clips.
WEIGHTS: dict[str, float] = {
    "probe": 3,
    "transcode": 65,
    "encrypt": 8,
    "add": 12,
    "manifest": 2,
    "sign": 3,
    "gossip": 7,
}
LABELS: dict[str, str] = {
    "probe": "Checking the video",
    "transcode": "Converting",
    "encrypt": "Encrypting (premium)",
    "add": "Storing",
    "manifest": "Writing the manifest",
    "sign": "Signing the post",
    "gossip": "Announcing",
    "done": "Done",
}
MEDIA_ONLY = ("probe", "transcode", "encrypt", "add", "manifest")  # an in-process publish


def stages_for(premium: bool, announce: bool = True) -> tuple[str, ...]:
    """The stages a publish runs, in order."""
    names = tuple(WEIGHTS) if announce else MEDIA_ONLY
    return tuple(s for s in names if premium or s != "encrypt")


def overall(stages: tuple[str, ...], stage: str, fraction: float) -> float:
    """The whole job's fraction (0-1) when ``stage`` is ``fraction`` done; ``done`` is 1."""
    if stage == "done":
        return 1.0
    total = sum(WEIGHTS[s] for s in stages)
    done = 0.0
    for name in stages:
        if name == stage:
            return (done + WEIGHTS[name] * min(max(fraction, 0.0), 1.0)) / total
        done += WEIGHTS[name]
    return done / total if stage not in WEIGHTS else 0.0


def elapsed_text(seconds: float) -> str:
    """``0:01:05`` for 65 s."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class PublishBar:
    """A context manager showing one bar; call :meth:`show` with each stage update."""

    def __init__(
        self,
        stages: tuple[str, ...],
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stages = stages
        self._clock = clock
        self._start = clock()
        self._console = console or Console(stderr=True)
        columns = (
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[elapsed]}"),
        )
        self._progress = Progress(
            *columns, console=self._console, disable=not self._console.is_terminal
        )
        self._task: TaskID | None = None
        self.fraction = 0.0

    def __enter__(self) -> PublishBar:
        self._progress.__enter__()
        self._task = self._progress.add_task(
            LABELS[self._stages[0]], total=1.0, elapsed=elapsed_text(0)
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(kind, value, tb)

    def show(self, stage: str, fraction: float) -> None:
        """The job is at ``stage``, ``fraction`` of it done; a stale update (an earlier stage)
        is ignored, so the bar never moves back."""
        now = overall(self._stages, stage, fraction)
        if now < self.fraction:
            return
        self.fraction = now
        assert self._task is not None
        self._progress.update(
            self._task,
            description=LABELS.get(stage, stage),
            completed=self.fraction,
            elapsed=elapsed_text(self._clock() - self._start),
        )
