"""Identity file handling and the bounded subscriber queues."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from peer.p2p.errors import IdentityError
from peer.p2p.identity import load_identity, load_or_create_identity, peer_id_of
from peer.p2p.queues import BoundedFeed


def test_identity_is_created_with_mode_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "p2p" / "identity.key"
    created = load_or_create_identity(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert peer_id_of(load_or_create_identity(path)) == peer_id_of(created)
    assert peer_id_of(created).startswith("12D3KooW")  # Ed25519 identity
    assert [p.name for p in path.parent.iterdir()] == ["identity.key"]  # no temp file left


def test_corrupt_identity_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    path.write_bytes(b"\x08\x01garbage")
    with pytest.raises(IdentityError, match="corrupt"):
        load_or_create_identity(path)
    assert path.read_bytes() == b"\x08\x01garbage"


def test_unreadable_identity_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="cannot read"):
        load_identity(tmp_path)  # a directory


async def test_feed_drops_the_oldest_when_full_and_counts_it() -> None:
    feed: BoundedFeed[int] = BoundedFeed(3, None)
    for item in range(5):
        feed.push(item)
    assert feed.dropped == 2
    assert [await feed.get() for _ in range(3)] == [2, 3, 4]


async def test_feed_wakes_a_waiting_consumer_and_ends_iteration_on_close() -> None:
    closed: list[bool] = []

    async def on_close() -> None:
        closed.append(True)

    feed: BoundedFeed[str] = BoundedFeed(10, on_close)
    waiter = asyncio.create_task(feed.get())
    await asyncio.sleep(0)
    feed.push("x")
    assert await waiter == "x"
    feed.push("y")
    await feed.close()
    assert closed == [True]
    assert [item async for item in feed] == ["y"]  # what was queued is still delivered
    feed.push("z")  # ignored after close
    with pytest.raises(StopAsyncIteration):
        await feed.get()


def test_feed_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedFeed(0, None)
