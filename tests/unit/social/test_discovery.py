"""Discovery queries (peer.social.discovery) on a real feed index: tag pages, trending inputs,
creators to follow, shared display names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.records import ZERO_ADDRESS, Follow, Like, Profile, Record
from peer.feed.signatures import address_of
from peer.social import discovery
from peer.social.trending import rank

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
AVATAR = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
NOW = 1_764_460_800
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def key(n: int) -> bytes:
    return keccak(f"social-{n}".encode())


class World:
    def __init__(self, index: FeedIndex) -> None:
        self.index = index
        self.logs = [CreatorLog(DOMAIN, key(n), ZERO_ADDRESS) for n in range(3)]

    def creator(self, n: int) -> str:
        return self.logs[n].creator

    async def post(self, n: int, title: str, at: int, tags: tuple[str, ...] = ()) -> bytes:
        envelope, post_id = self.logs[n].next_post(MANIFEST, title, at, tags=tags)
        await self.index.writes.store(envelope, post_id)
        return post_id

    async def record(self, record: Record, signer: int) -> None:
        await self.index.writes.store(
            sign_record(record, DOMAIN, key(signer)), digest(record, DOMAIN)
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    index = FeedIndex(IndexOptions(tmp_path / "feed.sqlite"))
    await index.start()
    yield World(index)
    await index.close()


async def test_a_tag_page_lists_exactly_the_tagged_posts_newest_first(world: World) -> None:
    await world.post(0, "cat one", NOW - 30, ("Cats", "funny"))
    await world.post(1, "dog", NOW - 20, ("dogs",))
    await world.post(1, "cat two", NOW - 10, ("cats",))
    await world.post(0, "catsup", NOW, ("catsup",))  # a longer tag is another tag
    first = await world.index.queries.read(lambda db: discovery.tag_page(db, "cats", None, 1))
    assert [i.title for i in first.items] == ["cat two"]
    assert first.next_cursor is not None
    rest = await world.index.queries.read(
        lambda db: discovery.tag_page(db, "CATS", first.next_cursor, 5)
    )
    assert [i.title for i in rest.items] == ["cat one"]
    assert rest.next_cursor is None


async def test_trending_candidates_count_recent_likes_and_rank(world: World) -> None:
    old = await world.post(0, "old", NOW - 8 * 86400)  # outside the candidate window
    liked = await world.post(0, "liked", NOW - 3600)
    plain = await world.post(1, "plain", NOW - 60)
    for signer in (1, 2):
        await world.record(Like(address_of(key(signer)), liked, NOW - 100), signer)
    await world.record(Like(address_of(key(2)), plain, NOW - 3 * 86400), 2)  # too old to count
    found = await world.index.queries.read(lambda db: discovery.trending_candidates(db, NOW))
    by_id = {c.signals.post_id: c.signals.likes for c in found}
    assert old not in by_id
    assert by_id == {liked: 2, plain: 0}
    assert rank([c.signals for c in found], NOW) == [liked, plain]
    items = await world.index.queries.read(lambda db: discovery.items_by_id(db, [plain, liked]))
    assert [i.title for i in items] == ["plain", "liked"]


async def test_creators_to_follow_rank_by_followers_and_skip_the_followed(world: World) -> None:
    for n in range(3):
        await world.post(n, f"by {n}", NOW)
    viewer = world.creator(0)
    await world.record(Follow(world.creator(2), world.creator(1), True, NOW), 2)
    found = await world.index.queries.read(
        lambda db: discovery.suggested_creators(db, viewer, {}, 10)
    )
    assert [s.address for s in found] == [world.creator(1), world.creator(2)]
    assert found[0].followers == 1
    await world.record(Follow(viewer, world.creator(1), True, NOW), 0)
    found = await world.index.queries.read(
        lambda db: discovery.suggested_creators(db, viewer, {}, 10)
    )
    assert [s.address for s in found] == [world.creator(2)]


async def test_shared_display_names_and_avatars_are_reported(world: World) -> None:
    for n in range(3):
        name = "Ana" if n < 2 else "Bo"
        avatar = AVATAR if n == 0 else ""
        profile = Profile(world.creator(n), name, avatar, ZERO_ADDRESS, (), 1, NOW)
        await world.record(profile, n)
    assert await world.index.queries.read(
        lambda db: discovery.creator_extras(db, world.creator(0))
    ) == (
        AVATAR,
        True,
    )
    assert await world.index.queries.read(
        lambda db: discovery.creator_extras(db, world.creator(2))
    ) == (
        "",
        False,
    )
