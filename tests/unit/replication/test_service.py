"""The replication worker over in-memory stores: pins, budget, eviction, caps, retries, restart."""

from __future__ import annotations

import os

from support.replication_rig import ME, Clip, Rig, add_clip

from peer.events import ReplicationEvicted, ReplicationFailed, ReplicationPinned
from peer.replication.state import WantedPost
from storage.media.manifest import MAX_MANIFEST_BYTES


async def test_a_wanted_post_is_fetched_and_pinned_whole(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 100)
    rig.wants.posts = [clip.post]
    service = rig.build(budget=10**6)
    await service.step()
    assert await rig.pinned(clip)
    assert rig.events == [ReplicationPinned("0x01", clip.post.creator, clip.size)]
    status = service.status()
    assert status == {
        "enabled": True,
        "budget_bytes": 10**6,
        "used_bytes": clip.size,
        "pinned_posts": 1,
        "queued": 0,
        "failed": 0,
        "evicted": 0,
        "last_error": None,
    }
    rig.blocks.online = False  # everything is local now: the clip reads without the network
    for cid in clip.cids[1:]:
        assert len(await rig.local.read_range(cid, 0, 10**6)) > 0


async def test_a_restart_neither_fetches_again_nor_forgets(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 100)
    rig.wants.posts = [clip.post]
    await rig.build(budget=10**6).step()
    fetched = rig.blocks.fetched_blocks
    restarted = rig.build(budget=10**6)
    await restarted.start()
    assert restarted.status()["pinned_posts"] == 1
    await restarted.stop()
    await restarted.step()
    assert rig.blocks.fetched_blocks == fetched
    assert rig.kinds() == ["replication.pinned"]


async def test_the_budget_holds_and_the_oldest_post_is_evicted_first(rig: Rig) -> None:
    clips = [await add_clip(rig.remote, f"0x0{i}", 100 + i, (4000,)) for i in range(3)]
    budget = clips[0].size * 2 + 10
    rig.wants.posts = [c.post for c in clips]
    service = rig.build(budget=budget)
    await service.step()
    assert [await rig.pinned(c) for c in clips] == [False, True, True]
    newest = await add_clip(rig.remote, "0x09", 200, (4000,))
    rig.wants.posts.append(newest.post)
    await service.step()
    assert [await rig.pinned(c) for c in [*clips, newest]] == [False, False, True, True]
    assert ReplicationEvicted("0x01", "budget", clips[1].size) in rig.events
    assert service.status()["used_bytes"] <= budget
    assert service.status()["evicted"] == 1
    # Evicted blocks are collected: the store holds only what is pinned.
    usage = await rig.local.usage()
    assert usage.pins == 6


async def test_own_content_is_never_unpinned_even_when_a_replicated_post_shares_it(
    rig: Rig,
) -> None:
    mine = await add_clip(rig.local, "0xaa", 50, creator=ME)  # published here: pinned
    rig.wants.own = [mine.post.manifest]
    # Another creator's post points at my manifest (a repost) and is wanted and replicated.
    repost = WantedPost("0x02", mine.post.creator, mine.post.manifest, 60)
    rig.wants.posts = [repost]
    service = rig.build(budget=10**6)
    await service.step()
    assert service.status()["pinned_posts"] == 1
    rig.wants.posts = []  # unfollowed: the repost is released
    await service.step()
    assert any(isinstance(e, ReplicationEvicted) for e in rig.events)
    assert await rig.pinned(mine)
    rig.blocks.online = False
    assert len(await rig.local.read_range(mine.cids[2], 0, 10**6)) == 3000


async def test_replication_never_unpins_a_pin_it_did_not_make(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 100)
    poster = clip.cids[1]
    await rig.blocks.get_block(poster)
    await rig.local.pin(poster)  # the user pinned the poster by hand before
    rig.wants.posts = [clip.post]
    service = rig.build(budget=10**6)
    await service.step()
    assert await rig.pinned(clip)
    rig.wants.posts, rig.wants.withdrawn_ids = [], {"0x01"}
    await service.step()
    assert ReplicationEvicted("0x01", "withdrawn", clip.size) in rig.events
    assert await rig.local.is_pinned(poster)
    assert not await rig.local.is_pinned(clip.cids[2])
    assert service.status()["pinned_posts"] == 0


async def test_a_withdrawn_post_is_unpinned(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 100)
    rig.wants.posts = [clip.post]
    service = rig.build(budget=10**6)
    await service.step()
    rig.wants.posts, rig.wants.withdrawn_ids = [], {"0x01"}
    await service.step()
    assert rig.events[-1] == ReplicationEvicted("0x01", "withdrawn", clip.size)
    assert not any([await rig.local.is_pinned(cid) for cid in clip.cids])
    assert (await rig.local.usage()).blocks == 0


async def test_an_oversized_manifest_is_refused_before_anything_else_is_fetched(rig: Rig) -> None:
    big = await rig.remote.add_bytes(os.urandom(MAX_MANIFEST_BYTES + 1))
    rig.wants.posts = [
        WantedPost("0x01", "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", str(big), 1)
    ]
    service = rig.build(budget=10**9)
    await service.step()
    (event,) = rig.events
    assert isinstance(event, ReplicationFailed)
    assert event.permanent
    assert "cap" in event.error
    assert rig.blocks.fetched_blocks == 1, "only the root block was read"
    assert service.status()["failed"] == 1
    await service.step()
    assert rig.blocks.fetched_blocks == 1, "a refused manifest is not read again"


