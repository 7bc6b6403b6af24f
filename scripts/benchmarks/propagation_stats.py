"""Pure helpers of ``scripts/bench propagation``: topology, schedule and result arithmetic.

No I/O here (tested in ``tests/unit/bench``).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def topology(n: int, dials: int, seed: int) -> list[tuple[int, int]]:
    """Random sparse connected topology: every peer dials ``dials`` distinct random others.

    Returns the dials ``(from, to)`` with duplicates of an undirected edge removed (the first
    dial of a pair is kept). Redrawn (deterministically, from the same seed) until connected.
    """
    if n < 2:
        return []
    rng = random.Random(seed)
    per_peer = min(dials, n - 1)
    while True:
        edges: list[tuple[int, int]] = []
        seen: set[frozenset[int]] = set()
        for peer in range(n):
            for other in rng.sample([p for p in range(n) if p != peer], per_peer):
                pair = frozenset((peer, other))
                if pair not in seen:
                    seen.add(pair)
                    edges.append((peer, other))
        if is_connected(n, edges):
            return edges


def is_connected(n: int, edges: Iterable[tuple[int, int]]) -> bool:
    """True if the undirected graph on ``range(n)`` with ``edges`` is connected."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(x) for x in range(n)}) <= 1


def degrees(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """Number of neighbours of each peer."""
    out = [0] * n
    for a, b in edges:
        out[a] += 1
        out[b] += 1
    return out


def publishers(n: int, posts: int, seed: int) -> list[int]:
    """Which peer publishes each post (seeded, uniform)."""
    rng = random.Random(seed * 7919 + n)
    return [rng.randrange(n) for _ in range(posts)]


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` in [0, 1] of a non-empty sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the run observed: publish times and every (post, receiving peer, time)."""

    n: int
    publisher: Sequence[int]
    published_ns: Sequence[int | None]
    received: dict[tuple[int, int], int]
    """(post index, peer) -> first arrival time (ns, CLOCK_MONOTONIC)."""


def summarize(d: Delivery) -> dict[str, Any]:
    """Time for each post to reach all other peers; delivered fraction.

    A post reached "all" when each of the n-1 other peers received it; its time is the latest
    of those arrivals minus the publish time. Posts that never reached all are counted in
    ``delivered_fraction`` and ``posts_reaching_all`` and left out of the time statistics.
    ``per_peer_*`` are statistics over every single (post, peer) arrival; ``per_post_ms`` is
    each post's time to all in publishing order (None: never reached all); ``missed_by_peer``
    counts, for each peer that missed any, the posts it never received.
    """
    posts = len(d.publisher)
    expected = posts * (d.n - 1)
    arrived = 0
    to_all: list[float] = []
    per_post: list[float | None] = []
    per_peer: list[float] = []
    missed: dict[int, int] = {}
    for post, origin in enumerate(d.publisher):
        start = d.published_ns[post]
        if start is None:
            per_post.append(None)
            continue
        times = [
            d.received[(post, peer)]
            for peer in range(d.n)
            if peer != origin and (post, peer) in d.received
        ]
        for peer in range(d.n):
            if peer != origin and (post, peer) not in d.received:
                missed[peer] = missed.get(peer, 0) + 1
        arrived += len(times)
        per_peer.extend((t - start) / 1e6 for t in times)
        if len(times) == d.n - 1 and times:
            to_all.append((max(times) - start) / 1e6)
            per_post.append(round(to_all[-1], 1))
        else:
            per_post.append(None)
    out: dict[str, Any] = {
        "posts": posts,
        "posts_published": sum(1 for t in d.published_ns if t is not None),
        "posts_reaching_all": len(to_all),
        "delivered_fraction": round(arrived / expected, 4) if expected else 1.0,
    }
    if to_all:
        out["median_ms"] = round(statistics.median(to_all), 2)
        out["p99_ms"] = round(percentile(to_all, 0.99), 2)
        out["max_ms"] = round(max(to_all), 2)
    if per_peer:
        out["per_peer_median_ms"] = round(statistics.median(per_peer), 2)
        out["per_peer_p99_ms"] = round(percentile(per_peer, 0.99), 2)
    out["per_post_ms"] = per_post
    out["missed_by_peer"] = {str(peer): count for peer, count in sorted(missed.items())}
    return out


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs rounded, or None when either is missing or theirs is 0."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)
