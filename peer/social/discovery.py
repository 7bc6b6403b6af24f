"""Discovery queries over the feed index: tag pages, trending inputs, creators to follow.

They run on the index's reader threads (``FeedIndex.queries.read``) and see what every feed
query sees (withdrawn, muted and blocked posts are left out).

Creators to follow: creators with posts that the viewer does not follow yet (and is not),
ranked by ``3 * followers + holders + likes on their posts``, where followers are the follows
this peer has stored, holders the distinct buyers of the creator's token it saw on the chain,
and likes those it stored; ties by more posts, then address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import sqlite_utils

from peer.feed.queries import VISIBLE, FeedItem, Page, decode_cursor, encode_cursor, select_page
from peer.social.trending import CANDIDATE_WINDOW_S, MAX_CANDIDATES, SIGNAL_WINDOW_S, Signals

MAX_TAG: Final = 64
_BIG: Final = 2**63 - 1


def tag_page(db: sqlite_utils.Database, tag: str, cursor: str | None, limit: int) -> Page:
    """Posts carrying ``tag`` (case-insensitive, exact), newest first."""
    at, rowid = decode_cursor(cursor, "tag", 2) if cursor else (_BIG, _BIG)
    items = select_page(
        db,
        "EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE lower(t.value) = lower(?))"
        " AND (p.created_at, p.rowid) < (?, ?)",
        "p.created_at DESC, p.rowid DESC",
        (tag, at, rowid),
        limit,
    )
    if len(items) < limit or not items:
        return Page(tuple(items), None)
    last = items[-1]
    return Page(tuple(items), encode_cursor("tag", (last.created_at, last.rowid)))


@dataclass(frozen=True)
class Candidate:
    """A post that may trend, with the token its trades count for."""

    signals: Signals
    token: str


def trending_candidates(db: sqlite_utils.Database, now: int) -> list[Candidate]:
    """Visible posts of the last week (newest :data:`MAX_CANDIDATES`) with recent likes."""
    since, signal_since = now - CANDIDATE_WINDOW_S, now - SIGNAL_WINDOW_S
    rows = db.execute(
        "SELECT p.id, p.created_at, p.token,"  # noqa: S608
        " (SELECT COUNT(*) FROM likes l WHERE l.post = p.id AND l.created_at >= ?)"
        f" FROM posts p WHERE p.created_at >= ? AND {VISIBLE}"
        " ORDER BY p.created_at DESC LIMIT ?",
        (signal_since, since, MAX_CANDIDATES),
    ).fetchall()
    return [Candidate(Signals(bytes(r[0]), int(r[1]), likes=int(r[3])), str(r[2])) for r in rows]


def items_by_id(db: sqlite_utils.Database, ids: list[bytes]) -> list[FeedItem]:
    """Visible feed items for ``ids``, in that order."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = select_page(db, f"p.id IN ({marks})", "p.rowid", ids, len(ids))
    by_id = {item.id: item for item in found}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class CreatorSuggestion:
    address: str
    name: str
    avatar: str
    posts: int
    followers: int
    likes: int
    holders: int


def suggested_creators(
    db: sqlite_utils.Database, viewer: str | None, holders: Mapping[str, int], limit: int
) -> list[CreatorSuggestion]:
    """Creators to follow (module docstring); ``holders`` maps a token to its buyers seen."""
    rows = db.execute(
        "SELECT c.address, c.name, COALESCE(pr.avatar, ''),"  # noqa: S608
        f" (SELECT COUNT(*) FROM posts p WHERE p.creator = c.address AND {VISIBLE}),"
        ' (SELECT COUNT(*) FROM follows f WHERE f.creator = c.address AND f."on" = 1),'
        " (SELECT COUNT(*) FROM likes l JOIN posts p2 ON p2.id = l.post"
        "   WHERE p2.creator = c.address),"
        " (SELECT p3.token FROM posts p3 WHERE p3.creator = c.address ORDER BY p3.seq DESC"
        "   LIMIT 1)"
        " FROM creators c LEFT JOIN profiles pr ON pr.creator = c.address"
        " WHERE c.head_seq > 0 AND c.address != ?"
        " AND c.address NOT IN (SELECT address FROM muted)"
        " AND c.address NOT IN (SELECT address FROM blocked)"
        ' AND c.address NOT IN (SELECT creator FROM follows WHERE actor = ? AND "on" = 1)',
        (viewer or "", viewer or ""),
    ).fetchall()
    out = [
        CreatorSuggestion(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            int(r[3]),
            int(r[4]),
            int(r[5]),
            holders.get(str(r[6] or ""), 0),
        )
        for r in rows
        if int(r[3]) > 0
    ]
    out.sort(key=lambda s: (-(3 * s.followers + s.holders + s.likes), -s.posts, s.address))
    return out[:limit]


def creator_extras(db: sqlite_utils.Database, creator: str) -> tuple[str, bool]:
    """The creator's avatar CID ("" if none) and whether another creator this peer knows
    shows the same display name (case-insensitive): the UI then adds the short address."""
    row = db.execute("SELECT avatar FROM profiles WHERE creator = ?", (creator,)).fetchone()
    shared = db.execute(
        "SELECT 1 FROM creators a JOIN creators b ON lower(a.name) = lower(b.name)"
        " WHERE a.address = ? AND b.address != a.address AND a.name != '' LIMIT 1",
        (creator,),
    ).fetchone()
    return ("" if row is None else str(row[0])), shared is not None
