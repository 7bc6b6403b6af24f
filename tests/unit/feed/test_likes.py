"""Likes and unlikes in the index: the winning record per (actor, post), counts, the v5
migration, and the per-author groups sync 1.1 serves."""

from __future__ import annotations

from pathlib import Path

from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.db import connect
from peer.feed.eip712 import Domain, digest
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.records import Follow, Like, LikeV2, Record, Tombstone
from peer.feed.schema import LATEST, migrate, version
from peer.feed.signatures import address_of
from peer.feed.synckinds import group_digest
from peer.feed.wire import decode

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
FAN_KEY = keccak(b"likes fan")
FAN = address_of(FAN_KEY)
NOW = 1_764_460_800


async def _store(index: FeedIndex, domain: Domain, record: Record, key: bytes = FAN_KEY) -> bytes:
    envelope = sign_record(record, domain, key)
    record_id = digest(record, domain)
    await index.writes.store(envelope, record_id)
    return record_id


async def _likes(index: FeedIndex, post_id: bytes) -> int:
    item = await index.queries.post(post_id)
    assert item is not None
    return item.likes


async def test_the_latest_like_record_of_either_type_wins(index: FeedIndex, domain: Domain) -> None:
    envelope, post_id = CreatorLog(domain, keccak(b"likes creator")).next_post(MANIFEST, "t", NOW)
    await index.writes.store(envelope, digest(envelope.record, domain))
    await _store(index, domain, Like(FAN, post_id, NOW))
    assert await _likes(index, post_id) == 1
    await _store(index, domain, LikeV2(FAN, post_id, False, NOW + 1))
    assert await _likes(index, post_id) == 0
    assert await index.queries.like_state(FAN, post_id) == (False, NOW + 1)
    await _store(index, domain, Like(FAN, post_id, NOW + 1))  # older or tied: id decides
    await _store(index, domain, LikeV2(FAN, post_id, True, NOW))  # older: no effect
    await _store(index, domain, LikeV2(FAN, post_id, True, NOW + 2))
    assert await _likes(index, post_id) == 1
    other = keccak(b"other fan")
    await _store(index, domain, LikeV2(address_of(other), post_id, True, NOW + 3), other)
    assert await _likes(index, post_id) == 2


async def test_a_tie_on_created_at_goes_to_the_higher_record_id(
    index: FeedIndex, domain: Domain
) -> None:
    post = bytes(range(32))
    on_id = digest(LikeV2(FAN, post, True, NOW), domain)
    off_id = digest(LikeV2(FAN, post, False, NOW), domain)
    await _store(index, domain, LikeV2(FAN, post, True, NOW))
    await _store(index, domain, LikeV2(FAN, post, False, NOW))
    assert await index.queries.like_state(FAN, post) == (on_id > off_id, NOW)


async def test_kind_groups_are_counted_digested_and_paged_by_id(
    index: FeedIndex, domain: Domain
) -> None:
    ids = sorted([
        await _store(index, domain, LikeV2(FAN, keccak(b"%d" % n), n % 2 == 0, NOW))
        for n in range(5)
    ])  # fmt: skip
    creator_key = keccak(b"likes creator")
    tomb = await _store(
        index, domain, Tombstone(address_of(creator_key), bytes(32), NOW), creator_key
    )
    await _store(index, domain, Follow(FAN, address_of(creator_key), True, NOW))
    assert await index.sync.kind_heads("likeV2") == {FAN: (5, group_digest(ids))}
    assert await index.sync.kind_heads("tombstone") == {
        address_of(creator_key): (1, group_digest([tomb]))
    }
    assert set(await index.sync.kind_heads("follow")) == {FAN}
    assert await index.sync.kind_heads("post") == {}, "posts have their own messages"
    assert await index.sync.kind_heads("comment2") == {}
    page = await index.sync.kind_range("likeV2", FAN, ids[1], 2)
    assert [digest(decode(w).record, domain) for w in page] == ids[2:4]
    assert await index.sync.kind_range("likeV2", FAN, ids[-1], 2) == []
    assert await index.sync.kind_range("nothing", FAN, bytes(32), 2) == []


async def test_a_version_4_index_gets_like_state_from_its_likes(
    tmp_path: Path, domain: Domain
) -> None:
    path = tmp_path / "feed.sqlite"
    db = connect(path)
    assert migrate(db, 4) == 4  # the layout of the index before unlike existed
    like = Like(FAN, bytes(range(32)), NOW)
    like_id = digest(like, domain)
    wire = b'{"v":1}'
    db.execute("INSERT INTO records(id, kind) VALUES (?, 'like')", (like_id,))
    db.execute(
        "INSERT INTO likes(actor, post, created_at, id, wire) VALUES (?, ?, ?, ?, ?)",
        (FAN, like.post, NOW, like_id, wire),
    )
    db.conn.close()
    async with FeedIndex(IndexOptions(path)) as index:
        assert await index.queries.like_state(FAN, like.post) == (True, NOW)
        await _store(index, domain, LikeV2(FAN, like.post, False, NOW + 1))
        assert await index.queries.like_state(FAN, like.post) == (False, NOW + 1)
        assert set(await index.sync.kind_heads("like")) == {FAN}
    db = connect(path)
    assert version(db) == LATEST
    db.conn.close()
