"""The one strict parser of request numbers, and text with control characters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer.api.errors import ApiError
from peer.api.params import (
    MAX_WHOLE_SUPPLY,
    UINT256_MAX,
    base_units,
    bounded_int,
    token_amount,
    whole_tokens,
)
from peer.daemon.feed import UnavailableManifests
from peer.feed.text import escape_controls, first_control, has_control
from tokens.curve import MAX_SUPPLY


@pytest.mark.parametrize(
    ("value", "units"),
    [("1", 10**18), ("2.5", 25 * 10**17), ("0.000000000000000001", 1), (3, 3 * 10**18)],
)
def test_token_amounts_in_ascii_decimals_are_base_units(value: Any, units: int) -> None:
    assert token_amount(value) == units


@pytest.mark.parametrize(
    "value",
    ["٣", "１", "²", " 1", "1 ", "+1", "-1", "1e3", "0x1", "1.", ".5", "", "1,5", "1_000", "NaN"],
)
def test_anything_but_ascii_digits_is_refused(value: str) -> None:
    with pytest.raises(ApiError) as refused:
        token_amount(value)
    assert (refused.value.status, refused.value.code) == (400, "bad_amount")


@pytest.mark.parametrize(
    "value", [True, None, 1.5, [], {}, -1, str(2**256), "0", "0.0000000000000000001"]
)
def test_values_of_other_types_or_out_of_range_are_refused(value: Any) -> None:
    with pytest.raises(ApiError):
        token_amount(value)


def test_bounds_are_those_of_the_domain() -> None:
    assert token_amount(str(MAX_SUPPLY // 10**18)) == MAX_SUPPLY
    with pytest.raises(ApiError, match="from"):
        token_amount(str(MAX_SUPPLY // 10**18 + 1))
    assert base_units(str(UINT256_MAX), "max_cost") == UINT256_MAX
    with pytest.raises(ApiError):
        base_units(str(UINT256_MAX + 1), "max_cost")
    assert whole_tokens(MAX_WHOLE_SUPPLY, "min_balance") == MAX_WHOLE_SUPPLY
    with pytest.raises(ApiError):
        whole_tokens(MAX_WHOLE_SUPPLY + 1, "min_balance")
    with pytest.raises(ApiError) as limit:
        bounded_int("51", "limit", 1, 50, "bad_limit")
    assert limit.value.code == "bad_limit"
    with pytest.raises(ApiError):
        base_units("1.5", "max_cost")  # base units have no fraction


@given(st.text(max_size=40))
def test_any_text_is_refused_with_a_400_or_parsed_within_bounds(text: str) -> None:
    status = 200
    units = 1
    try:
        units = token_amount(text)
    except ApiError as exc:
        status = exc.status
    assert status in (200, 400)
    assert 1 <= units <= MAX_SUPPLY
    assert status == 400 or text.isascii()


@pytest.mark.parametrize("text", ["nul\x00", "bell\x07", "esc\x1b", "del\x7f", "c1\x85", "\ud800"])
def test_control_characters_and_lone_surrogates_are_found_and_escaped(text: str) -> None:
    assert has_control(text)
    assert first_control(["fine", text]) is not None
    shown = escape_controls(text)
    assert not has_control(shown)
    assert "\\u00" in shown or "\\ud800" in shown


def test_ordinary_text_is_left_alone() -> None:
    for text in ("Ana's clip ✨", "tab-free", "日本語", "emoji 🎬"):
        assert not has_control(text)
        assert escape_controls(text) == text


def test_unavailable_manifests_expire() -> None:
    marks = UnavailableManifests(ttl_s=60)
    marks.mark("bafy-a", now=0.0)  # long ago: expired
    marks.mark("bafy-b")
    assert "bafy-a" not in marks
    assert "bafy-b" in marks
    marks.clear("bafy-b")
    assert "bafy-b" not in marks
