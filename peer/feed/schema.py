"""Versioned schema of the feed index (SQLite, through sqlite-utils).

``PRAGMA user_version`` holds the number of applied migrations. ``migrate`` applies the missing
ones in order, each in its own transaction together with the version bump, so a crash leaves
the database at a whole version. A database newer than ``LATEST`` is refused (``SchemaError``):
an old program must not write into a layout it does not know.

Layout (v4):

- ``records(id, kind)``: every stored record id (the "already stored" set of the validator).
- ``posts``: one row per stored post, ``rowid`` = arrival order; ``wire`` is the canonical
  signed record (what sync serves). Integer columns used for ordering are clamped to
  2^63 - 1 (SQLite integers are signed 64-bit); ``min_balance`` is a decimal string;
  ``hidden`` = 1 once the creator's tombstone is stored.
- ``creators``: the log head (highest stored ``seq`` and its id), ``forked`` flag, display name.
- ``profiles``: the highest-version profile per creator.
- ``follows``: the latest follow/unfollow per (actor, creator); ``likes`` one per (actor, post).
- ``tombstones``: withdrawn post ids (kept even when the post is unknown yet).
- ``forks``: (creator, seq, id) of every post involved in a fork.
- ``posts_fts`` (v2): FTS5 over title, tags and the creator's name, ``rowid`` = posts.rowid.
- ``muted`` / ``blocked`` (v3): the local user's lists.
- v4: the feed orders use partial indexes over visible posts (``hidden = 0``), so picking a
  page's rowids reads the index alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

import sqlite_utils

from peer.feed.errors import FeedIndexError, SchemaError

_V1: Final = """
CREATE TABLE records (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE posts (
    rowid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    creator TEXT NOT NULL,
    seq INTEGER NOT NULL,
    prev BLOB NOT NULL,
    token TEXT NOT NULL,
    manifest TEXT NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    premium INTEGER NOT NULL,
    min_balance TEXT NOT NULL,
    key_servers TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    wire BLOB NOT NULL
);
CREATE INDEX posts_by_time ON posts(created_at);
CREATE INDEX posts_by_creator_time ON posts(creator, created_at);
CREATE INDEX posts_by_creator_seq ON posts(creator, seq);
CREATE TABLE creators (
    address TEXT PRIMARY KEY,
    head_seq INTEGER NOT NULL DEFAULT 0,
    head_id BLOB,
    forked INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE profiles (
    creator TEXT PRIMARY KEY,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    avatar TEXT NOT NULL,
    token TEXT NOT NULL,
    key_servers TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    wire BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE follows (
    actor TEXT NOT NULL,
    creator TEXT NOT NULL,
    "on" INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL,
    wire BLOB NOT NULL,
    PRIMARY KEY (actor, creator)
) WITHOUT ROWID;
CREATE INDEX follows_by_creator ON follows(creator);
CREATE TABLE likes (
    actor TEXT NOT NULL,
    post BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL,
    wire BLOB NOT NULL,
    PRIMARY KEY (post, actor)
) WITHOUT ROWID;
CREATE TABLE tombstones (
    post BLOB PRIMARY KEY,
    creator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL,
    wire BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE forks (
    creator TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id BLOB NOT NULL,
    PRIMARY KEY (creator, seq, id)
) WITHOUT ROWID;
"""

_V2: Final = """
CREATE VIRTUAL TABLE posts_fts USING fts5(title, tags, name, tokenize = 'unicode61');
INSERT INTO posts_fts(rowid, title, tags, name)
    SELECT p.rowid, p.title, p.tags, COALESCE(c.name, '')
    FROM posts p LEFT JOIN creators c ON c.address = p.creator
    WHERE p.hidden = 0;
"""


def _v1(db: sqlite_utils.Database) -> None:
    for statement in _split(_V1):
        db.execute(statement)


def _v2(db: sqlite_utils.Database) -> None:
    for statement in _split(_V2):
        db.execute(statement)


def _v3(db: sqlite_utils.Database) -> None:
    for name in ("muted", "blocked"):
        db.create_table(name, {"address": str, "since": int}, pk="address")


_V4: Final = """
DROP INDEX posts_by_time;
DROP INDEX posts_by_creator_time;
CREATE INDEX posts_visible_by_time ON posts(created_at) WHERE hidden = 0;
CREATE INDEX posts_visible_by_creator_time ON posts(creator, created_at) WHERE hidden = 0
"""


def _v4(db: sqlite_utils.Database) -> None:
    for statement in _split(_V4):
        db.execute(statement)


def _split(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


MIGRATIONS: Final[tuple[Callable[[sqlite_utils.Database], None], ...]] = (_v1, _v2, _v3, _v4)
LATEST: Final = len(MIGRATIONS)


def version(db: sqlite_utils.Database) -> int:
    """The schema version of ``db`` (0 for an empty database)."""
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(db: sqlite_utils.Database, target: int = LATEST) -> int:
    """Apply migrations up to ``target``; returns the resulting version.

    ``db.conn`` must be in manual transaction mode (``isolation_level = None``).
    """
    current = version(db)
    if current > LATEST:
        raise SchemaError(
            f"the feed index has schema version {current}, newer than this Toktok knows "
            f"({LATEST}); upgrade Toktok or move the index directory aside"
        )
    for number in range(current + 1, target + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            raise FeedIndexError(
                f"migrating the feed index to version {number} failed: {exc}; the index is"
                f" left at version {number - 1}"
            ) from exc
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return max(current, target)
