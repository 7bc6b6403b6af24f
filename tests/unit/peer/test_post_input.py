"""The publish rules the daemon and the CLI share: title, tags, premium and minimum balance."""

from __future__ import annotations

import pytest

from peer import post_input
from peer.errors import PostInputError


def test_title_and_tags_are_cleaned() -> None:
    assert post_input.clean_title("  A clip ") == "A clip"
    assert post_input.clean_tags("#Cats, dogs,cats,,") == ("cats", "dogs")
    assert post_input.clean_tags(["a,b", "#C"]) == ("a", "b", "c")


@pytest.mark.parametrize(
    ("check", "field"),
    [
        (lambda: post_input.clean_title("   "), "title"),
        (lambda: post_input.clean_title("x" * 201), "title"),
        (lambda: post_input.clean_tags(",".join(f"t{n}" for n in range(11))), "tags"),
        (lambda: post_input.clean_tags("x" * 33), "tags"),
        (lambda: post_input.check_premium(True, 0), "min_balance"),
        (lambda: post_input.check_premium(False, 3), "min_balance"),
    ],
)
def test_broken_rules_name_the_field(check: object, field: str) -> None:
    with pytest.raises(PostInputError) as info:
        check()  # type: ignore[operator]
    assert info.value.field == field


def test_a_premium_clip_with_a_balance_and_a_free_one_without_pass() -> None:
    post_input.check_premium(True, 1)
    post_input.check_premium(False, 0)
