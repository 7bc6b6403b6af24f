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

from peer.feed.errors import FeedIndexError
from peer.feed.records import Follow, Like, Post, Profile, Tombstone
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
    elif isinstance(record, Tombstone):
        _store_tombstone(db, record, record_id, wire)
    return StoreResult.STORED


StoreItem = tuple[Envelope, bytes, bytes, int]
"""What ``store`` needs of one record: envelope, record id, wire bytes, received-at time."""


def store_batch(
    db: sqlite_utils.Database, items: Sequence[StoreItem]
) -> list[StoreResult | Exception]:
    """Store ``items`` in order, each in its own savepoint: a record that fails is rolled back
    alone and its error is returned in its place; the others are kept."""
    conn = db.conn
    outcomes: list[StoreResult | Exception] = []
    for envelope, record_id, wire, received_at in items:
        conn.execute("SAVEPOINT item")
        try:
            result = store(db, envelope, record_id, wire, received_at)
        except Exception as exc:
            conn.execute("ROLLBACK TO item")
            conn.execute("RELEASE item")
            if isinstance(exc, sqlite3.Error):
                exc = FeedIndexError(f"feed index write failed: {exc}")
            outcomes.append(exc)
        else:
            conn.execute("RELEASE item")
            outcomes.append(result)
    return outcomes


def _store_post(
    db: sqlite_utils.Database, post: Post, post_id: bytes, wire: bytes, received_at: int
) -> StoreResult:
    conn = db.conn
    hidden = (
        conn.execute(
            "SELECT 1 FROM tombstones WHERE post = ? AND creator = ?", (post_id, post.creator)
        ).fetchone()
        is not None
    )
    cursor = conn.execute(
        "INSERT INTO posts(id, creator, seq, prev, token, manifest, title, tags, duration_ms,"
        " created_at, premium, min_balance, key_servers, received_at, hidden, wire)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            post_id,
            post.creator,
            _clamp(post.seq),
            post.prev,
            post.token,
            post.manifest,
            post.title,
            json.dumps(list(post.tags), ensure_ascii=False),
            _clamp(post.duration_ms),
            _clamp(post.created_at),
            int(post.premium),
            str(post.min_balance),
            json.dumps(list(post.key_servers), ensure_ascii=False),
            received_at,
            int(hidden),
            wire,
        ),
    )
    rowid = cursor.lastrowid
    conn.execute("INSERT OR IGNORE INTO creators(address) VALUES (?)", (post.creator,))
    conn.execute(
        "UPDATE creators SET head_seq = ?, head_id = ? WHERE address = ? AND head_seq < ?",
        (_clamp(post.seq), post_id, post.creator, _clamp(post.seq)),
    )
    if not hidden:
        (name,) = conn.execute(
            "SELECT name FROM creators WHERE address = ?", (post.creator,)
        ).fetchone()
        conn.execute(
            "INSERT INTO posts_fts(rowid, title, tags, name) VALUES (?, ?, ?, ?)",
            (rowid, post.title, " ".join(post.tags), name),
        )
    rivals = conn.execute(
        "SELECT id FROM posts WHERE creator = ? AND seq = ? AND id != ?",
        (post.creator, _clamp(post.seq), post_id),
    ).fetchall()
    if not rivals:
        return StoreResult.STORED
    for (rival,) in [*rivals, (post_id,)]:
        conn.execute(
            "INSERT OR IGNORE INTO forks(creator, seq, id) VALUES (?, ?, ?)",
            (post.creator, _clamp(post.seq), rival),
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