async def test_a_manifest_that_is_not_a_manifest_or_names_another_creator_is_refused(
    rig: Rig,
) -> None:
    junk = await rig.remote.add_bytes(b'{"hello": "world"}')
    other = await add_clip(rig.remote, "0x02", 2)
    rig.wants.posts = [
        WantedPost("0x01", other.post.creator, str(junk), 1),
        WantedPost("0x02", ME, other.post.manifest, 2),
    ]
    service = rig.build(budget=10**9)
    await service.step()
    errors = {e.post_id: e.error for e in rig.events if isinstance(e, ReplicationFailed)}
    assert "invalid" in errors["0x01"]
    assert "names creator" in errors["0x02"]
    assert service.status()["pinned_posts"] == 0


async def test_a_rendition_larger_than_declared_is_refused(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 1, (600_000,), declared=lambda n: n - 1)
    rig.wants.posts = [clip.post]
    service = rig.build(budget=10**9)
    await service.step()
    (event,) = [e for e in rig.events if isinstance(e, ReplicationFailed)]
    assert event.permanent
    assert "declares" in event.error
    assert rig.blocks.fetched_bytes < 10_000, "refused at the rendition's root block"
    assert not await rig.local.is_pinned(clip.cids[2])


async def test_a_clip_larger_than_the_budget_is_not_fetched(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 1, (5000,))
    rig.wants.posts = [clip.post]
    service = rig.build(budget=clip.size - 1)
    await service.step()
    assert service.status()["pinned_posts"] == 0
    assert rig.blocks.fetched_blocks == 1, "only the manifest was read"
    assert "exceeds the budget" in (rig.state.get("0x01").error or "")  # type: ignore[union-attr]


async def test_unavailable_content_is_retried_with_backoff(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 1)
    rig.wants.posts = [clip.post]
    rig.blocks.online = False
    service = rig.build(budget=10**9, retry_base_s=10.0)
    await service.step()
    (failed,) = rig.events
    assert isinstance(failed, ReplicationFailed)
    assert not failed.permanent
    record = rig.state.get("0x01")  # type: ignore[union-attr]
    assert record is not None
    assert record.next_try == rig.now[0] + 10.0
    rig.blocks.online = True
    await service.step()
    assert len(rig.events) == 1, "not retried before the backoff expires"
    rig.now[0] += 11
    await service.step()
    assert await rig.pinned(clip)
    assert service.status()["failed"] == 0


async def test_premium_renditions_are_replicated_encrypted(rig: Rig) -> None:
    clip = await add_clip(rig.remote, "0x01", 1, (3000,), premium=True)
    rig.wants.posts = [clip.post]
    await rig.build(budget=10**9).step()
    assert await rig.pinned(clip)


async def test_the_background_task_replicates_new_posts_when_woken(rig: Rig) -> None:
    import asyncio

    service = rig.build(budget=10**9, poll_s=0.05)
    await service.start()
    try:
        clip: Clip = await add_clip(rig.remote, "0x01", 1)
        rig.wants.posts = [clip.post]
        service.wake()
        for _ in range(100):
            if service.status()["pinned_posts"] == 1:
                break
            await asyncio.sleep(0.05)
        assert await rig.pinned(clip)
        second = await add_clip(rig.remote, "0x02", 2)
        rig.wants.posts.append(second.post)
        rig.wants.version += 1  # the feed index changed
        for _ in range(100):
            if service.status()["pinned_posts"] == 2:
                break
            await asyncio.sleep(0.05)
        assert await rig.pinned(second)
    finally:
        await service.stop()


async def test_stopping_while_pinning_never_leaves_a_pin_the_state_does_not_know(
    rig: Rig,
) -> None:
    import asyncio

    started = asyncio.Event()
    real_pin = rig.local.pin

    async def slow_pin(cid: object, *, recursive: bool = True) -> None:
        started.set()
        await asyncio.sleep(0.05)
        await real_pin(cid, recursive=recursive)  # type: ignore[arg-type]

    rig.local.pin = slow_pin  # type: ignore[method-assign]
    clip = await add_clip(rig.remote, "0x01", 1, (3000, 2000, 1000))
    rig.wants.posts = [clip.post]
    service = rig.build(budget=10**9, poll_s=0.05)
    await service.start()
    await asyncio.wait_for(started.wait(), 10)
    await service.stop()  # arrives in the middle of pinning the clip's five CIDs
    record = rig.state.get("0x01")  # type: ignore[union-attr]
    assert record is not None
    pinned = {str(p.cid) for p in await rig.local.pins()}
    assert pinned == set(record.pinned_cids) == set(clip.cids)
    assert record.state == "pinned"


async def test_a_past_retry_time_of_a_post_the_budget_leaves_out_does_not_spin_the_loop(
    rig: Rig,
) -> None:
    import asyncio

    old = await add_clip(rig.remote, "0x01", 1, (5000,))
    rig.wants.posts = [old.post]
    rig.blocks.withheld = {old.cids[2]}  # the manifest arrives, the rendition does not
    service = rig.build(budget=old.size + 100, poll_s=0.05, retry_base_s=1.0)
    await service.step()  # fails: retry in 1 s
    assert rig.state.get("0x01").state == "sized"  # type: ignore[union-attr]
    rig.blocks.withheld = set()
    newer = await add_clip(rig.remote, "0x02", 2, (5000,))
    rig.wants.posts.append(newer.post)
    rig.now[0] += 5  # the old post's retry time is past, but the newer post takes the budget
    await service.step()
    assert await rig.pinned(newer)
    steps = service.steps
    await service.start()
    await asyncio.sleep(0.5)
    await service.stop()
    assert service.steps - steps <= 2, "idle: no step without a reason"
