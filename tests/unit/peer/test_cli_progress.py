"""The CLI's publish progress: one overall bar with named stages and the real elapsed time."""

from __future__ import annotations

import io

from rich.console import Console

from peer.cli.progress import PublishBar, elapsed_text, overall, stages_for


def test_one_overall_fraction_that_grows_through_every_stage() -> None:
    stages = stages_for(premium=False)
    assert "encrypt" not in stages
    assert stages_for(premium=True, announce=False)[-1] == "manifest"
    points = [overall(stages, s, f) for s in stages for f in (0.0, 0.5, 1.0)]
    assert points == sorted(points)  # never restarts per stage
    assert points[0] == 0.0
    assert points[-1] == 1.0
    assert overall(stages, "transcode", 1.0) - overall(stages, "transcode", 0.0) > 0.5


def test_the_bar_names_the_stage_and_shows_real_elapsed_time() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    now = [100.0]
    with PublishBar(stages_for(premium=False), console, clock=lambda: now[0]) as bar:
        now[0] = 165.0
        bar.show("transcode", 0.5)
        bar.show("probe", 1.0)  # a late update of an earlier stage does not move it back
        assert bar.fraction == overall(stages_for(premium=False), "transcode", 0.5)
    text = out.getvalue()
    assert "Converting" in text
    assert "0:01:05" in text
    assert "probe" not in text
    assert elapsed_text(3725) == "1:02:05"
