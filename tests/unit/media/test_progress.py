"""ffmpeg -progress parsing and progress events."""

from __future__ import annotations

from storage.media.progress import FfmpegProgressParser, Progress, Stage

BLOCK = """frame=30
fps=0.00
out_time_us={us}
out_time_ms={us}
out_time=00:00:01.000000
speed=2x
progress={state}
"""


def feed_all(parser: FfmpegProgressParser, text: str) -> list[int]:
    return [
        d
        for line in text.splitlines(keepends=True)
        if (d := parser.feed(line.encode())) is not None
    ]


def test_each_block_reports_milliseconds_done() -> None:
    p = FfmpegProgressParser(total_ms=3000)
    text = BLOCK.format(us="N/A", state="continue") + BLOCK.format(us=1_000_000, state="continue")
    text += BLOCK.format(us=2_500_000, state="continue") + BLOCK.format(us=3_010_000, state="end")
    assert feed_all(p, text) == [0, 1000, 2500, 3000]
    assert p.finished


def test_overshoot_is_clamped_to_the_total() -> None:
    p = FfmpegProgressParser(total_ms=1000)
    assert feed_all(p, BLOCK.format(us=5_000_000, state="continue")) == [1000]
    assert not p.finished


def test_garbage_lines_are_ignored() -> None:
    p = FfmpegProgressParser(total_ms=1000)
    assert p.feed(b"\xff\xfe garbage") is None
    assert p.feed("out_time_us=abc") is None
    assert p.feed("progress=continue") == 0


def test_progress_fraction_is_bounded() -> None:
    assert Progress(Stage.ADD, 5, 10).fraction == 0.5
    assert Progress(Stage.ADD, 15, 10).fraction == 1.0
    assert Progress(Stage.PROBE, 0, 0).fraction == 1.0


def test_the_last_output_time_is_kept_unclamped() -> None:
    p = FfmpegProgressParser(total_ms=1000)
    assert p.out_ms is None
    feed_all(p, BLOCK.format(us=1_466_732, state="end"))
    assert p.out_ms == 1466
