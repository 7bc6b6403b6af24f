"""The comment tables of the feed index: the named migration on an index made before comments,
storing, ordering, moderation, policies, removal with the post's tombstone, and what sync reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from support.vectors import VECTORS_DIR

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.db import connect
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import SchemaError
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ingest import StoreResult
from peer.feed.records import (
    ZERO_ID,
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Moderation,
    Record,
    Tombstone,
)
from peer.feed.schema import LATEST, applied, version
from peer.feed.signatures import address_of
from peer.feed.wire import decode, encode

KEY_A = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
KEY_B = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
A, B = address_of(KEY_A), address_of(KEY_B)


async def _store(index: FeedIndex, domain: Domain, record: Record, key: bytes) -> bytes:
    record_id = digest(record, domain)
    assert (
        await index.writes.store(sign_record(record, domain, key), record_id) is StoreResult.STORED
    )
    return record_id


async def test_an_index_made_before_comments_gets_them_and_keeps_its_records(
    tmp_path: Path, domain: Domain
) -> None:
    # feed_index_v4.sqlite.gz: made by the code before comments and before named migrations
    path = tmp_path / "feed.sqlite"
    path.write_bytes(gzip.decompress((VECTORS_DIR / "feed_index_v4.sqlite.gz").read_bytes()))
    db = connect(path)
    assert version(db) == 4
    assert not db["schema_migrations"].exists()
    db.conn.close()
    async with FeedIndex(IndexOptions(path)) as index:
        page = await index.queries.creator(A)
        assert [item.title for item in page.items] == ["Kept clip"]
        assert page.items[0].likes == 1
        post_id = page.items[0].id
        withdrawn = (await index.view.post_ids_at(A, 2))[0]
        assert await index.view.withdrawn(withdrawn)
        comment = Comment(B, post_id, ZERO_ID, "first comment after the upgrade", 10)
        comment_id = await _store(index, domain, comment, KEY_B)
        listed = await index.queries.comments(post_id)
        assert [c.id for c in listed.items] == [comment_id]
        assert listed.items[0].author_name == ""
    db = connect(path)
    assert version(db) == LATEST
    assert applied(db)[4:] == ["comments", "unlike-and-sync-kinds", "comment-withdrawals"]
    db.conn.close()
    async with FeedIndex(IndexOptions(path)) as index:  # opening again applies nothing twice
        assert await index.view.comment_count(post_id) == 1


async def test_an_index_with_an_unknown_named_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    async with FeedIndex(IndexOptions(path)):
        pass
    db = connect(path)
    db.execute("INSERT INTO schema_migrations VALUES ('from-the-future', 99, 0)")
    db.conn.close()
    index = FeedIndex(IndexOptions(path))
    with pytest.raises(SchemaError, match="from-the-future"):
        await index.start()
    await index.close()


async def test_comments_page_oldest_first_and_hidden_only_on_request(
    index: FeedIndex, domain: Domain
) -> None:
    post, post_id = CreatorLog(domain, KEY_A, TOKEN).next_post(MANIFEST, "p", 1)
    await index.writes.store(post, post_id)
    ids = [
        await _store(index, domain, Comment(B, post_id, ZERO_ID, f"c{n}", 100 - n % 3), KEY_B)
        for n in range(7)
    ]
    first = await index.queries.comments(post_id, limit=4)
    second = await index.queries.comments(post_id, first.next_cursor, limit=4)
    order = [c.text for c in (*first.items, *second.items)]
    assert sorted(order, key=lambda t: (100 - int(t[1:]) % 3, int(t[1:]))) == order
    assert second.next_cursor is None
    assert len(set(order)) == 7
    await _store(index, domain, Moderation(A, ids[0], True, 5), KEY_A)
    await _store(index, domain, Moderation(A, ids[0], False, 4), KEY_A)  # older: no effect
    visible = await index.queries.comments(post_id, limit=50)
    assert ids[0] not in [c.id for c in visible.items]
    everything = await index.queries.comments(post_id, limit=50, include_hidden=True)
    assert [c.hidden for c in everything.items if c.id == ids[0]] == [True]
    await _store(index, domain, Moderation(A, ids[0], False, 6), KEY_A)  # shown again
    assert len((await index.queries.comments(post_id, limit=50)).items) == 7
    await index.writes.block(B)
    assert (await index.queries.comments(post_id)).items == ()


async def test_the_log_serves_records_in_force_in_dependency_order(
    index: FeedIndex, domain: Domain
) -> None:
    post, post_id = CreatorLog(domain, KEY_A, TOKEN).next_post(MANIFEST, "p", 1)
    await index.writes.store(post, post_id)
    parent = await _store(index, domain, Comment(B, post_id, ZERO_ID, "q", 2), KEY_B)
    reply = await _store(index, domain, Comment(A, post_id, parent, "a", 3), KEY_A)
    hide = await _store(index, domain, Moderation(A, parent, True, 4), KEY_A)
    show = await _store(index, domain, Moderation(A, parent, False, 5), KEY_A)
    policy = await _store(index, domain, CommentPolicy(A, post_id, 7, 6), KEY_A)
    page, cursor = await index.sync.comment_records_since(0, limit=2)
    rest, end = await index.sync.comment_records_since(cursor)
    ids = [digest(decode(w).record, domain) for w in (*page, *rest)]
    assert ids == [parent, reply, show, policy], "the replaced moderation is gone"
    assert hide not in ids
    assert await index.sync.comment_records_since(end) == ([], end)
    per_post = await index.sync.comment_records_for_post(post_id)
    assert [digest(decode(w).record, domain) for w in per_post] == ids
    assert await index.queries.comment_counts([post_id, b"\x01" * 32]) == {post_id: 2}


async def test_a_tombstone_removes_the_comments_and_they_never_come_back(
    index: FeedIndex, domain: Domain
) -> None:
    post, post_id = CreatorLog(domain, KEY_A, TOKEN).next_post(MANIFEST, "p", 1)
    await index.writes.store(post, post_id)
    comment = Comment(B, post_id, ZERO_ID, "soon gone", 2)
    comment_id = await _store(index, domain, comment, KEY_B)
    await _store(index, domain, Moderation(A, comment_id, True, 3), KEY_A)
    await _store(index, domain, CommentPolicy(A, post_id, 1, 3), KEY_A)
    assert await index.view.comment_bytes() == len(encode(sign_record(comment, domain, KEY_B)))
    await _store(index, domain, Tombstone(A, post_id, 4), KEY_A)
    assert await index.view.comment_count(post_id) == 0
    assert await index.view.comment_bytes() == 0
    assert await index.sync.comment_records_since(0) == ([], 0)
    assert await index.view.comment_policy(post_id) == 0
    again = await index.writes.store(sign_record(comment, domain, KEY_B), comment_id)
    assert again is StoreResult.DUPLICATE


async def test_a_withdrawal_deletes_the_comment_its_thread_and_moderations_for_good(
    index: FeedIndex, domain: Domain
) -> None:
    post, post_id = CreatorLog(domain, KEY_A, TOKEN).next_post(MANIFEST, "p", 1)
    await index.writes.store(post, post_id)
    kept = Comment(A, post_id, ZERO_ID, "stays", 2)
    kept_id = await _store(index, domain, kept, KEY_A)
    comment = Comment(B, post_id, ZERO_ID, "regret", 3)
    comment_id = await _store(index, domain, comment, KEY_B)
    reply = Comment(A, post_id, comment_id, "answer", 4)
    reply_id = await _store(index, domain, reply, KEY_A)
    deeper = await _store(index, domain, Comment(B, post_id, reply_id, "deeper", 5), KEY_B)
    await _store(index, domain, Moderation(A, comment_id, True, 9), KEY_A)  # later than it
    before = await index.sync.kind_heads("comment")
    withdrawal = CommentWithdrawal(B, comment_id, 6)
    withdrawal_id = await _store(index, domain, withdrawal, KEY_B)
    listed = await index.queries.comments(post_id, limit=50, include_hidden=True)
    assert [c.id for c in listed.items] == [kept_id]
    assert await index.view.comment_bytes() == len(encode(sign_record(kept, domain, KEY_A)))
    wires, _end = await index.sync.comment_records_since(0)
    assert [digest(decode(w).record, domain) for w in wires] == [kept_id, withdrawal_id]
    assert await index.sync.kind_heads("comment") != before  # the cached heads were dropped
    assert set(await index.sync.kind_heads("commentWithdrawal")) == {B}
    assert await index.sync.kind_heads("moderation") == {}
    assert await index.sync.kind_range("commentWithdrawal", B, ZERO_ID, 10) == [
        encode(sign_record(withdrawal, domain, KEY_B))
    ]
    for again, key in ((comment, KEY_B), (reply, KEY_A)):  # relayed by a peer that kept them
        result = await index.writes.store(sign_record(again, domain, key), digest(again, domain))
        assert result is StoreResult.DUPLICATE
    assert await index.queries.comment(deeper) is None
    await _store(index, domain, Tombstone(A, post_id, 7), KEY_A)  # the post goes: all of it
    assert await index.sync.comment_records_since(0) == ([], 0)


async def test_store_many_stores_a_page_and_reports_each_record(
    index: FeedIndex, domain: Domain
) -> None:
    post, post_id = CreatorLog(domain, KEY_A, TOKEN).next_post(MANIFEST, "p", 1)
    comment = Comment(B, post_id, ZERO_ID, "in a page", 2)
    comment_env = sign_record(comment, domain, KEY_B)
    results = await index.writes.store_many(
        [(post, post_id), (comment_env, digest(comment, domain)), (post, post_id)]
    )
    assert results == [StoreResult.STORED, StoreResult.STORED, StoreResult.DUPLICATE]
    assert await index.view.comment_count(post_id) == 1
