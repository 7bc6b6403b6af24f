"""One contract for replication's ``Wants`` port, run against the fake and the real adapter.

``MemoryWants`` (the fake the replication unit tests use) and ``IndexWants`` (the daemon's
adapter over the feed index) must agree on what replication relies on: newest first, the limit,
the user's own manifests, withdrawn posts, and a ``data_version`` that moves when wants change.
Each implementation gets a small world builder that says the same things its own way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from peer.daemon.replication import IndexWants
from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.records import Follow, Tombstone
from peer.feed.signatures import address_of
from peer.replication.ports import Wants
from peer.replication.state import WantedPost
from peer.replication.testing import MemoryWants
from tokens.devnet import DEV_PRIVATE_KEYS

DOMAIN = Domain(31337, "0x" + "22" * 20)
MANIFEST = "bafkreic5wr2nbeasgwfl7bnqnsw77fxhfcvhqlndrrk3hhhkpof3laec44"
OWN_MANIFEST = "bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u"


def key(i: int) -> bytes:
    return bytes.fromhex(DEV_PRIVATE_KEYS[i].removeprefix("0x"))


ME = address_of(key(1))


class World(Protocol):
    """Builds a state of the feed and exposes the port over it."""

    wants: Wants

    async def followed_post(self, created_at: int) -> str: ...

    async def own_post(self, manifest: str, created_at: int) -> None: ...

    async def withdraw(self, post_id: str) -> None: ...


class MemoryWorld:
    def __init__(self) -> None:
        self.memory = MemoryWants()
        self.wants: Wants = self.memory
        self._n = 0

    async def followed_post(self, created_at: int) -> str:
        self._n += 1
        post_id = "0x" + f"{self._n:064x}"
        self.memory.posts.append(WantedPost(post_id, "0x" + "aa" * 20, MANIFEST, created_at))
        self.memory.version += 1
        return post_id

    async def own_post(self, manifest: str, created_at: int) -> None:
        self.memory.own.append(manifest)
        self.memory.version += 1

    async def withdraw(self, post_id: str) -> None:
        self.memory.withdrawn_ids.add(post_id)
        self.memory.posts = [p for p in self.memory.posts if p.post_id != post_id]
        self.memory.version += 1


class IndexWorld:
    def __init__(self, index: FeedIndex, path: Path) -> None:
        self.index = index
        self.creator = key(2)
        self.log = CreatorLog(DOMAIN, self.creator)
        self.own = CreatorLog(DOMAIN, key(1))
        self.adapter = IndexWants(path)
        self.wants: Wants = self.adapter
        self._followed = False

    async def _record(self, author: bytes, record: Follow | Tombstone) -> None:
        await self.index.writes.store(sign_record(record, DOMAIN, author), digest(record, DOMAIN))

    async def followed_post(self, created_at: int) -> str:
        if not self._followed:
            await self._record(key(1), Follow(ME, address_of(self.creator), True, 1))
            self._followed = True
        envelope, post_id = self.log.next_post(MANIFEST, f"clip at {created_at}", created_at)
        await self.index.writes.store(envelope, post_id)
        return "0x" + post_id.hex()

    async def own_post(self, manifest: str, created_at: int) -> None:
        envelope, post_id = self.own.next_post(manifest, "mine", created_at)
        await self.index.writes.store(envelope, post_id)

    async def withdraw(self, post_id: str) -> None:
        tombstone = Tombstone(address_of(self.creator), bytes.fromhex(post_id[2:]), 10_000)
        await self._record(self.creator, tombstone)


@pytest.fixture(params=["memory", "index"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    if request.param == "memory":
        yield MemoryWorld()
        return
    path = tmp_path / "feed.sqlite"
    async with FeedIndex(IndexOptions(path=path)) as index:
        made = IndexWorld(index, path)
        try:
            yield made
        finally:
            made.adapter.close()


async def test_wanted_is_newest_first_and_honours_the_limit(world: World) -> None:
    ids = [await world.followed_post(at) for at in (100, 300, 200)]
    got = world.wants.wanted(ME, 10)
    assert [p.post_id for p in got] == [ids[1], ids[2], ids[0]]
    assert [p.created_at for p in got] == [300, 200, 100]
    assert all(p.manifest == MANIFEST for p in got)
    assert world.wants.wanted(ME, 2) == got[:2]
    assert world.wants.wanted(ME, 0) == []


async def test_own_manifests_are_listed_and_never_wanted(world: World) -> None:
    await world.own_post(OWN_MANIFEST, 50)
    assert world.wants.own_manifests(ME) == [OWN_MANIFEST]
    assert world.wants.wanted(ME, 10) == []


async def test_a_withdrawn_post_is_reported_and_no_longer_wanted(world: World) -> None:
    keep = await world.followed_post(100)
    gone = await world.followed_post(200)
    before = world.wants.data_version()
    await world.withdraw(gone)
    assert world.wants.data_version() != before, "a change of wants moves data_version"
    assert world.wants.withdrawn(gone)
    assert not world.wants.withdrawn(keep)
    assert [p.post_id for p in world.wants.wanted(ME, 10)] == [keep]
