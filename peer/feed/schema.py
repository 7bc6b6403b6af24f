"""Versioned schema of the feed index (SQLite, through sqlite-utils).

Migrations are named (:class:`Migration`) and listed in order in ``MIGRATIONS``. The table
``schema_migrations`` records the name of every migration applied to a database, so two lines
of work that each append a migration cannot collide: after they meet, each database gets
exactly the migrations whose names it lacks, in list order, whichever it had first. Hence the
rule for a new migration: append it with a new name, and let it depend only on migrations that
were on main when the work began (never on another open branch's). ``PRAGMA user_version``
still holds the number of applied migrations (an older program refuses a database whose
number exceeds what it knows). A database made before migrations had names (``user_version``
set, no ``schema_migrations``) applied the first ``user_version`` migrations of the list.
``migrate`` applies each missing migration in its own transaction together with its record, so
a crash leaves the database at a whole version. A database that records a name this program
does not know is newer and is refused (``SchemaError``): an old program must not write into a
layout it does not know.

Layout:

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
- ``comments``: ``comments`` (one row per stored comment, ``rowid`` = arrival order),
  ``moderations`` (the latest per target comment), ``comment_policies`` (the latest per post),
  ``comment_log`` (the signed wire record and signer of each of those rows, ``seq`` = arrival
  order; what sync serves; views ``comment_sync``, ``moderation_sync`` and
  ``comment_policy_sync`` give ``(id, wire, author)`` per kind) and ``comment_usage`` (the bytes
  and count of stored comments, for the budget).
- ``comment-withdrawals``: the view ``comment_withdrawal_sync`` (withdrawals live in
  ``comment_log`` with kind ``commentWithdrawal``).
- ``unlike-and-sync-kinds``: ``likes2`` holds the latest ``likeV2`` per (actor, post);
  ``like_state(post, actor, on, created_at, id)`` the winning like record of either type per
  (actor, post) (a ``Like`` counts as on), which like counts read; indexes by (author, id) on
  ``follows``, ``likes`` and ``tombstones`` for sync 1.1's per-author ranges. ``like_state`` is
  filled from ``likes`` when migrating.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


_V5: Final = """
CREATE TABLE likes2 (
    actor TEXT NOT NULL,
    post BLOB NOT NULL,
    "on" INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL,
    wire BLOB NOT NULL,
    PRIMARY KEY (post, actor)
) WITHOUT ROWID;
CREATE INDEX likes2_by_actor ON likes2(actor, id);
CREATE TABLE like_state (
    post BLOB NOT NULL,
    actor TEXT NOT NULL,
    "on" INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL,
    PRIMARY KEY (post, actor)
) WITHOUT ROWID;
CREATE INDEX like_state_by_actor ON like_state(actor) WHERE "on" = 1;
INSERT INTO like_state(post, actor, "on", created_at, id)
    SELECT post, actor, 1, created_at, id FROM likes;
CREATE INDEX likes_by_actor ON likes(actor, id);
CREATE INDEX follows_by_actor_id ON follows(actor, id);
CREATE INDEX tombstones_by_creator ON tombstones(creator, id)
"""


def _v5(db: sqlite_utils.Database) -> None:
    for statement in _split(_V5):
        db.execute(statement)


def _split(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


_COMMENTS: Final = """
CREATE TABLE comments (
    rowid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    post BLOB NOT NULL,
    parent BLOB NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX comments_by_post ON comments(post, created_at, rowid);
CREATE TABLE moderations (
    target BLOB PRIMARY KEY,
    post BLOB NOT NULL,
    creator TEXT NOT NULL,
    hidden INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX moderations_by_post ON moderations(post);
CREATE TABLE comment_policies (
    post BLOB PRIMARY KEY,
    creator TEXT NOT NULL,
    min_balance TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    id BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE comment_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE,
    post BLOB NOT NULL,
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    wire BLOB NOT NULL
);
CREATE INDEX comment_log_by_post ON comment_log(post);
CREATE INDEX comment_log_by_author ON comment_log(kind, author, id);
CREATE VIEW comment_sync AS
    SELECT id, wire, author FROM comment_log WHERE kind = 'comment';
CREATE VIEW moderation_sync AS
    SELECT id, wire, author FROM comment_log WHERE kind = 'moderation';
CREATE VIEW comment_policy_sync AS
    SELECT id, wire, author FROM comment_log WHERE kind = 'commentPolicy';
CREATE TABLE comment_usage (
    k INTEGER PRIMARY KEY CHECK (k = 0),
    bytes INTEGER NOT NULL,
    count INTEGER NOT NULL
);
INSERT INTO comment_usage(k, bytes, count) VALUES (0, 0, 0)
"""


def _comments(db: sqlite_utils.Database) -> None:
    for statement in _split(_COMMENTS):
        db.execute(statement)


def _comment_withdrawals(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE VIEW comment_withdrawal_sync AS"
        " SELECT id, wire, author FROM comment_log WHERE kind = 'commentWithdrawal'"
    )


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: a unique, never reused ``name`` and the function that applies it."""

    name: str
    apply: Callable[[sqlite_utils.Database], None]


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration("base", _v1),
    Migration("search", _v2),
    Migration("mute-and-block", _v3),
    Migration("visible-post-indexes", _v4),
    Migration("comments", _comments),
    Migration("unlike-and-sync-kinds", _v5),
    Migration("comment-withdrawals", _comment_withdrawals),
)
LATEST: Final = len(MIGRATIONS)
_RECORD_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name TEXT PRIMARY KEY, position INTEGER NOT NULL, applied_at INTEGER NOT NULL"
    ") WITHOUT ROWID"
)


def version(db: sqlite_utils.Database) -> int:
    """The schema version of ``db`` (0 for an empty database)."""
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def applied(db: sqlite_utils.Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Names of the migrations applied to ``db``, in the order they were applied."""
    if not db["schema_migrations"].exists():
        return [m.name for m in migrations[: version(db)]]
    rows = db.execute("SELECT name FROM schema_migrations ORDER BY position").fetchall()
    return [str(row[0]) for row in rows]


def migrate(
    db: sqlite_utils.Database,
    target: int | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Apply the missing ones of the first ``target`` (default: all) ``migrations``, in list
    order; returns the number of migrations applied to ``db`` afterwards.

    ``db.conn`` must be in manual transaction mode (``isolation_level = None``).
    """
    current = version(db)
    done = applied(db, migrations)
    known = {m.name for m in migrations}
    unknown = [name for name in done if name not in known]
    if current > len(migrations) or unknown:
        what = f"migrations {', '.join(unknown)}" if unknown else f"schema version {current}"
        raise SchemaError(
            f"the feed index has {what}, newer than this Toktok knows "
            f"({len(migrations)}); upgrade Toktok or move the index directory aside"
        )
    recorded = db["schema_migrations"].exists()
    for migration in migrations[:target]:
        if migration.name in done:
            continue
        number = len(done) + 1
        db.execute("BEGIN IMMEDIATE")
        try:
            if not recorded:
                db.execute(_RECORD_TABLE)
                for position, name in enumerate(done, 1):
                    db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (name, position))
            migration.apply(db)
            db.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, CAST(strftime('%s') AS INTEGER))",
                (migration.name, number),
            )
            db.execute(f"PRAGMA user_version = {number}")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            raise FeedIndexError(
                f"migrating the feed index to version {number} failed: {exc} (migration"
                f" '{migration.name}'); the index is left at version {number - 1}"
            ) from exc
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        recorded = True
        done.append(migration.name)
    return len(done)
