"""The feed's read-only view: what the local user wants kept (follows, likes, tombstones, mutes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import FeedIndexError
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.reader import IndexReader
from peer.feed.records import Follow, Like, Tombstone
from peer.feed.signatures import address_of
from tokens.devnet import DEV_PRIVATE_KEYS

DOMAIN = Domain(31337, "0x" + "22" * 20)
CID = "bafkreic5wr2nbeasgwfl7bnqnsw77fxhfcvhqlndrrk3hhhkpof3laec44"


def key(i: int) -> bytes:
    return bytes.fromhex(DEV_PRIVATE_KEYS[i].removeprefix("0x"))


async def test_followed_and_liked_posts_are_wanted_own_withdrawn_and_muted_are_not(
    tmp_path: Path,
) -> None:
    me, alice, bob, carol = key(1), key(2), key(3), key(4)
    me_addr = address_of(me)
    path = tmp_path / "feed.sqlite"
    async with FeedIndex(IndexOptions(path=path)) as index:
        logs = {k: CreatorLog(DOMAIN, k) for k in (me, alice, bob, carol)}
        ids: dict[str, str] = {}

        async def post(author: bytes, name: str, at: int) -> bytes:
            envelope, post_id = logs[author].next_post(CID, name, at)
            await index.writes.store(envelope, post_id)
            ids[name] = "0x" + post_id.hex()
            return post_id

        async def record(author: bytes, rec: Follow | Like | Tombstone) -> None:
            envelope = sign_record(rec, DOMAIN, author)
            await index.writes.store(envelope, digest(rec, DOMAIN))

        await post(me, "mine", 10)
        await post(alice, "alice-1", 11)
        withdrawn = await post(alice, "alice-2", 12)
        liked = await post(bob, "bob-liked", 13)
        await post(bob, "bob-other", 14)
        await post(carol, "carol", 15)
        await record(me, Follow(me_addr, address_of(alice), True, 1))
        await record(me, Follow(me_addr, address_of(carol), True, 1))
        await record(me, Like(me_addr, liked, 1))
        await record(alice, Tombstone(address_of(alice), withdrawn, 2))
        await index.writes.mute(address_of(carol))

        wants = IndexReader(path)
        try:
            got = wants.wanted_by(me_addr, 100)
            assert [w.post_id for w in got] == [ids["bob-liked"], ids["alice-1"]]
            assert got[0].created_at == 13
            assert got[0].manifest == CID
            assert wants.wanted_by(me_addr, 1) == got[:1]
            assert wants.withdrawn(ids["alice-2"])
            assert not wants.withdrawn(ids["alice-1"])
            assert wants.manifests_of(me_addr) == [CID]
            version = wants.data_version()
            await record(me, Follow(me_addr, address_of(alice), False, 3))
            assert wants.data_version() != version, "a feed change is seen"
            assert [w.post_id for w in wants.wanted_by(me_addr, 100)] == [ids["bob-liked"]]
        finally:
            wants.close()


def test_a_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedIndexError, match="cannot read the feed index"):
        IndexReader(tmp_path / "nope.sqlite")


async def test_an_index_not_yet_migrated_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "feed.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 2")
    with pytest.raises(FeedIndexError, match="schema version 2; reading it needs 4"):
        IndexReader(path)
