"""Writing validated records into the index (runs in the writer thread, inside a transaction).

``store`` is idempotent: storing a record whose id is already present changes nothing and
returns ``DUPLICATE``. Fork detection happens here too (the writer is serialised, so two forked
posts arriving at once are still seen as a fork), independent of what the validator guessed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

import sqlite_utils

from peer.feed.comment_store import (
    remove_post_comments,
    store_comment,
    store_moderation,
    store_policy,
    store_withdrawal,
)
from peer.feed.errors import FeedIndexError
from peer.feed.records import (
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Follow,
    Like,
    LikeV2,
    Moderation,
    Post,
    Profile,
    Tombstone,
)
from peer.feed.wire import Envelope

MAX_SQL_INT: Final = 2**63 - 1


class StoreResult(StrEnum):
    """What storing a record did."""

    STORED = "stored"
    FORK = "fork"
    """Stored, and it conflicts with another post at the same (creator, seq)."""
    DUPLICATE = "duplicate"


def _clamp(value: int) -> int:
    return min(value, MAX_SQL_INT)


def store(
    db: sqlite_utils.Database,
    envelope: Envelope,
    record_id: bytes,
    wire: bytes,
    received_at: int,
) -> StoreResult:
    """Store one validated record; the caller (the writer) holds the transaction."""
    conn = db.conn
    kind = envelope.kind
    cursor = conn.execute(
        "INSERT OR IGNORE INTO records(id, kind) VALUES (?, ?)", (record_id, kind)
    )
    if cursor.rowcount == 0:
        return StoreResult.DUPLICATE
    record = envelope.record
    if isinstance(record, Post):
        return _store_post(db, record, record_id, wire, received_at)
    if isinstance(record, Profile):
        _store_profile(db, record, record_id, wire)
    elif isinstance(record, Follow):
        conn.execute(
            'INSERT INTO follows(actor, creator, "on", created_at, id, wire)'
            " VALUES (?, ?, ?, ?, ?, ?)"
            ' ON CONFLICT(actor, creator) DO UPDATE SET "on" = excluded."on",'
            " created_at = excluded.created_at, id = excluded.id, wire = excluded.wire"
            " WHERE (excluded.created_at, excluded.id) > (follows.created_at, follows.id)",
            (
                record.actor,
                record.creator,
                int(record.on),
                _clamp(record.created_at),
                record_id,
                wire,
            ),
        )
    elif isinstance(record, Like):
        conn.execute(
            "INSERT OR IGNORE INTO likes(actor, post, created_at, id, wire) VALUES (?, ?, ?, ?, ?)",
            (record.actor, record.post, _clamp(record.created_at), record_id, wire),
        )
        _store_like_state(conn, record.post, record.actor, True, record.created_at, record_id)
    elif isinstance(record, LikeV2):
        conn.execute(
            'INSERT INTO likes2(actor, post, "on", created_at, id, wire) VALUES (?, ?, ?, ?, ?, ?)'
            ' ON CONFLICT(post, actor) DO UPDATE SET "on" = excluded."on",'
            " created_at = excluded.created_at, id = excluded.id, wire = excluded.wire"
            " WHERE (excluded.created_at, excluded.id) > (likes2.created_at, likes2.id)",
            (
                record.actor,
                record.post,
                int(record.on),
                _clamp(record.created_at),
                record_id,
                wire,
            ),
        )
        _store_like_state(conn, record.post, record.actor, record.on, record.created_at, record_id)
    elif isinstance(record, Tombstone):
        _store_tombstone(db, record, record_id, wire)
    elif isinstance(record, Comment):
        store_comment(db, record, record_id, wire, received_at)
    elif isinstance(record, Moderation):
        store_moderation(db, record, record_id, wire)
    elif isinstance(record, CommentPolicy):
        store_policy(db, record, record_id, wire)
    elif isinstance(record, CommentWithdrawal):
        store_withdrawal(db, record, record_id, wire)
    return StoreResult.STORED


def _store_like_state(
    conn: sqlite3.Connection, post: bytes, actor: str, on: bool, created_at: int, record_id: bytes
) -> None:
    """Keep the winning like record of (actor, post): highest ``(createdAt, id)``."""
    conn.execute(
        'INSERT INTO like_state(post, actor, "on", created_at, id) VALUES (?, ?, ?, ?, ?)'
        ' ON CONFLICT(post, actor) DO UPDATE SET "on" = excluded."on",'
        " created_at = excluded.created_at, id = excluded.id"
        " WHERE (excluded.created_at, excluded.id) > (like_state.created_at, like_state.id)",
        (post, actor, int(on), _clamp(created_at), record_id),
    )


StoreItem = tuple[Envelope, bytes, bytes, int]
"""What ``store`` needs of one record: envelope, record id, wire bytes, received-at time."""


def store_batch(
    db: sqlite_utils.Database, items: Sequence[StoreItem]
) -> list[StoreResult | Exception]:
    """Store ``items`` in order; a record that fails is rolled back alone and its error is
    returned in its place; the others are kept.

    The batch first runs inside one savepoint with no per-record savepoints (two statements
    per batch instead of two per record). Only if a record fails is that savepoint rolled
    back and the batch run again with one savepoint per record, so failures stay isolated.
    """
    conn = db.conn
    conn.execute("SAVEPOINT batch")
    try:
        outcomes: list[StoreResult | Exception] = [
            store(db, envelope, record_id, wire, received_at)
            for envelope, record_id, wire, received_at in items
        ]
    except Exception:
        conn.execute("ROLLBACK TO batch")
        outcomes = [_store_isolated(db, item) for item in items]
    conn.execute("RELEASE batch")
    return outcomes


def _store_isolated(db: sqlite_utils.Database, item: StoreItem) -> StoreResult | Exception:
    conn = db.conn
    conn.execute("SAVEPOINT item")
    try:
        result = store(db, *item)
    except Exception as exc:
        conn.execute("ROLLBACK TO item")
        conn.execute("RELEASE item")
        if isinstance(exc, sqlite3.Error):
            exc = FeedIndexError(f"feed index write failed: {exc}")
        return exc
    conn.execute("RELEASE item")
    return result


def _store_post(
    db: sqlite_utils.Database, post: Post, post_id: bytes, wire: bytes, received_at: int
) -> StoreResult:
    conn = db.conn
    seq = _clamp(post.seq)
    # hidden = 1 when the creator's tombstone arrived first
    cursor = conn.execute(
        "INSERT INTO posts(id, creator, seq, prev, token, manifest, title, tags, duration_ms,"
        " created_at, premium, min_balance, key_servers, received_at, hidden, wire)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
        " EXISTS (SELECT 1 FROM tombstones WHERE post = ?1 AND creator = ?2), ?15)",
        (
            post_id,
            post.creator,
            seq,
            post.prev,
            post.token,
            post.manifest,
            post.title,
            json.dumps(list(post.tags), ensure_ascii=False) if post.tags else "[]",
            _clamp(post.duration_ms),
            _clamp(post.created_at),
            int(post.premium),
            str(post.min_balance),
            json.dumps(list(post.key_servers), ensure_ascii=False) if post.key_servers else "[]",
            received_at,
            wire,
        ),
    )
    rowid = cursor.lastrowid
    conn.execute(
        "INSERT INTO creators(address, head_seq, head_id) VALUES (?, ?, ?)"
        " ON CONFLICT(address) DO UPDATE SET head_seq = excluded.head_seq,"
        " head_id = excluded.head_id WHERE excluded.head_seq > creators.head_seq",
        (post.creator, seq, post_id),
    )
    # indexed for search unless hidden, under the creator's current name
    conn.execute(
        "INSERT INTO posts_fts(rowid, title, tags, name) SELECT ?1, ?2, ?3, c.name"
        " FROM creators c WHERE c.address = ?4"
        " AND NOT (SELECT hidden FROM posts WHERE rowid = ?1)",
        (rowid, post.title, " ".join(post.tags), post.creator),
    )
    rivals = conn.execute(
        "SELECT id FROM posts WHERE creator = ? AND seq = ? AND id != ?",
        (post.creator, seq, post_id),
    ).fetchall()
    if not rivals:
        return StoreResult.STORED
    for (rival,) in [*rivals, (post_id,)]:
        conn.execute(
            "INSERT OR IGNORE INTO forks(creator, seq, id) VALUES (?, ?, ?)",
            (post.creator, seq, rival),
        )
    conn.execute("UPDATE creators SET forked = 1 WHERE address = ?", (post.creator,))
    return StoreResult.FORK


def _store_profile(
    db: sqlite_utils.Database, profile: Profile, record_id: bytes, wire: bytes
) -> None:
    conn = db.conn
    cursor = conn.execute(
        "INSERT INTO profiles(creator, id, name, avatar, token, key_servers, version,"
        " created_at, wire) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(creator) DO UPDATE SET id = excluded.id, name = excluded.name,"
        " avatar = excluded.avatar, token = excluded.token, key_servers = excluded.key_servers,"
        " version = excluded.version, created_at = excluded.created_at, wire = excluded.wire"
        " WHERE excluded.version > profiles.version",
        (
            profile.creator,
            record_id,
            profile.name,
            profile.avatar,
            profile.token,
            json.dumps(list(profile.key_servers), ensure_ascii=False),
            _clamp(profile.version),
            _clamp(profile.created_at),
            wire,
        ),
    )
    if cursor.rowcount == 0:
        return
    conn.execute("INSERT OR IGNORE INTO creators(address) VALUES (?)", (profile.creator,))
    conn.execute("UPDATE creators SET name = ? WHERE address = ?", (profile.name, profile.creator))
    conn.execute(
        "UPDATE posts_fts SET name = ? WHERE rowid IN"
        " (SELECT rowid FROM posts WHERE creator = ? AND hidden = 0)",
        (profile.name, profile.creator),
    )


def _store_tombstone(
    db: sqlite_utils.Database, tombstone: Tombstone, record_id: bytes, wire: bytes
) -> None:
    conn = db.conn
    conn.execute(
        "INSERT OR IGNORE INTO tombstones(post, creator, created_at, id, wire)"
        " VALUES (?, ?, ?, ?, ?)",
        (tombstone.post, tombstone.creator, _clamp(tombstone.created_at), record_id, wire),
    )
    row = conn.execute(
        "SELECT rowid FROM posts WHERE id = ? AND creator = ? AND hidden = 0",
        (tombstone.post, tombstone.creator),
    ).fetchone()
    if row is None:
        return
    conn.execute("UPDATE posts SET hidden = 1 WHERE rowid = ?", (row[0],))
    conn.execute("DELETE FROM posts_fts WHERE rowid = ?", (row[0],))
    remove_post_comments(db, tombstone.post)


def set_listed(db: sqlite_utils.Database, table: str, address: str, on: bool, now: int) -> bool:
    """Add ``address`` to / remove it from the local ``muted`` or ``blocked`` list."""
    assert table in ("muted", "blocked")
    if on:
        cursor = db.conn.execute(
            f"INSERT OR IGNORE INTO {table}(address, since) VALUES (?, ?)",  # noqa: S608
            (address, now),
        )
    else:
        cursor = db.conn.execute(f"DELETE FROM {table} WHERE address = ?", (address,))  # noqa: S608
    return cursor.rowcount > 0
