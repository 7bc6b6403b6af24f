"""What to replicate within a disk budget (pure: no I/O, no clock).

Items are posts: ``key`` (post id), ``created_at`` (the post's own time, its age) and ``size``
(the declared bytes of its manifest, poster and renditions; ``None`` until the manifest was
read). ``own`` items are the user's own clips: they never count against the budget, are never
evicted and are never fetched by replication.

Rule: the replicated set is the *newest* of others' posts (held or wanted) whose sizes fit in
the budget, taken newest first and stopping at the first that does not fit ("oldest-first
eviction": a post is dropped only after every older one). A single post larger than the whole
budget is left out (``too_large``; evicted if held) without stopping the others. Ties on
``created_at`` are broken by key, so every decision is deterministic.

:func:`plan` gives the whole step; :func:`make_room` the evictions needed right before pinning
one fetched item (so nothing is evicted for a fetch that then fails).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    """A post, held (pinned) or wanted."""

    key: str
    created_at: int
    size: int | None = None
    own: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """One step's decisions."""

    fetch: tuple[str, ...]
    """Wanted items to fetch and pin, newest first."""
    evict: tuple[str, ...]
    """Held items of others outside the replicated set, oldest first."""
    probe: tuple[str, ...]
    """Wanted items of unknown size that could still fit: read their manifests, newest first."""
    too_large: tuple[str, ...]
    """Wanted items larger than the whole budget."""
    used_after: int
    """Bytes of others' items held once the plan is carried out."""


def newest_first(item: Item) -> tuple[int, str]:
    """Sort key: newest first, then by key."""
    return (-item.created_at, item.key)


def oldest_first(items: Iterable[Item]) -> list[Item]:
    """``items`` in eviction order: exactly the reverse of :func:`newest_first`."""
    return sorted(items, key=newest_first, reverse=True)


def used_bytes(held: Iterable[Item]) -> int:
    """Bytes of others' held items (own items never count)."""
    return sum(_size(h) for h in held if not h.own)


def _size(item: Item) -> int:
    if item.size is None or item.size < 0:
        raise ValueError(f"held item {item.key} has no size")
    return item.size


def plan(budget: int, held: Iterable[Item], candidates: Iterable[Item]) -> Plan:
    """Decide what to probe, fetch and evict so others' held bytes end up within ``budget``."""
    budget = max(0, budget)
    held_others = [h for h in held if not h.own]
    held_keys = {h.key for h in held}
    wanted = [c for c in candidates if not c.own and c.key not in held_keys]
    too_large = tuple(c.key for c in wanted if c.size is not None and c.size > budget)
    # Anything larger than the whole budget is left out without stopping the others.
    pool = [h for h in held_others if _size(h) <= budget]
    pool += [c for c in wanted if c.size is None or c.size <= budget]
    pool.sort(key=newest_first)
    kept: set[str] = set()
    fetch: list[str] = []
    probe: list[str] = []
    used = 0
    full = False
    for item in pool:
        if item.key in held_keys:
            size = _size(item)
        elif item.size is None:
            if not full and used < budget:
                probe.append(item.key)
            continue
        else:
            size = item.size
        if full or used + size > budget:
            full = True
            continue
        used += size
        kept.add(item.key)
        if item.key not in held_keys:
            fetch.append(item.key)
    evict = tuple(h.key for h in oldest_first(held_others) if h.key not in kept)
    return Plan(tuple(fetch), evict, tuple(probe), too_large, used)


def make_room(budget: int, held: Iterable[Item], incoming: Item) -> tuple[str, ...] | None:
    """Held items to evict (oldest first) so ``incoming`` fits; ``None`` if it cannot.

    Only others' items older than ``incoming`` are given up for it; when evicting all of them
    is not enough (or ``incoming`` alone exceeds the budget) the answer is ``None``.
    An own ``incoming`` needs no room.
    """
    if incoming.own:
        return ()
    size = _size(incoming)
    others = oldest_first(h for h in held if not h.own and h.key != incoming.key)
    used = sum(_size(h) for h in others)
    victims: list[str] = []
    for victim in others:
        if used + size <= budget:
            break
        if newest_first(victim) < newest_first(incoming):
            return None  # only newer items are left: they stay
        victims.append(victim.key)
        used -= _size(victim)
    return tuple(victims) if used + size <= budget else None


def retry_delay(attempts: int, base_s: float = 5.0, cap_s: float = 600.0) -> float:
    """Seconds to wait after ``attempts`` failed attempts (exponential, capped)."""
    if attempts <= 0:
        return 0.0
    return float(min(cap_s, base_s * 2 ** min(attempts - 1, 30)))
