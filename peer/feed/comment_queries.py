"""Read queries of the comment tables (reader threads).

``comments_page`` lists a post's comments oldest first (``createdAt``, then arrival), with a
keyset cursor; comments the post's creator hid are left out unless asked for (the creator's
moderation view), and so are comments of authors on the local mute or block list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlite_utils

from peer.feed.queries import decode_cursor, encode_cursor

_HIDDEN: Final = "EXISTS (SELECT 1 FROM moderations m WHERE m.target = c.id AND m.hidden = 1)"


@dataclass(frozen=True, slots=True)
class CommentItem:
    """One comment as the UI and API show it."""

    id: bytes
    post: bytes
    parent: bytes
    author: str
    author_name: str
    text: str
    created_at: int
    hidden: bool
    rowid: int


@dataclass(frozen=True, slots=True)
class CommentPage:
    """A page of comments, the next page's cursor (None at the end) and the post's policy."""

    items: tuple[CommentItem, ...]
    next_cursor: str | None
    min_balance: int


def _item(row: Sequence[Any]) -> CommentItem:
    return CommentItem(
        rowid=row[0],
        id=bytes(row[1]),
        post=bytes(row[2]),
        parent=bytes(row[3]),
        author=row[4],
        text=row[5],
        created_at=row[6],
        hidden=bool(row[7]),
        author_name=row[8],
    )


def policy_of(db: sqlite_utils.Database, post: bytes) -> int:
    """The post's required balance: the stored policy if its signer is the post's creator."""
    row = db.execute(
        "SELECT cp.min_balance FROM comment_policies cp JOIN posts p ON p.id = cp.post"
        " WHERE cp.post = ? AND cp.creator = p.creator",
        (post,),
    ).fetchone()
    return 0 if row is None else int(row[0])


_SELECT: Final = (
    "SELECT c.rowid, c.id, c.post, c.parent, c.author, c.text, c.created_at, "  # noqa: S608 - constant
    + _HIDDEN
    + ", COALESCE(cr.name, '') FROM comments c LEFT JOIN creators cr ON cr.address = c.author"
)


def one(db: sqlite_utils.Database, comment_id: bytes) -> CommentItem | None:
    """One stored comment, hidden or not."""
    row = db.execute(f"{_SELECT} WHERE c.id = ?", (comment_id,)).fetchone()
    return None if row is None else _item(row)


def comments_page(
    db: sqlite_utils.Database,
    post: bytes,
    cursor: str | None,
    limit: int,
    include_hidden: bool,
) -> CommentPage:
    """A page of the comments of ``post``, oldest first."""
    at, rowid = decode_cursor(cursor, "comments", 2) if cursor else (-1, -1)
    hidden_filter = "" if include_hidden else f" AND NOT {_HIDDEN}"
    sql = (
        f"{_SELECT} WHERE c.post = ? AND (c.created_at, c.rowid) > (?, ?)"  # noqa: S608 - constants
        " AND c.author NOT IN (SELECT address FROM muted)"
        f" AND c.author NOT IN (SELECT address FROM blocked){hidden_filter}"
        " ORDER BY c.created_at, c.rowid LIMIT ?"
    )
    items = [_item(row) for row in db.execute(sql, (post, at, rowid, limit)).fetchall()]
    next_cursor = None
    if len(items) == limit and items:
        next_cursor = encode_cursor("comments", (items[-1].created_at, items[-1].rowid))
    return CommentPage(tuple(items), next_cursor, policy_of(db, post))


def logged_post(db: sqlite_utils.Database, record_id: bytes) -> bytes | None:
    """The post of a comment record in force (``comment_log``), e.g. a stored withdrawal."""
    row = db.execute("SELECT post FROM comment_log WHERE id = ?", (record_id,)).fetchone()
    return None if row is None else bytes(row[0])
