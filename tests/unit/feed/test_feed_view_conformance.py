"""One FeedView suite for the in-memory fake and the SQLite index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ports import FeedView
from peer.feed.records import (
    ZERO_ADDRESS,
    ZERO_ID,
    Comment,
    CommentPolicy,
    Profile,
    Record,
    Tombstone,
)
from peer.feed.testing import MemoryFeedView
from peer.feed.wire import Envelope, encode

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
KEY = keccak(b"conformance")


@dataclass
class Backend:
    view: FeedView
    add: Callable[[Envelope, bytes], Awaitable[None]]


@pytest.fixture(params=["memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        memory = MemoryFeedView()

        async def add_memory(envelope: Envelope, record_id: bytes) -> None:
            memory.add(envelope.record, record_id, encode(envelope))

        yield Backend(memory, add_memory)
        return
    index = FeedIndex(IndexOptions(tmp_path / "feed.sqlite"))
    await index.start()

    async def add_index(envelope: Envelope, record_id: bytes) -> None:
        await index.writes.store(envelope, record_id)

    yield Backend(index.view, add_index)
    await index.close()


async def _add(backend: Backend, domain: Domain, record: Record) -> bytes:
    record_id = digest(record, domain)
    await backend.add(sign_record(record, domain, KEY), record_id)
    return record_id


async def test_empty_view_knows_nothing(backend: Backend) -> None:
    assert not await backend.view.has_record(b"\x01" * 32)
    assert await backend.view.post_ids_at("0x" + "00" * 20, 1) == ()
    assert await backend.view.post_creator(b"\x01" * 32) is None
    assert await backend.view.profile_version("0x" + "00" * 20) is None


async def test_stored_posts_are_found_by_id_and_slot(backend: Backend, domain: Domain) -> None:
    log = CreatorLog(domain, KEY)
    envelope, post_id = log.next_post(MANIFEST, "one", 1)
    await backend.add(envelope, post_id)
    fork, fork_id = CreatorLog(domain, KEY).next_post(MANIFEST, "other one", 2)
    await backend.add(fork, fork_id)
    assert await backend.view.has_record(post_id)
    assert await backend.view.post_creator(post_id) == log.creator
    assert await backend.view.post_ids_at(log.creator, 1) == (post_id, fork_id)
    assert await backend.view.post_ids_at(log.creator, 2) == ()


async def test_profile_version_is_the_highest_stored(backend: Backend, domain: Domain) -> None:
    creator = CreatorLog(domain, KEY).creator
    profile_id = await _add(backend, domain, Profile(creator, "n", "", ZERO_ADDRESS, (), 4, 1))
    older_id = await _add(backend, domain, Profile(creator, "old", "", ZERO_ADDRESS, (), 2, 1))
    assert await backend.view.has_record(profile_id)
    assert await backend.view.has_record(older_id)
    assert await backend.view.profile_version(creator) == 4


async def test_comments_policy_and_withdrawal(backend: Backend, domain: Domain) -> None:
    log = CreatorLog(domain, KEY)
    envelope, post_id = log.next_post(MANIFEST, "one", 1)
    await backend.add(envelope, post_id)
    other = keccak(b"other author")
    view = backend.view
    assert await view.comment_count(post_id) == 0
    assert await view.comment_bytes() == 0
    assert await view.comment_policy(post_id) == 0
    comment = Comment(log.creator, post_id, ZERO_ID, "hello", 2)
    comment_id = await _add(backend, domain, comment)
    await _add(backend, domain, Comment(log.creator, post_id, comment_id, "again", 3))
    size = len(encode(sign_record(comment, domain, KEY)))
    assert await view.comment_info(comment_id) == (post_id, log.creator)
    assert await view.comment_info(b"\x02" * 32) is None
    assert await view.comment_count(post_id) == 2
    assert await view.comment_bytes() > size
    stranger = CommentPolicy(CreatorLog(domain, other).creator, post_id, 9, 1)
    await backend.add(sign_record(stranger, domain, other), digest(stranger, domain))
    assert await view.comment_policy(post_id) == 0, "only the post's creator sets the policy"
    await _add(backend, domain, CommentPolicy(log.creator, post_id, 7, 4))
    await _add(backend, domain, CommentPolicy(log.creator, post_id, 3, 3))  # older: no effect
    assert await view.comment_policy(post_id) == 7
    assert not await view.withdrawn(post_id)
    await _add(backend, domain, Tombstone(log.creator, post_id, 6))
    assert await view.withdrawn(post_id)
    assert await view.comment_count(post_id) == 0
    assert await view.comment_bytes() == 0
    assert await view.comment_info(comment_id) is None
    assert await view.has_record(comment_id), "a removed comment's id stays known"
    assert await view.withdrawn(b"\x05" * 32) is False
