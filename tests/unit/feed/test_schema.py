"""Index migrations and the writer thread's transaction handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer.feed.db import Writer, connect
from peer.feed.errors import FeedIndexError, SchemaError
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.schema import LATEST, MIGRATIONS, Migration, applied, migrate, version


def _insert_v1_post(path: Path, title: str) -> None:
    db = connect(path)
    db.execute(
        "INSERT INTO posts(id, creator, seq, prev, token, manifest, title, tags, duration_ms,"
        " created_at, premium, min_balance, key_servers, received_at, wire)"
        " VALUES (?, 'C', 1, ?, 'T', 'm', ?, '[\"old\"]', 0, 1, 0, '0', '[]', 1, x'00')",
        (b"\x01" * 32, bytes(32), title),
    )
    db.conn.close()


async def test_fresh_database_gets_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    async with FeedIndex(IndexOptions(path)):
        pass
    db = connect(path)
    assert version(db) == LATEST
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.conn.close()


async def test_version_1_database_is_upgraded_and_search_backfilled(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    assert migrate(db, 1) == 1
    db.conn.close()
    _insert_v1_post(path, "Posted before search existed")
    async with FeedIndex(IndexOptions(path)) as index:
        page = await index.queries.search("before search")
        assert [item.title for item in page.items] == ["Posted before search existed"]
        assert await index.writes.mute("C")
        assert (await index.queries.search("existed")).items == ()
    db = connect(path)
    assert version(db) == LATEST
    db.conn.close()


async def test_database_from_a_newer_toktok_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    db.conn.close()
    index = FeedIndex(IndexOptions(path))
    with pytest.raises(SchemaError, match="newer than this Toktok knows"):
        await index.start()
    await index.close()


def test_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    migrate(db, 1)
    db.execute("CREATE TABLE muted(x)")  # the v3 migration will collide with this
    with pytest.raises(FeedIndexError, match=r"version 3 failed: .*already exists.*version 2"):
        migrate(db)
    assert version(db) == 2
    db.conn.close()


async def test_a_failing_write_fails_alone(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "w.sqlite")
    await writer.start()

    def good(name: str):  # type: ignore[no-untyped-def]
        def run(db):  # type: ignore[no-untyped-def]
            db.execute("INSERT INTO muted(address, since) VALUES (?, 0)", (name,))
            return name

        return run

    def bad(db):  # type: ignore[no-untyped-def]
        db.execute("INSERT INTO muted(address, since) VALUES ('half', 0)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    assert await writer.submit(good("a")) == "a"
    with pytest.raises(FeedIndexError, match="no_such_table"):
        await writer.submit(bad)
    assert await writer.submit(good("b")) == "b"
    await writer.close()
    db = connect(tmp_path / "w.sqlite")
    assert [r[0] for r in db.execute("SELECT address FROM muted ORDER BY address")] == ["a", "b"]
    db.conn.close()
    with pytest.raises(FeedIndexError, match="closed"):
        await writer.submit(good("c"))


async def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    index = FeedIndex(IndexOptions(blocker / "index" / "feed.sqlite"))
    with pytest.raises(FeedIndexError, match="cannot create"):
        await index.start()


def _table_migration(name: str):  # type: ignore[no-untyped-def]
    return Migration(name, lambda db: db.execute(f'CREATE TABLE "{name}" (x INTEGER)'))


def test_two_lines_of_work_that_each_added_a_migration_meet_without_collision(
    tmp_path: Path,
) -> None:
    # (names no real migration has: "comments" is a real one now)
    comments, likes = _table_migration("branch-a-table"), _table_migration("branch-b-table")
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    # A data dir used by a build of one branch: its own migration after main's.
    assert migrate(db, migrations=(*MIGRATIONS, comments)) == LATEST + 1
    # The merged program lists the other branch's migration first: only the missing one runs.
    assert migrate(db, migrations=(*MIGRATIONS, likes, comments)) == LATEST + 2
    assert applied(db) == [*(m.name for m in MIGRATIONS), "branch-a-table", "branch-b-table"]
    assert {"branch-a-table", "branch-b-table"} <= set(db.table_names())
    db.conn.close()


def test_an_index_from_before_named_migrations_keeps_its_place(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    db.execute("BEGIN")
    for migration in MIGRATIONS:  # as the numbered scheme left it: no record of names
        migration.apply(db)
    db.execute(f"PRAGMA user_version = {LATEST}")
    db.execute("COMMIT")
    assert migrate(db, migrations=(*MIGRATIONS, _table_migration("next"))) == LATEST + 1
    assert applied(db) == [*(m.name for m in MIGRATIONS), "next"]
    assert version(db) == LATEST + 1
    db.conn.close()


def test_an_index_with_a_migration_this_program_does_not_know_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    migrate(db, migrations=(*MIGRATIONS, _table_migration("from-the-future")))
    with pytest.raises(SchemaError, match="migrations from-the-future, newer than this"):
        migrate(db)
    db.conn.close()
