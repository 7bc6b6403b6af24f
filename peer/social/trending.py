"""Trending: a local ranking of the posts this peer has seen, and the "For you" mix.

The score of a post, at time ``now``::

    points = 1 + likes + 2 * comments + 3 * trades
    score  = points / (age_hours + 2) ** GRAVITY

``likes`` and ``comments`` count those made in the last :data:`SIGNAL_WINDOW_S` (their signed
``createdAt``, capped at ``now``), ``trades`` the buys and sells of the creator's token this peer
saw on the chain in that window (a trade is a stake in the creator, so it counts for each of
the creator's recent posts). Age is from the post's ``createdAt`` (a future date counts as now).
Gravity 1.5 makes a day-old post need about 10x the points of a fresh one to stay level (the
Hacker News form). Only posts of the last :data:`CANDIDATE_WINDOW_S` are ranked. Ties: newer
first, then the lower post id. Everything is local: two peers that saw different things rank
differently, and nothing here is sent anywhere.

"For you" (:func:`mix`) takes its first page as newest and trending in turn (newest first),
each post once; later pages continue the newest order (the UI skips posts it already shows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

GRAVITY: Final = 1.5
SIGNAL_WINDOW_S: Final = 48 * 3600
CANDIDATE_WINDOW_S: Final = 7 * 86400
MAX_CANDIDATES: Final = 500

T = TypeVar("T")


@dataclass(frozen=True)
class Signals:
    """What the peer saw of one post."""

    post_id: bytes
    created_at: int
    likes: int = 0
    comments: int = 0
    trades: int = 0


def score(signals: Signals, now: int) -> float:
    age_hours = max(0, now - signals.created_at) / 3600
    points = 1 + signals.likes + 2 * signals.comments + 3 * signals.trades
    return float(points / (age_hours + 2) ** GRAVITY)


def rank(candidates: Sequence[Signals], now: int) -> list[bytes]:
    """Post ids, highest score first."""
    ordered = sorted(
        candidates,
        key=lambda s: (-score(s, now), -min(s.created_at, now), s.post_id),
    )
    return [s.post_id for s in ordered]


def mix(newest: Sequence[T], trending: Sequence[T]) -> list[T]:
    """Newest and trending in turn (newest first), each item once (by ``id`` attribute)."""
    seen: set[object] = set()
    out: list[T] = []
    for i in range(max(len(newest), len(trending))):
        for source in (newest, trending):
            if i < len(source):
                item = source[i]
                ident = getattr(item, "id", item)
                if ident not in seen:
                    seen.add(ident)
                    out.append(item)
    return out
