"""Writing comment records into the index (writer thread, inside the caller's transaction).

- A comment gets a row in ``comments`` and one in ``comment_log`` (its wire record), and adds
  its wire size to ``comment_usage`` (the disk budget's counter).
- A moderation or policy replaces the stored one of its target (post) only when it is later by
  ``(createdAt, id)``; the replaced record leaves ``comment_log`` and the new one enters it at
  the end (so the log serves only records in force, in an order where a comment precedes its
  moderation).
- A withdrawal (its author's) deletes the comment, its replies and their moderations, and leaves
  the withdrawal itself in ``comment_log`` (sync carries it to peers that still hold the
  comment); the ids stay in ``records``, so the comments are never stored again.
- ``remove_post_comments`` (called when a tombstone withdraws a post) deletes the post's
  comments, their moderations and its policy; their ids stay in ``records`` so that they are
  never stored again.
"""

from __future__ import annotations

from typing import Final

import sqlite_utils

from peer.feed.records import Comment, CommentPolicy, CommentWithdrawal, Moderation

MAX_SQL_INT: Final = 2**63 - 1


def _log(
    db: sqlite_utils.Database, record_id: bytes, post: bytes, kind: str, author: str, wire: bytes
) -> None:
    db.conn.execute(
        "INSERT INTO comment_log(id, post, kind, author, wire) VALUES (?, ?, ?, ?, ?)",
        (record_id, post, kind, author, wire),
    )


def store_comment(
    db: sqlite_utils.Database, comment: Comment, record_id: bytes, wire: bytes, received_at: int
) -> None:
    """Store a validated comment."""
    db.conn.execute(
        "INSERT INTO comments(id, post, parent, author, text, created_at, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            record_id,
            comment.post,
            comment.parent,
            comment.author,
            comment.text,
            min(comment.created_at, MAX_SQL_INT),
            received_at,
        ),
    )
    _log(db, record_id, comment.post, "comment", comment.author, wire)
    db.conn.execute(
        "UPDATE comment_usage SET bytes = bytes + ?, count = count + 1 WHERE k = 0", (len(wire),)
    )


def store_moderation(
    db: sqlite_utils.Database, moderation: Moderation, record_id: bytes, wire: bytes
) -> bool:
    """Store a validated moderation if it is the latest for its comment; True if it was."""
    conn = db.conn
    row = conn.execute("SELECT post FROM comments WHERE id = ?", (moderation.target,)).fetchone()
    if row is None:  # the comment went with its post's tombstone
        return False
    at = min(moderation.created_at, MAX_SQL_INT)
    if not _supersedes(db, _CURRENT_MODERATION, moderation.target, at, record_id):
        return False
    conn.execute(
        "INSERT INTO moderations(target, post, creator, hidden, created_at, id)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(target) DO UPDATE SET creator = excluded.creator,"
        " hidden = excluded.hidden, created_at = excluded.created_at, id = excluded.id",
        (moderation.target, row[0], moderation.creator, int(moderation.hidden), at, record_id),
    )
    _log(db, record_id, bytes(row[0]), "moderation", moderation.creator, wire)
    return True


def store_policy(
    db: sqlite_utils.Database, policy: CommentPolicy, record_id: bytes, wire: bytes
) -> bool:
    """Store a validated comment policy if it is the latest for its post; True if it was."""
    conn = db.conn
    at = min(policy.created_at, MAX_SQL_INT)
    if not _supersedes(db, _CURRENT_POLICY, policy.post, at, record_id):
        return False
    conn.execute(
        "INSERT INTO comment_policies(post, creator, min_balance, created_at, id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(post) DO UPDATE SET creator = excluded.creator,"
        " min_balance = excluded.min_balance, created_at = excluded.created_at, id = excluded.id",
        (policy.post, policy.creator, str(policy.min_balance), at, record_id),
    )
    _log(db, record_id, policy.post, "commentPolicy", policy.creator, wire)
    return True


_CURRENT_MODERATION: Final = "SELECT created_at, id FROM moderations WHERE target = ?"
_CURRENT_POLICY: Final = "SELECT created_at, id FROM comment_policies WHERE post = ?"


def _supersedes(
    db: sqlite_utils.Database, current: str, key: bytes, at: int, record_id: bytes
) -> bool:
    """Latest ``(createdAt, id)`` wins: True if the record at ``(at, record_id)`` replaces the
    one ``current`` finds for ``key`` (whose log entry is then dropped), False if it is older."""
    conn = db.conn
    old = conn.execute(current, (key,)).fetchone()
    if old is None:
        return True
    if (at, record_id) <= (old[0], bytes(old[1])):
        return False
    conn.execute("DELETE FROM comment_log WHERE id = ?", (bytes(old[1]),))
    return True


def remove_post_comments(db: sqlite_utils.Database, post: bytes) -> int:
    """Delete the comments, moderations and policy of a withdrawn post; returns the comments
    removed."""
    conn = db.conn
    size, count = conn.execute(
        "SELECT COALESCE(SUM(length(wire)), 0), COUNT(*) FROM comment_log"
        " WHERE post = ? AND kind = 'comment'",
        (post,),
    ).fetchone()
    conn.execute("DELETE FROM comments WHERE post = ?", (post,))
    conn.execute("DELETE FROM moderations WHERE post = ?", (post,))
    conn.execute("DELETE FROM comment_policies WHERE post = ?", (post,))
    conn.execute("DELETE FROM comment_log WHERE post = ?", (post,))
    conn.execute(
        "UPDATE comment_usage SET bytes = bytes - ?, count = count - ? WHERE k = 0", (size, count)
    )
    return int(count)


def store_withdrawal(
    db: sqlite_utils.Database, withdrawal: CommentWithdrawal, record_id: bytes, wire: bytes
) -> bool:
    """Withdraw a comment (validated: the signer wrote it) with its replies; True if it was
    stored (False: the comment is gone already, e.g. with its post's tombstone)."""
    conn = db.conn
    row = conn.execute(
        "SELECT post FROM comments WHERE id = ? AND author = ?",
        (withdrawal.target, withdrawal.author),
    ).fetchone()
    if row is None:
        return False
    post = bytes(row[0])
    gone = [  # the comment and every answer below it
        bytes(r[0])
        for r in conn.execute(
            "WITH RECURSIVE thread(id) AS (VALUES (?1) UNION SELECT c.id FROM comments c"
            " JOIN thread t ON c.parent = t.id WHERE c.post = ?2) SELECT id FROM thread",
            (withdrawal.target, post),
        )
    ]
    marks = ",".join("?" * len(gone))
    size, count = conn.execute(
        "SELECT COALESCE(SUM(length(wire)), 0), COUNT(*) FROM comment_log"  # noqa: S608 - marks
        f" WHERE kind = 'comment' AND id IN ({marks})",
        gone,
    ).fetchone()
    conn.execute(
        "DELETE FROM comment_log WHERE id IN"  # noqa: S608 - marks only
        f" (SELECT id FROM moderations WHERE target IN ({marks}))",
        gone,
    )
    conn.execute(f"DELETE FROM moderations WHERE target IN ({marks})", gone)  # noqa: S608
    conn.execute(f"DELETE FROM comment_log WHERE id IN ({marks})", gone)  # noqa: S608
    conn.execute(f"DELETE FROM comments WHERE id IN ({marks})", gone)  # noqa: S608
    conn.execute(
        "UPDATE comment_usage SET bytes = bytes - ?, count = count - ? WHERE k = 0", (size, count)
    )
    _log(db, record_id, post, "commentWithdrawal", withdrawal.author, wire)
    return True
