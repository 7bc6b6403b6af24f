"""The trending score and the "For you" mix (peer.social.trending), on fixed data."""

from __future__ import annotations

from dataclasses import dataclass

from peer.social.trending import Signals, mix, rank, score

NOW = 1_764_460_800
H = 3600


def pid(n: int) -> bytes:
    return bytes([n]) * 32


def test_fixed_data_ranks_as_documented() -> None:
    posts = [
        Signals(pid(1), NOW - 1 * H),  # fresh, nothing else: 1 / 3^1.5 = 0.192
        Signals(pid(2), NOW - 24 * H, likes=10),  # 11 / 26^1.5 = 0.083
        Signals(pid(3), NOW - 5 * H, likes=4, comments=1),  # 7 / 7^1.5 = 0.378
        Signals(pid(4), NOW - 10 * H, trades=3),  # 10 / 12^1.5 = 0.241
        Signals(pid(5), NOW - 1 * H, likes=0),  # ties with 1: the lower id first
    ]
    assert rank(posts, NOW) == [pid(3), pid(4), pid(1), pid(5), pid(2)]
    assert round(score(posts[2], NOW), 3) == 0.378


def test_a_comment_weighs_two_likes_and_a_trade_three() -> None:
    at = NOW - 3 * H
    base = score(Signals(pid(1), at, likes=6), NOW)
    assert score(Signals(pid(1), at, likes=4, comments=1), NOW) == base
    assert score(Signals(pid(1), at, trades=2), NOW) == base


def test_a_post_dated_in_the_future_counts_as_new_not_newer() -> None:
    future = Signals(pid(1), NOW + 10 * H)
    fresh = Signals(pid(2), NOW)
    assert score(future, NOW) == score(fresh, NOW)
    assert rank([fresh, future], NOW) == [pid(1), pid(2)]  # same score and age: id order


def test_older_posts_need_many_more_points() -> None:
    day_old = Signals(pid(1), NOW - 24 * H, likes=8)
    fresh = Signals(pid(2), NOW)
    assert rank([day_old, fresh], NOW) == [pid(2), pid(1)]


@dataclass(frozen=True)
class Item:
    id: str


def test_mix_alternates_newest_first_and_shows_each_post_once() -> None:
    newest = [Item("a"), Item("b"), Item("c")]
    trending = [Item("x"), Item("a"), Item("y"), Item("z")]
    assert [i.id for i in mix(newest, trending)] == ["a", "x", "b", "c", "y", "z"]
    assert mix([], trending) == trending
