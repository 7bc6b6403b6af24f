"""Read queries of the index (run on reader threads) and their cursors.

Every feed query hides tombstoned posts and posts of creators on the local ``muted`` or
``blocked`` list, and pages with an opaque cursor (keyset pagination, so a page never repeats
or skips a row when new posts arrive). Orders:

- ``for_you``: posts of creators the viewer follows created within ``window`` seconds of the
  first page, newest first; then every other post, newest first.
- ``following``: posts of followed creators, newest first.
- ``creator``: one creator's log, highest ``seq`` first (both sides of a fork are shown).
- ``search``: FTS5 match on title, tags and creator name, every word required, most recently
  received first. Words match whole tokens; with ``prefix`` the last word also matches as a
  prefix (search as you type). Prefix queries make FTS5 build the term's whole doclist, so
  they cost more on common prefixes (see the feed benchmark).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlite_utils

from peer.feed.errors import CursorError
from storage import untrusted

_VISIBLE: Final = (
    "p.hidden = 0 AND p.creator NOT IN (SELECT address FROM muted)"
    " AND p.creator NOT IN (SELECT address FROM blocked)"
)
VISIBLE: Final = _VISIBLE
"""The visibility condition on ``posts p`` (not withdrawn, muted or blocked), for other readers."""
_FOLLOWED: Final = 'SELECT creator FROM follows WHERE actor = ? AND "on" = 1'
_COLUMNS: Final = (
    "p.rowid, p.id, p.creator, p.seq, p.token, p.manifest, p.title, p.tags, p.duration_ms,"
    " p.created_at, p.premium, p.min_balance, p.key_servers, COALESCE(c.name, ''),"
    " COALESCE(c.forked, 0),"
    ' (SELECT COUNT(*) FROM like_state l WHERE l.post = p.id AND l."on" = 1)'
)
_JOIN_PAGE: Final = "JOIN posts p ON p.rowid = k.rid LEFT JOIN creators c ON c.address = p.creator"
"""Joins ``k`` (the page's rowids) to the columns a FeedItem needs."""
_WORD: Final = re.compile(r"\w+")
MAX_CURSOR_BYTES: Final = 1024
"""A decoded cursor is a query name and a few integers (< 100 bytes)."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One post as the UI and API show it."""

    id: bytes
    creator: str
    creator_name: str
    creator_forked: bool
    seq: int
    token: str
    manifest: str
    title: str
    tags: tuple[str, ...]
    duration_ms: int
    created_at: int
    premium: bool
    min_balance: int
    key_servers: tuple[str, ...]
    likes: int
    rowid: int


@dataclass(frozen=True, slots=True)
class Page:
    """A page of items and the cursor of the next page (None at the end)."""

    items: tuple[FeedItem, ...]
    next_cursor: str | None


def _item(row: Sequence[Any]) -> FeedItem:
    return FeedItem(
        rowid=row[0],
        id=row[1],
        creator=row[2],
        seq=row[3],
        token=row[4],
        manifest=row[5],
        title=row[6],
        tags=tuple(json.loads(row[7])),
        duration_ms=row[8],
        created_at=row[9],
        premium=bool(row[10]),
        min_balance=int(row[11]),
        key_servers=tuple(json.loads(row[12])),
        creator_name=row[13],
        creator_forked=bool(row[14]),
        likes=row[15],
    )


def encode_cursor(query: str, key: Sequence[int]) -> str:
    """An opaque cursor for ``query`` continuing after ``key``."""
    raw = json.dumps([query, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query: str, size: int) -> list[int]:
    """The key in ``cursor``; ``CursorError`` if malformed or made by another query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = untrusted.loads(raw, max_bytes=MAX_CURSOR_BYTES, max_depth=1, what="cursor")
    except (binascii.Error, ValueError) as exc:
        raise CursorError(f"malformed cursor {cursor[:40]!r}; start again without one") from exc
    if (
        not isinstance(value, list)
        or len(value) != size + 1
        or value[0] != query
        or not all(type(v) is int for v in value[1:])
    ):
        raise CursorError(f"cursor does not belong to the {query!r} query; start again")
    return value[1:]


def select_page(
    db: sqlite_utils.Database, where: str, order: str, params: Sequence[Any], limit: int
) -> list[FeedItem]:
    # Pick the page's rowids first (index-only where possible), then read the columns and
    # count likes for those rows alone.
    sql = (
        f"SELECT {_COLUMNS} FROM (SELECT p.rowid AS rid FROM posts p"  # noqa: S608
        f" WHERE {where} AND {_VISIBLE} ORDER BY {order} LIMIT ?) k"
        f" {_JOIN_PAGE} ORDER BY {order}"
    )
    return [_item(row) for row in db.execute(sql, [*params, limit]).fetchall()]


_BIG: Final = 2**63 - 1
_BY_TIME: Final = "p.created_at DESC, p.rowid DESC"


def following(db: sqlite_utils.Database, viewer: str, cursor: str | None, limit: int) -> Page:
    """Posts of creators ``viewer`` follows, newest first."""
    at, rowid = decode_cursor(cursor, "following", 2) if cursor else (_BIG, _BIG)
    items = select_page(
        db,
        f"p.creator IN ({_FOLLOWED}) AND (p.created_at, p.rowid) < (?, ?)",
        _BY_TIME,
        (viewer, at, rowid),
        limit,
    )
    return _finish(items, limit, lambda i: encode_cursor("following", (i.created_at, i.rowid)))


def for_you(
    db: sqlite_utils.Database,
    viewer: str | None,
    now: int,
    window: int,
    cursor: str | None,
    limit: int,
) -> Page:
    """Recent posts of followed creators first, then everything else, newest first."""
    if cursor:
        phase, since, at, rowid = decode_cursor(cursor, "for_you", 4)
    else:
        phase, since, at, rowid = (0 if viewer else 1), now - window, _BIG, _BIG
    items: list[FeedItem] = []
    if phase == 0:
        items = select_page(
            db,
            f"p.creator IN ({_FOLLOWED}) AND p.created_at >= ?"
            " AND (p.created_at, p.rowid) < (?, ?)",
            _BY_TIME,
            (viewer, since, at, rowid),
            limit,
        )
        if len(items) == limit:
            last = items[-1]
            return Page(
                tuple(items), encode_cursor("for_you", (0, since, last.created_at, last.rowid))
            )
        phase, at, rowid = 1, _BIG, _BIG
    remaining = limit - len(items)
    rest = select_page(
        db,
        f"NOT (p.creator IN ({_FOLLOWED}) AND p.created_at >= ?)"
        " AND (p.created_at, p.rowid) < (?, ?)",
        _BY_TIME,
        (viewer or "", since, at, rowid),
        remaining,
    )
    items.extend(rest)
    if len(rest) < remaining:
        return Page(tuple(items), None)
    last = rest[-1]
    return Page(tuple(items), encode_cursor("for_you", (1, since, last.created_at, last.rowid)))


def creator_page(db: sqlite_utils.Database, creator: str, cursor: str | None, limit: int) -> Page:
    """One creator's posts, highest seq first."""
    seq, rowid = decode_cursor(cursor, "creator", 2) if cursor else (_BIG, _BIG)
    items = select_page(
        db,
        "p.creator = ? AND (p.seq, p.rowid) < (?, ?)",
        "p.seq DESC, p.rowid DESC",
        (creator, seq, rowid),
        limit,
    )
    return _finish(items, limit, lambda i: encode_cursor("creator", (i.seq, i.rowid)))


def fts_query(text: str, prefix: bool = False) -> str | None:
    """An FTS5 query requiring every word of ``text``; None if it has no words.

    Each word is quoted (so nothing in ``text`` is FTS5 syntax); with ``prefix`` the last word
    gets a ``*``.
    """
    words = _WORD.findall(text)[:16]
    if not words:
        return None
    terms = [f'"{word}"' for word in words]
    if prefix:
        terms[-1] += "*"
    return " ".join(terms)


def search(
    db: sqlite_utils.Database, text: str, cursor: str | None, limit: int, prefix: bool = False
) -> Page:
    """Posts whose title, tags or creator name match ``text``."""
    match = fts_query(text, prefix)
    if match is None:
        return Page((), None)
    (rowid,) = decode_cursor(cursor, "search", 1) if cursor else (_BIG,)
    # The cursor is only a position in arrival order, so it stays valid if ``prefix`` changes.
    sql = (
        f"SELECT {_COLUMNS} FROM (SELECT f.rowid AS rid FROM posts_fts f"  # noqa: S608
        " JOIN posts p ON p.rowid = f.rowid"
        f" WHERE posts_fts MATCH ? AND f.rowid < ? AND {_VISIBLE}"
        " ORDER BY f.rowid DESC LIMIT ?) k"
        f" {_JOIN_PAGE} ORDER BY p.rowid DESC"
    )
    items = [_item(row) for row in db.execute(sql, (match, rowid, limit)).fetchall()]
    return _finish(items, limit, lambda i: encode_cursor("search", (i.rowid,)))


def _finish(items: list[FeedItem], limit: int, key: Any) -> Page:
    if len(items) < limit or not items:
        return Page(tuple(items), None)
    return Page(tuple(items), key(items[-1]))
