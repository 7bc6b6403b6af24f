"""SyncService on fake hosts with real feed indexes: catch-up, convergence, caps, forks."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from support.sync_kit import (
    CREATOR,
    DOMAIN,
    KEY,
    MANIFEST,
    NOW,
    OTHER,
    OTHER_KEY,
    QUIET,
    TOKEN,
    NodeFactory,
    make_log,
    posts,
    profile,
)

from peer.feed.builders import CreatorLog
from peer.feed.eip712 import digest
from peer.feed.records import ZERO_ADDRESS, Post
from peer.feed.wire import encode
from peer.p2p.testing import wait_until
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11


async def test_offline_peer_catches_up_25_posts_over_several_pages_in_order(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 25))
    b = await make_node(replace(QUIET, page_size=10))  # the default page holds all 25

    await b.connect(a)  # the connection event starts a round on both sides

    async def caught_up() -> bool:  # the round goes on after the posts (sync 1.1's kinds)
        return len(await b.seqs()) == 25 and a.host.peer_id in b.sync.reports

    await wait_until(caught_up, 10, "b to hold 25 posts and the round to end")
    assert await b.seqs() == list(range(1, 26))
    assert [e.record.seq for e in b.stored if isinstance(e.record, Post)] == list(range(1, 26))
    report = b.sync.reports[a.host.peer_id]
    assert report.stored == 25
    assert report.pages >= 2
    assert report.rejected is None
    info = await b.index.queries.creator_info(CREATOR)
    assert info is not None
    assert info.head_seq == 25
    assert not info.forked


async def test_connected_peer_that_missed_gossip_converges_through_periodic_sync(
    make_node: NodeFactory,
) -> None:
    fast = replace(QUIET, interval_s=0.1)
    a = await make_node(fast)
    b = await make_node(fast)
    log = make_log()
    await a.add(*posts(log, 2))
    await b.connect(a)

    async def has(n: int) -> bool:
        return len(await b.seqs()) == n

    await wait_until(lambda: has(2), 10, "first catch-up")
    rounds = b.sync.stats["rounds"]
    await a.add(*posts(log, 3))  # stored at a, never gossiped
    await wait_until(lambda: has(5), 10, "periodic sync to bring the 3 new posts")
    assert b.sync.stats["rounds"] > rounds
    assert await b.seqs() == [1, 2, 3, 4, 5]


async def test_three_peers_relay_posts_through_the_middle_one(make_node: NodeFactory) -> None:
    fast = replace(QUIET, interval_s=0.1)
    a, b, c = [await make_node(fast) for _ in range(3)]
    await a.add(*posts(make_log(), 22))
    await c.add(*posts(make_log(OTHER_KEY), 3))
    await b.connect(a)
    await c.connect(b)  # a and c never meet

    async def everyone_has_everything() -> bool:
        for node in (a, b, c):
            if await node.seqs(CREATOR) != list(range(1, 23)):
                return False
            if await node.seqs(OTHER) != [1, 2, 3]:
                return False
        return True

    await wait_until(everyone_has_everything, 10, "all three peers to converge")
    assert c.host.peer_id not in {p.peer_id for p in a.host.peers()}


async def test_fork_evidence_is_served_and_fetched(make_node: NodeFactory) -> None:
    log = make_log()
    first, second = posts(log, 2)
    rival_log = CreatorLog(DOMAIN, KEY, TOKEN, seq=1, head=digest(first.record, DOMAIN))
    rival, _ = rival_log.next_post(MANIFEST, "the other seq 2", NOW)
    a = await make_node()
    await a.add(first, second, rival)
    b = await make_node()
    await b.add(first, rival)  # same head seq as a, other head id: b fetches from seq 2
    c = await make_node()

    await c.connect(a)  # c starts from nothing
    raw = await c.host.request(
        a.host.peer_id, sp.PROTOCOL_ID, sp.encode_request(sp.RangeRequest(CREATOR, 2, 20))
    )
    served = sp.decode_records(raw, 20, sp.Limits()).records
    assert sorted(served) == sorted([encode(second), encode(rival)])

    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.rejected is None
    assert report.forks == 1
    assert sorted(await b.seqs()) == [1, 2, 2]
    info = await b.index.queries.creator_info(CREATOR)
    assert info is not None
    assert info.forked

    async def c_has_both_sides() -> bool:
        return sorted(await c.seqs()) == [1, 2, 2]

    await wait_until(c_has_both_sides, 10, "c to fetch both sides of the fork")
    c_info = await c.index.queries.creator_info(CREATOR)
    assert c_info is not None
    assert c_info.forked


async def test_fork_evidence_reaches_a_peer_whose_head_is_the_same(
    make_node: NodeFactory,
) -> None:
    # Gossip does not forward the second side of a fork, so a peer can hold one side with
    # the same head (seq and id) as a peer holding both: the heads' fork list tells it.
    log = make_log()
    first, second = posts(log, 2)
    rival, _ = CreatorLog(DOMAIN, KEY, TOKEN).next_post(MANIFEST, "the other seq 1", NOW)
    a = await make_node()
    await a.add(first, second, rival)
    b = await make_node()
    await b.add(first, second)
    assert (await a.index.sync.heads()) == (await b.index.sync.heads())

    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.rejected is None
    assert report.forks == 1
    assert sorted(await b.seqs()) == [1, 1, 2]
    info = await b.index.queries.creator_info(CREATOR)
    assert info is not None
    assert info.forked

    again = await b.sync.sync_peer(a.host.peer_id)  # evidence held: nothing more to fetch
    assert (again.pages, again.stored) == (0, 0)


async def test_fork_evidence_and_newer_posts_come_in_one_round(make_node: NodeFactory) -> None:
    log = make_log()
    envelopes = posts(log, 12)
    rival_log = CreatorLog(DOMAIN, KEY, TOKEN, seq=1, head=digest(envelopes[0].record, DOMAIN))
    rival, _ = rival_log.next_post(MANIFEST, "the other seq 2", NOW)
    a = await make_node()
    await a.add(*envelopes, rival)
    b = await make_node(replace(QUIET, page_size=2))  # pages of our own log in between
    await b.add(*envelopes[:10])

    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.rejected is None
    assert sorted(await b.seqs()) == [1, 2, 2, *range(3, 13)]


async def test_profiles_are_synced_and_older_versions_ignored(make_node: NodeFactory) -> None:
    a = await make_node()
    await a.add(profile(KEY, "alice v2", 2), profile(OTHER_KEY, "bob", 1))
    b = await make_node()
    await b.add(profile(KEY, "alice v3", 3))
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.rejected is None
    assert await b.index.sync.profile_heads() == {CREATOR: 3, OTHER: 1}
    wire = await b.index.queries.profile_wire(CREATOR)
    assert wire is not None
    assert b"alice v3" in wire


async def test_records_the_validator_rejects_cost_only_themselves_and_are_counted(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 5))
    b = await make_node(tokens={CREATOR: "0x" + "1" * 40})  # b's chain says another token
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.rejected is None, "five bad records are within the round's allowance"
    assert (report.refused, report.stored) == (5, 0)
    assert "wrong-token" in report.last_refused
    assert b.sync.stats["reject:wrong-token"] == 5
    assert await b.seqs() == []


async def test_blocked_creators_are_not_fetched(make_node: NodeFactory) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 3), *posts(make_log(OTHER_KEY), 2))
    b = await make_node()
    await b.index.writes.block(OTHER)
    await b.connect(a)
    await b.sync.sync_peer(a.host.peer_id)
    assert await b.seqs(CREATOR) == [1, 2, 3]
    assert await b.seqs(OTHER) == []


async def test_existing_connections_are_synced_when_the_service_starts(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 4))
    b = await make_node(start=False)
    await b.connect(a)
    await b.sync.start()

    async def synced() -> bool:
        return len(await b.seqs()) == 4

    await wait_until(synced, 10, "a round for the already connected peer")


async def test_stop_unserves_the_protocol(make_node: NodeFactory) -> None:
    a = await make_node()
    b = await make_node()
    await b.connect(a)
    first = await b.sync.sync_peer(a.host.peer_id)  # the round the connection started
    assert first.answered
    await a.sync.stop()
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.error is not None
    assert "does not serve" in report.error
    assert b.sync.stats["error"] == 1


async def test_malformed_requests_get_an_error_answer(make_node: NodeFactory) -> None:
    from peer.p2p.errors import RemoteHandlerError

    a = await make_node()
    b = await make_node()
    await b.connect(a)
    request = json.dumps({"v": 1, "op": "range", "creator": CREATOR, "from": 0, "limit": 5})
    with pytest.raises(RemoteHandlerError, match="range from"):
        await b.host.request(a.host.peer_id, sp.PROTOCOL_ID, request.encode())
    assert a.sync.stats["serve-error"] == 1


async def test_free_posts_of_a_creator_without_token_are_synced(make_node: NodeFactory) -> None:
    a = await make_node(tokens={})
    await a.add(*posts(make_log(token=ZERO_ADDRESS), 3))
    b = await make_node(tokens={})
    await b.connect(a)
    await b.sync.sync_peer(a.host.peer_id)
    assert await b.seqs() == [1, 2, 3]
    assert NOW > 0


async def test_a_gap_below_the_head_is_filled_from_a_peer_with_the_same_head(
    make_node: NodeFactory,
) -> None:
    log = posts(make_log(), 10)
    a = await make_node()
    await a.add(*log)
    b = await make_node()
    await b.add(*log[:5], log[9])  # gossip brought seq 10 before 6..9
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.stored == 4
    assert await b.seqs() == list(range(1, 11))


async def test_a_gap_both_peers_share_costs_one_page_per_round(make_node: NodeFactory) -> None:
    log = posts(make_log(), 40)
    holey = log[:3] + log[5:]  # seq 4 and 5 missing on both sides
    a = await make_node()
    await a.add(*holey)
    b = await make_node()
    await b.add(*holey)
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.stored == 0
    assert report.pages == 1


async def test_a_round_that_hits_its_cap_is_followed_up_without_waiting_for_the_period(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 25))
    capped = replace(QUIET, page_size=5, max_records_per_round=10, followup_delay_s=0.01)
    b = await make_node(capped)  # periodic rounds are an hour apart
    await b.connect(a)

    async def caught_up() -> bool:
        return len(await b.seqs()) == 25

    await wait_until(caught_up, 10, "follow-up rounds to fetch all 25 posts")
    assert b.sync.stats["rounds"] >= 3
    assert await b.seqs() == list(range(1, 26))


async def test_stop_cancels_a_round_in_flight(make_node: NodeFactory) -> None:
    import asyncio

    a = await make_node()
    await a.add(*posts(make_log(), 3))
    release, entered = asyncio.Event(), asyncio.Event()

    async def stalled_heads(_peer: str, _data: bytes) -> bytes:
        entered.set()
        await release.wait()
        return sp.encode_heads(sp.Heads({}, {}))

    await a.host.serve(sp.PROTOCOL_ID, stalled_heads)
    await a.host.serve(p11.PROTOCOL_ID, stalled_heads)
    b = await make_node()
    await b.connect(a)
    await asyncio.wait_for(entered.wait(), 20)  # the connection round is waiting for heads
    await b.sync.stop()
    release.set()
    await asyncio.sleep(0.05)
    assert b.sync.reports[a.host.peer_id].answered is False
    assert b.sync.stats["rounds"] == 1
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("round ")]


async def test_requests_beyond_the_serve_rate_are_refused(make_node: NodeFactory) -> None:
    from peer.feed.ratelimit import Rate
    from peer.p2p.errors import RemoteHandlerError

    a = await make_node(replace(QUIET, serve_rate=Rate(rate=0.001, burst=2)))
    b = await make_node(start=False)
    await b.connect(a)
    heads = sp.encode_request(sp.HeadsRequest())
    for _ in range(2):
        await b.host.request(a.host.peer_id, sp.PROTOCOL_ID, heads)
    with pytest.raises(RemoteHandlerError, match="rate limited"):
        await b.host.request(a.host.peer_id, sp.PROTOCOL_ID, heads)
    assert a.sync.stats["serve-limited"] == 1
