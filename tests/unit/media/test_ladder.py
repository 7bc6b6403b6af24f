"""Rendition planning: vertical ladder, never upscaled, fit-and-pad (storage/media/ladder.py)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.media.ladder import (
    gop_frames,
    output_fps,
    plan_renditions,
    poster_frame_index,
    poster_plan,
)


def frames(w: int, h: int) -> list[tuple[int, int]]:
    return [(p.width, p.height) for p in plan_renditions(w, h)]


def test_a_1080p_portrait_source_gets_the_whole_ladder() -> None:
    assert frames(1080, 1920) == [(1080, 1920), (720, 1280), (480, 854)]
    top = plan_renditions(1080, 1920)[0]
    assert (top.content_width, top.content_height, top.pad_x, top.pad_y) == (1080, 1920, 0, 0)


def test_a_4k_source_is_scaled_down_to_the_ladder() -> None:
    assert frames(2160, 3840) == [(1080, 1920), (720, 1280), (480, 854)]


def test_a_720p_portrait_source_is_never_upscaled_to_1080() -> None:
    assert frames(720, 1280) == [(720, 1280), (480, 854)]


def test_a_landscape_source_is_letterboxed_inside_a_portrait_frame() -> None:
    plans = plan_renditions(1920, 1080)
    assert [(p.width, p.height) for p in plans] == [(1080, 1920), (720, 1280), (480, 854)]
    top = plans[0]
    assert (top.content_width, top.content_height) == (1080, 608)
    assert top.pad_x == 0
    assert top.pad_y == (1920 - 608) // 2


def test_a_small_landscape_source_only_gets_rungs_it_fills_without_upscaling() -> None:
    # 640 wide: 720x1280 would need x1.125, 480x854 needs x0.75.
    assert frames(640, 360) == [(480, 854)]


def test_a_source_smaller_than_every_rung_keeps_its_size_in_a_9_16_frame() -> None:
    [plan] = plan_renditions(180, 320)
    assert (plan.width, plan.height, plan.content_width, plan.content_height) == (
        180,
        320,
        180,
        320,
    )
    [plan] = plan_renditions(320, 180)
    assert (plan.width, plan.height) == (320, 570)
    assert (plan.content_width, plan.content_height) == (320, 180)


def test_odd_sources_give_even_dimensions() -> None:
    [plan] = plan_renditions(101, 77)
    for v in (plan.width, plan.height, plan.content_width, plan.content_height):
        assert v % 2 == 0


@given(st.integers(2, 8192), st.integers(2, 8192))
def test_plans_are_never_upscaled_and_keep_the_aspect(w: int, h: int) -> None:
    plans = plan_renditions(w, h)
    assert plans
    for p in plans:
        assert p.content_width <= p.width
        assert p.content_height <= p.height
        assert p.content_width % 2 == 0
        assert p.content_height % 2 == 0
        assert p.width % 2 == 0
        assert p.height % 2 == 0
        # never larger than the source (+1 for rounding an odd size up to even)
        assert p.content_width <= w + 1
        assert p.content_height <= h + 1
        # the picture fills the frame in one direction (fit, not shrink-to-nothing)
        assert p.width - p.content_width <= 2 or p.height - p.content_height <= 2 or len(plans) == 1
        # aspect ratio preserved to within rounding (2 px per side)
        assert abs(p.content_width * h - p.content_height * w) <= 2 * (w + h)
        assert p.pad_x + p.content_width <= p.width
        assert p.pad_y + p.content_height <= p.height
        # frames are 9:16 within a couple of pixels
        assert abs(p.width * 16 - p.height * 9) <= 32


def test_non_positive_dimensions_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_renditions(0, 100)


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (None, Fraction(30)),
        (Fraction(60), Fraction(30)),
        (Fraction(24), Fraction(24)),
        (Fraction(30000, 1001), Fraction(30000, 1001)),
    ],
)
def test_output_frame_rate_is_capped_at_30(fps: Fraction | None, expected: Fraction) -> None:
    assert output_fps(fps) == expected


@pytest.mark.parametrize(
    ("fps", "gop"), [(Fraction(30), 60), (Fraction(24), 48), (Fraction(30000, 1001), 60)]
)
def test_a_keyframe_every_two_seconds(fps: Fraction, gop: int) -> None:
    assert gop_frames(fps) == gop


def test_poster_frame_is_at_one_second_or_mid_clip() -> None:
    assert poster_frame_index(10_000, Fraction(30)) == 30
    assert poster_frame_index(1_000, Fraction(30)) == 15
    assert poster_frame_index(10, Fraction(30)) == 0


def test_poster_is_at_most_720_wide_and_not_upscaled() -> None:
    top = plan_renditions(1080, 1920)[0]
    p = poster_plan(1080, 1920, top)
    assert (p.width, p.height, p.content_width, p.content_height) == (720, 1280, 720, 1280)
    small = plan_renditions(180, 320)[0]
    p = poster_plan(180, 320, small)
    assert (p.width, p.height) == (180, 320)
