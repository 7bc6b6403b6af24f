"""Notification grouping, read state and bounds (peer.social.notifications) on real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peer.social import notifications as n
from peer.social.notifications import NotificationStore

ME = "0x" + "aa" * 20
POST = "0x" + "01" * 32
T0 = 1_764_460_800


def actor(i: int) -> str:
    return f"0x{i:040x}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NotificationStore]:
    s = NotificationStore(tmp_path / "social" / "notifications.sqlite")
    s.open()
    yield s
    s.close()


async def test_a_flood_of_likes_from_fresh_addresses_is_one_entry(store: NotificationStore) -> None:
    for i in range(300):
        await store.add("like", POST, actor(i), T0 + i, {"title": "Cat"})
    items = await store.page(50)
    assert len(items) == 1
    (only,) = items
    assert (only.type, only.subject, only.count) == ("like", POST, 300)
    assert only.actors == (actor(299), actor(298), actor(297))  # the latest three
    assert (only.first_at, only.last_at) == (T0, T0 + 299)
    assert await store.unread() == 1


async def test_the_same_actor_twice_counts_once_but_trades_count_every_event(
    store: NotificationStore,
) -> None:
    assert (await store.add("follow", ME, actor(1), T0))[1] is True
    assert (await store.add("follow", ME, actor(1), T0 + 5))[1] is False
    await store.add("trade", "0xtoken", actor(1), T0, {"side": "buy"})
    await store.add("trade", "0xtoken", actor(1), T0 + 1, {"side": "sell"})
    by_type = {x.type: x for x in await store.page(10)}
    assert by_type["follow"].count == 1
    assert by_type["trade"].count == 2
    assert by_type["trade"].detail == {"side": "sell"}  # the latest event's detail


async def test_reading_closes_a_group_and_read_state_survives_a_reopen(
    tmp_path: Path, store: NotificationStore
) -> None:
    first, _ = await store.add("like", POST, actor(1), T0)
    await store.add("follow", ME, actor(2), T0)
    assert await store.unread() == 2
    assert await store.mark_read([first]) == 1
    second, _ = await store.add("like", POST, actor(3), T0 + 10)
    assert second != first  # a new group after the read one
    store.close()
    again = NotificationStore(tmp_path / "social" / "notifications.sqlite")
    again.open()
    try:
        items = {x.id: x for x in await again.page(10)}
        assert items[first].read is True
        assert items[second].read is False
        assert await again.unread() == 2
        await again.mark_read(None)
        assert await again.unread() == 0
    finally:
        again.close()


async def test_groups_are_per_subject_and_per_day(store: NotificationStore) -> None:
    await store.add("like", POST, actor(1), T0)
    await store.add("like", "0x" + "02" * 32, actor(1), T0)
    await store.add("like", POST, actor(2), T0 + n.GROUP_WINDOW_S + 1)  # a day later
    assert [x.count for x in await store.page(10)] == [1, 1, 1]


async def test_the_store_keeps_only_the_newest_rows(store: NotificationStore) -> None:
    for i in range(n.MAX_ROWS + 20):
        await store.add("post", actor(i), actor(i), T0 + i)
    items = await store.page(100)
    assert len(items) == 100
    assert items[0].subject == actor(n.MAX_ROWS + 19)
    total = await store.run(lambda db: db.execute("SELECT COUNT(*) FROM notifications").fetchone())
    assert total[0] == n.MAX_ROWS


async def test_unknown_types_are_refused(store: NotificationStore) -> None:
    with pytest.raises(ValueError, match="unknown notification type"):
        await store.add("poke", ME, actor(1), T0)
