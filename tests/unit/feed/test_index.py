"""The feed index against real SQLite: storing, every query, pagination, lists, forks."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from typing import Any

import pytest
from eth_utils.crypto import keccak

from peer.feed import ingest
from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import CursorError, FeedIndexError
from peer.feed.index import FeedIndex
from peer.feed.ingest import StoreResult
from peer.feed.queries import Page
from peer.feed.records import ZERO_ADDRESS, Follow, Like, Post, Profile, Record, Tombstone
from peer.feed.signatures import address_of
from peer.feed.wire import decode, encode

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
NOW = 1_764_460_800
VIEWER_KEY = keccak(b"viewer")
VIEWER = address_of(VIEWER_KEY)


def _key(n: int) -> bytes:
    return keccak(f"creator-{n}".encode())


class World:
    """Creators with logs, and helpers to sign and store their records."""

    def __init__(self, index: FeedIndex, domain: Domain) -> None:
        self.index = index
        self.domain = domain
        self.logs = [CreatorLog(domain, _key(n), ZERO_ADDRESS) for n in range(4)]

    async def post(self, n: int, title: str, at: int, **kwargs: Any) -> bytes:
        envelope, post_id = self.logs[n].next_post(MANIFEST, title, at, **kwargs)
        assert await self.index.writes.store(envelope, post_id) is StoreResult.STORED
        return post_id

    async def record(self, record: Record, key: bytes) -> StoreResult:
        envelope = sign_record(record, self.domain, key)
        return await self.index.writes.store(envelope, digest(record, self.domain))

    async def follow(self, n: int, on: bool = True, at: int = NOW) -> StoreResult:
        return await self.record(Follow(VIEWER, self.logs[n].creator, on, at), VIEWER_KEY)

    def creator(self, n: int) -> str:
        return self.logs[n].creator


@pytest.fixture
def world(index: FeedIndex, domain: Domain) -> World:
    return World(index, domain)


def _titles(page: Page) -> list[str]:
    return [item.title for item in page.items]


async def _all_pages(fetch: Any, limit: int) -> list[str]:
    titles: list[str] = []
    cursor = None
    for _ in range(100):
        page = await fetch(cursor, limit)
        titles.extend(_titles(page))
        cursor = page.next_cursor
        if cursor is None:
            return titles
    raise AssertionError("pagination did not end")


async def test_stored_post_is_listed_and_known(world: World, index: FeedIndex) -> None:
    post_id = await world.post(0, "hello", NOW, tags=["dance"], duration_ms=1500)
    assert await index.view.has_record(post_id)
    assert await index.view.post_creator(post_id) == world.creator(0)
    assert await index.view.post_ids_at(world.creator(0), 1) == (post_id,)
    item = await index.queries.post(post_id)
    assert item is not None
    assert (item.title, item.tags, item.duration_ms, item.seq) == ("hello", ("dance",), 1500, 1)
    assert await index.sync.heads() == {world.creator(0): (1, post_id)}


async def test_storing_twice_is_a_duplicate_and_changes_nothing(
    world: World, index: FeedIndex
) -> None:
    envelope, post_id = world.logs[0].next_post(MANIFEST, "once", NOW)
    assert await index.writes.store(envelope, post_id) is StoreResult.STORED
    assert await index.writes.store(envelope, post_id) is StoreResult.DUPLICATE
    assert _titles(await index.queries.creator(world.creator(0))) == ["once"]


async def test_premium_post_keeps_uint256_balance_and_key_servers(
    world: World, index: FeedIndex
) -> None:
    post_id = await world.post(
        0, "gated", NOW, premium=True, min_balance=2**200, key_servers=["12D3KooWx"]
    )
    item = await index.queries.post(post_id)
    assert item is not None
    assert (item.premium, item.min_balance, item.key_servers) == (True, 2**200, ("12D3KooWx",))


async def test_for_you_puts_recent_followed_posts_first(world: World, index: FeedIndex) -> None:
    await world.post(0, "followed old", NOW - 5000)
    await world.post(1, "other newest", NOW)
    await world.post(0, "followed recent", NOW - 100)
    await world.post(1, "other older", NOW - 50)
    await world.follow(0)
    page = await index.queries.for_you(VIEWER, NOW)
    assert _titles(page) == ["followed recent", "other newest", "other older", "followed old"]
    anonymous = await index.queries.for_you(None, NOW)
    assert _titles(anonymous) == ["other newest", "other older", "followed recent", "followed old"]


async def test_for_you_pages_across_both_phases_without_gaps(
    world: World, index: FeedIndex
) -> None:
    expected_followed = [f"f{i}" for i in range(7)]
    expected_other = [f"o{i}" for i in range(8)]
    for i in range(7):
        await world.post(0, f"f{i}", NOW - 10 - i)
    for i in range(8):
        await world.post(1, f"o{i}", NOW - 20 - i)
    await world.follow(0)
    for limit in (1, 3, 7, 20):
        titles = await _all_pages(
            lambda c, n: world.index.queries.for_you(VIEWER, NOW, c, n), limit
        )
        assert titles == expected_followed + expected_other, limit


async def test_following_lists_only_followed_creators_until_unfollowed(
    world: World, index: FeedIndex
) -> None:
    await world.post(0, "a", NOW - 1)
    await world.post(1, "b", NOW - 2)
    await world.post(2, "c", NOW - 3)
    await world.follow(0)
    await world.follow(2)
    assert _titles(await index.queries.following(VIEWER)) == ["a", "c"]
    assert await index.queries.followed(VIEWER) == sorted([world.creator(0), world.creator(2)])
    assert await world.follow(2, on=False, at=NOW + 1) is StoreResult.STORED
    assert _titles(await index.queries.following(VIEWER)) == ["a"]
    await world.follow(2, on=True, at=NOW - 10)  # an older record does not win
    assert _titles(await index.queries.following(VIEWER)) == ["a"]


async def test_creator_page_is_highest_seq_first_and_paginates(
    world: World, index: FeedIndex
) -> None:
    for i in range(10):
        await world.post(2, f"p{i + 1}", NOW - i * 7 % 5)
    await world.post(1, "someone else", NOW)
    titles = await _all_pages(lambda c, n: index.queries.creator(world.creator(2), c, n), 4)
    assert titles == [f"p{i}" for i in range(10, 0, -1)]


async def test_search_matches_title_tags_and_creator_name(world: World, index: FeedIndex) -> None:
    await world.post(0, "Sunset over the bay", NOW - 3, tags=["travel"])
    await world.post(1, "Kitchen hacks", NOW - 2, tags=["cooking", "quick"])
    await world.post(1, "Sunday brunch", NOW - 1, tags=["cooking"])
    await world.record(Profile(world.creator(1), "Chef Ana", "", ZERO_ADDRESS, (), 1, NOW), _key(1))
    assert _titles(await index.queries.search("sunset")) == ["Sunset over the bay"]
    assert _titles(await index.queries.search("cooking")) == ["Sunday brunch", "Kitchen hacks"]
    assert _titles(await index.queries.search("sun")) == []
    assert _titles(await index.queries.search("sun", prefix=True)) == [
        "Sunday brunch",
        "Sunset over the bay",
    ]
    assert _titles(await index.queries.search("cooking sun", prefix=True)) == ["Sunday brunch"]
    assert _titles(await index.queries.search("sun cooking", prefix=True)) == []
    assert _titles(await index.queries.search("chef")) == ["Sunday brunch", "Kitchen hacks"]
    assert _titles(await index.queries.search("ana quick")) == ["Kitchen hacks"]
    assert _titles(await index.queries.search('"); DROP TABLE posts; --')) == []
    assert (await index.queries.search("  ...  ")).items == ()
    later = await world.post(1, "Cooking late", NOW)
    item = await index.queries.post(later)
    assert item is not None
    assert item.creator_name == "Chef Ana"
    assert _titles(await index.queries.search("chef", limit=1)) == ["Cooking late"]
    titles = await _all_pages(lambda c, n: index.queries.search("chef", c, n), 1)
    assert titles == ["Cooking late", "Sunday brunch", "Kitchen hacks"]


async def test_profile_keeps_only_the_highest_version(world: World, index: FeedIndex) -> None:
    creator = world.creator(0)
    await world.record(Profile(creator, "v2", "", ZERO_ADDRESS, (), 2, NOW), _key(0))
    await world.record(Profile(creator, "v1", "", ZERO_ADDRESS, (), 1, NOW), _key(0))
    assert await index.view.profile_version(creator) == 2
    assert await index.sync.profile_heads() == {creator: 2}
    info = await index.queries.creator_info(creator)
    assert info is not None
    assert info.name == "v2"
    wire = await index.queries.profile_wire(creator)
    assert wire is not None
    profile = decode(wire).record
    assert isinstance(profile, Profile)
    assert profile.name == "v2"


async def test_likes_are_counted_once_per_actor(world: World, index: FeedIndex) -> None:
    post_id = await world.post(0, "likeable", NOW)
    await world.record(Like(VIEWER, post_id, NOW), VIEWER_KEY)
    await world.record(Like(VIEWER, post_id, NOW + 1), VIEWER_KEY)
    await world.record(Like(world.creator(1), post_id, NOW), _key(1))
    item = await index.queries.post(post_id)
    assert item is not None
    assert item.likes == 2


async def test_mute_and_block_apply_to_every_query(world: World, index: FeedIndex) -> None:
    await world.post(0, "zero cats", NOW - 1)
    muted_post = await world.post(1, "one cats", NOW - 2)
    await world.follow(0)
    await world.follow(1)

    async def everywhere() -> list[list[str]]:
        return [
            _titles(await index.queries.for_you(VIEWER, NOW)),
            _titles(await index.queries.following(VIEWER)),
            _titles(await index.queries.search("cats")),
            _titles(await index.queries.creator(world.creator(1))),
        ]

    by_time, by_arrival = ["zero cats", "one cats"], ["one cats", "zero cats"]
    both = [by_time, by_time, by_arrival, ["one cats"]]
    assert await everywhere() == both
    assert await index.writes.mute(world.creator(1))
    assert await everywhere() == [["zero cats"]] * 3 + [[]]
    assert await index.queries.post(muted_post) is None
    assert await index.writes.mute(world.creator(1), on=False)
    assert await everywhere() == both
    assert await index.writes.block(world.creator(0))
    assert await index.writes.is_blocked(world.creator(0))
    assert await everywhere() == [["one cats"]] * 4
    assert await index.writes.listed("blocked") == [world.creator(0)]
    assert not await index.writes.block(world.creator(0))  # already listed


async def test_tombstone_hides_a_post_but_the_log_keeps_its_place(
    world: World, index: FeedIndex
) -> None:
    first = await world.post(0, "keep", NOW - 2)
    second = await world.post(0, "withdraw me", NOW - 1)
    await world.record(Tombstone(world.creator(0), second, NOW), _key(0))
    assert _titles(await index.queries.creator(world.creator(0))) == ["keep"]
    assert _titles(await index.queries.search("withdraw")) == []
    assert _titles(await index.queries.for_you(None, NOW)) == ["keep"]
    assert await index.sync.heads() == {world.creator(0): (2, second)}
    assert len(await index.sync.log_range(world.creator(0), 1)) == 2
    assert await index.queries.post(first) is not None
    assert await index.view.withdrawn(second)
    assert not await index.view.withdrawn(first)


async def test_tombstone_arriving_before_its_post_hides_it(
    world: World, index: FeedIndex, domain: Domain
) -> None:
    envelope, post_id = world.logs[0].next_post(MANIFEST, "early tombstone", NOW)
    await world.record(Tombstone(world.creator(0), post_id, NOW), _key(0))
    assert await index.view.withdrawn(post_id)
    await index.writes.store(envelope, post_id)
    assert await index.view.withdrawn(post_id)
    assert _titles(await index.queries.creator(world.creator(0))) == []
    assert _titles(await index.queries.search("tombstone")) == []


async def test_tombstone_by_someone_else_hides_nothing(world: World, index: FeedIndex) -> None:
    post_id = await world.post(0, "mine", NOW)
    await world.record(Tombstone(world.creator(1), post_id, NOW), _key(1))
    assert _titles(await index.queries.creator(world.creator(0))) == ["mine"]
    assert not await index.view.withdrawn(post_id)


async def test_fork_stores_both_posts_and_marks_the_creator(
    world: World, index: FeedIndex, domain: Domain
) -> None:
    first = await world.post(3, "seq1 A", NOW - 1)
    other = CreatorLog(domain, _key(3), ZERO_ADDRESS)
    envelope, second = other.next_post(MANIFEST, "seq1 B", NOW)
    assert await index.writes.store(envelope, second) is StoreResult.FORK
    assert set(await index.view.post_ids_at(world.creator(3), 1)) == {first, second}
    page = await index.queries.creator(world.creator(3))
    assert sorted(_titles(page)) == ["seq1 A", "seq1 B"]
    assert all(item.creator_forked for item in page.items)
    info = await index.queries.creator_info(world.creator(3))
    assert info is not None
    assert info.forked
    assert info.posts == 2
    assert await index.sync.forks(world.creator(3)) == sorted([(1, first), (1, second)])
    assert len(await index.sync.log_range(world.creator(3), 1)) == 2


async def test_log_range_serves_wire_records_in_seq_order(world: World, index: FeedIndex) -> None:
    for i in range(5):
        await world.post(0, f"s{i + 1}", NOW + i)
    wires = await index.sync.log_range(world.creator(0), 3, limit=2)
    records = [decode(wire).record for wire in wires]
    assert [r.seq for r in records if isinstance(r, Post)] == [3, 4]


async def test_new_posts_do_not_shift_a_cursor(world: World, index: FeedIndex) -> None:
    for i in range(6):
        await world.post(1, f"old{i}", NOW - 100 - i)
    first = await index.queries.for_you(None, NOW, limit=3)
    await world.post(2, "brand new", NOW)
    assert first.next_cursor is not None
    second = await index.queries.for_you(None, NOW, first.next_cursor, 3)
    assert _titles(first) + _titles(second) == [f"old{i}" for i in range(6)]


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WyJzZWFyY2giLDFd", "WyJmb3JfeW91Il0"])
async def test_malformed_or_foreign_cursor_is_refused(index: FeedIndex, cursor: str) -> None:
    with pytest.raises(CursorError):
        await index.queries.following(VIEWER, cursor)


async def test_uint64_values_beyond_sqlite_range_are_stored(
    world: World, index: FeedIndex, domain: Domain
) -> None:
    post = Post(
        world.creator(0),
        ZERO_ADDRESS,
        2**64 - 1,
        b"\x01" * 32,
        MANIFEST,
        "huge",
        (),
        2**64 - 1,
        NOW,
        False,
        0,
        (),
    )
    envelope = sign_record(post, domain, _key(0))
    assert await index.writes.store(envelope, digest(post, domain)) is StoreResult.STORED
    wires = await index.sync.log_range(world.creator(0), 2**64 - 1)
    assert wires == [encode(envelope)]
    assert replace(post) == decode(wires[0]).record


async def test_closed_index_refuses_work(index: FeedIndex) -> None:
    await index.close()
    with pytest.raises(FeedIndexError, match="closed"):
        await index.view.has_record(b"\x00" * 32)
    with pytest.raises(FeedIndexError, match="closed"):
        await index.writes.mute(VIEWER)


async def test_stores_issued_together_share_one_transaction(
    index: FeedIndex, domain: Domain
) -> None:
    log = CreatorLog(domain, _key(0), ZERO_ADDRESS)
    page = [log.next_post(MANIFEST, f"clip {i}", NOW + i) for i in range(20)]
    before = index.writes.transactions
    results = await asyncio.gather(*(index.writes.store(e, post_id) for e, post_id in page))
    assert results == [StoreResult.STORED] * 20
    assert index.writes.transactions == before + 1
    assert (await index.sync.heads())[log.creator] == (20, page[-1][1])
    again = await asyncio.gather(*(index.writes.store(e, post_id) for e, post_id in page[:3]))
    assert again == [StoreResult.DUPLICATE] * 3


async def test_a_failing_store_fails_only_its_own_caller(
    index: FeedIndex, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = CreatorLog(domain, _key(1), ZERO_ADDRESS)
    page = [log.next_post(MANIFEST, f"clip {i}", NOW + i) for i in range(5)]
    bad_id = page[2][1]
    real_store = ingest.store

    def store(db: Any, envelope: Any, record_id: bytes, wire: bytes, at: int) -> StoreResult:
        result = real_store(db, envelope, record_id, wire, at)
        if record_id == bad_id:  # fails after writing: its rows must be rolled back
            raise sqlite3.IntegrityError("disk says no")
        return result

    monkeypatch.setattr(ingest, "store", store)
    results = await asyncio.gather(
        *(index.writes.store(e, post_id) for e, post_id in page), return_exceptions=True
    )
    assert [type(r) for r in results] == [StoreResult] * 2 + [FeedIndexError] + [StoreResult] * 2
    assert "disk says no" in str(results[2])
    assert not await index.view.has_record(bad_id)
    assert await index.view.post_ids_at(log.creator, 2) == (page[1][1],)
    assert await index.view.post_ids_at(log.creator, 3) == ()
    assert await index.view.post_ids_at(log.creator, 4) == (page[3][1],)


async def test_a_cancelled_store_does_not_disturb_the_others(
    index: FeedIndex, domain: Domain
) -> None:
    log = CreatorLog(domain, _key(2), ZERO_ADDRESS)
    page = [log.next_post(MANIFEST, f"clip {i}", NOW + i) for i in range(3)]
    tasks = [asyncio.ensure_future(index.writes.store(e, post_id)) for e, post_id in page]
    await asyncio.sleep(0)  # every store is queued
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert done[0] is StoreResult.STORED
    assert done[2] is StoreResult.STORED
    assert isinstance(done[1], asyncio.CancelledError)


async def test_slots_asked_together_are_answered_each_with_its_own_posts(
    index: FeedIndex, domain: Domain
) -> None:
    log = CreatorLog(domain, _key(3), ZERO_ADDRESS)
    page = [log.next_post(MANIFEST, f"clip {i}", NOW + i) for i in range(3)]
    rival_log = CreatorLog(domain, _key(3), ZERO_ADDRESS, seq=1, head=page[0][1])
    rival, rival_id = rival_log.next_post(MANIFEST, "the other seq 2", NOW)
    other = CreatorLog(domain, _key(0), ZERO_ADDRESS)
    other_post, other_id = other.next_post(MANIFEST, "seq 1 of another creator", NOW)
    for envelope, post_id in [*page, (rival, rival_id), (other_post, other_id)]:
        await index.writes.store(envelope, post_id)
    slots = [(log.creator, 1), (log.creator, 2), (log.creator, 9), (other.creator, 1)]
    answers = await asyncio.gather(*(index.view.post_ids_at(c, s) for c, s in slots))
    assert answers == [(page[0][1],), (page[1][1], rival_id), (), (other_id,)]
