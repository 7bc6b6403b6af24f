"""Hostile sync peers: absurd heads, endless logs, wrong records, silence. Work stays bounded."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from eth_utils.crypto import keccak
from support.sync_kit import MANIFEST, NOW, QUIET, Node, NodeFactory, make_log

from peer.feed.builders import CreatorLog
from peer.feed.records import ZERO_ADDRESS
from peer.feed.signatures import address_of
from peer.feed.wire import Envelope, checksum_address, encode
from peer.p2p.testing import wait_until
from peer.sync import protocol as sp

ATTACKER_KEY = keccak(b"attacker")
ATTACKER = address_of(ATTACKER_KEY)


async def hostile(
    make_node: NodeFactory,
    heads: sp.Heads | bytes,
    answer_range: Callable[[sp.RangeRequest], Awaitable[bytes]] | None = None,
) -> tuple[Node, Counter[str]]:
    """A peer whose sync handler is scripted; counts the requests it gets."""
    node = await make_node(start=False, tokens={})
    asked: Counter[str] = Counter()

    async def handler(_peer: str, data: bytes) -> bytes:
        request = sp.decode_request(data, sp.Limits())
        asked[type(request).__name__] += 1
        if isinstance(request, sp.HeadsRequest):
            return heads if isinstance(heads, bytes) else sp.encode_heads(heads)
        if isinstance(request, sp.RangeRequest) and answer_range is not None:
            return await answer_range(request)
        return sp.encode_records(sp.Records(()))

    await node.host.serve(sp.PROTOCOL_ID, handler)
    return node, asked


def random_address() -> str:
    return checksum_address(secrets.token_bytes(20))


@pytest.mark.parametrize("creators", [1200, 5000])  # over the count cap; over the size cap too
async def test_heads_with_thousands_of_creators_are_refused_outright(
    make_node: NodeFactory, creators: int
) -> None:
    posts = {random_address(): [10**12, "0x" + "ab" * 32] for _ in range(creators)}
    raw = json.dumps({"v": 1, "posts": posts, "profiles": {}, "more": False}).encode()
    evil, asked = await hostile(make_node, raw)
    victim = await make_node(tokens={})
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is not None
    assert report.pages == 0
    assert asked == Counter({"HeadsRequest": 1})
    assert victim.sync.stats["reject"] >= 1


async def test_absurd_seqs_of_many_creators_cost_at_most_one_page_per_capped_creator(
    make_node: NodeFactory,
) -> None:
    heads = sp.Heads({random_address(): (10**12, bytes(32)) for _ in range(900)}, {})
    evil, asked = await hostile(make_node, heads)
    options = replace(QUIET, max_creators_per_round=10)
    victim = await make_node(options, tokens={})
    await victim.connect(evil)
    report = await asyncio.wait_for(victim.sync.sync_peer(evil.host.peer_id), 10)
    assert report.rejected is None
    assert report.creators == 10
    assert asked["RangeRequest"] == report.pages == 10
    assert await victim.index.sync.heads() == {}


async def test_an_endless_valid_log_is_cut_at_the_records_cap(make_node: NodeFactory) -> None:
    log = CreatorLog(make_log().domain, ATTACKER_KEY, ZERO_ADDRESS)

    async def endless(request: sp.RangeRequest) -> bytes:
        # the attacker signs fresh, valid posts for whatever range is asked
        while log.seq < request.from_seq - 1:
            log.next_post(MANIFEST, "filler", NOW)
        made = [log.next_post(MANIFEST, "spam", NOW)[0] for _ in range(request.limit)]
        return sp.encode_records(sp.Records(tuple(encode(e) for e in made)))

    heads = sp.Heads({ATTACKER: (10**12, bytes(32))}, {})
    evil, asked = await hostile(make_node, heads, endless)
    options = replace(QUIET, max_records_per_round=60, page_size=20)
    victim = await make_node(options, tokens={})
    await victim.connect(evil)
    report = await asyncio.wait_for(victim.sync.sync_peer(evil.host.peer_id), 20)
    assert report.rejected is None
    assert report.pages <= 4
    assert report.stored + report.ignored <= 60
    assert 0 < len(await victim.seqs(ATTACKER)) <= 60
    assert asked["RangeRequest"] == report.pages


async def test_records_of_another_creator_in_a_range_stop_the_round(
    make_node: NodeFactory,
) -> None:
    genuine = make_log()
    other = [genuine.next_post(MANIFEST, "not the attacker's", NOW)[0] for _ in range(3)]

    async def wrong(_request: sp.RangeRequest) -> bytes:
        return sp.encode_records(sp.Records(tuple(encode(e) for e in other)))

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (3, bytes(32))}, {}), wrong)
    victim = await make_node()
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is not None
    assert "outside" in report.rejected
    assert report.stored == 0
    assert await victim.index.sync.heads() == {}


async def test_records_below_the_asked_seq_stop_the_round(make_node: NodeFactory) -> None:
    log = CreatorLog(make_log().domain, ATTACKER_KEY, ZERO_ADDRESS)
    old = [log.next_post(MANIFEST, "old", NOW)[0] for _ in range(3)]

    async def stale(_request: sp.RangeRequest) -> bytes:
        return sp.encode_records(sp.Records(tuple(encode(e) for e in old)))

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (9, bytes(32))}, {}), stale)
    victim = await make_node(tokens={})
    await victim.add(*old)  # the victim already has 1..3 and asks from 4
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is not None
    assert "seq >= 4" in report.rejected


async def test_a_garbage_record_costs_only_itself(make_node: NodeFactory) -> None:
    log = CreatorLog(make_log().domain, ATTACKER_KEY, ZERO_ADDRESS)
    good = [encode(log.next_post(MANIFEST, "fine", NOW)[0]) for _ in range(2)]

    async def garbage(_request: sp.RangeRequest) -> bytes:
        return sp.encode_records(sp.Records((good[0], b'{"v":1}', good[1])))

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (2, bytes(32))}, {}), garbage)
    victim = await make_node(tokens={})
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is None
    assert report.refused == 1
    assert await victim.seqs(ATTACKER) == [1, 2]
    assert victim.sync.stats["reject:undecodable"] == 1


async def test_more_bad_records_than_the_round_allows_stop_the_round(
    make_node: NodeFactory,
) -> None:
    async def garbage(request: sp.RangeRequest) -> bytes:
        return sp.encode_records(sp.Records((b'{"v":1}',) * request.limit))

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (1000, bytes(32))}, {}), garbage)
    victim = await make_node(replace(QUIET, max_rejects_per_round=3), tokens={})
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is not None
    assert "bad records" in report.rejected
    assert (report.pages, report.refused) == (1, QUIET.page_size), "the first page ends it"
    assert await victim.seqs(ATTACKER) == []


async def test_a_silent_peer_times_out_and_the_round_ends(make_node: NodeFactory) -> None:
    async def silent(_request: sp.RangeRequest) -> bytes:
        await asyncio.sleep(30)
        return b""

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (1, bytes(32))}, {}), silent)
    victim = await make_node(replace(QUIET, request_timeout_s=0.2), tokens={})
    await victim.connect(evil)
    report = await asyncio.wait_for(victim.sync.sync_peer(evil.host.peer_id), 5)
    assert report.error is not None
    assert victim.sync.stats["error"] >= 1


async def test_a_forged_record_mid_page_costs_only_itself(
    make_node: NodeFactory,
) -> None:
    log = CreatorLog(make_log().domain, ATTACKER_KEY, ZERO_ADDRESS)
    good = [log.next_post(MANIFEST, "fine", NOW)[0] for _ in range(4)]
    forged = Envelope(good[2].record, good[2].signature[:10] + b"\x00" + good[2].signature[11:])
    page = [good[0], good[1], forged, good[3]]

    async def mixed(_request: sp.RangeRequest) -> bytes:
        return sp.encode_records(sp.Records(tuple(encode(e) for e in page)))

    evil, _ = await hostile(make_node, sp.Heads({ATTACKER: (4, bytes(32))}, {}), mixed)
    victim = await make_node(tokens={})
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is None
    assert (report.refused, report.stored) == (1, 3)
    assert "bad-signature" in report.last_refused
    assert await victim.seqs(ATTACKER) == [1, 2, 4]
    assert victim.sync.stats["reject:bad-signature"] == 1


async def test_follow_up_rounds_against_an_endless_log_stop_at_their_cap(
    make_node: NodeFactory,
) -> None:
    log = CreatorLog(make_log().domain, ATTACKER_KEY, ZERO_ADDRESS)

    async def endless(request: sp.RangeRequest) -> bytes:
        while log.seq < request.from_seq - 1:
            log.next_post(MANIFEST, "filler", NOW)
        made = [log.next_post(MANIFEST, "spam", NOW)[0] for _ in range(request.limit)]
        return sp.encode_records(sp.Records(tuple(encode(e) for e in made)))

    heads = sp.Heads({ATTACKER: (10**12, bytes(32))}, {})
    evil, _ = await hostile(make_node, heads, endless)
    options = replace(
        QUIET, page_size=5, max_records_per_round=10, followup_delay_s=0.01, max_followups=2
    )
    victim = await make_node(options, tokens={})
    await victim.connect(evil)

    async def three_rounds() -> bool:
        return victim.sync.stats["rounds"] >= 3

    await wait_until(three_rounds, 10, "the connection round and two follow-ups")
    await asyncio.sleep(0.3)  # room for a (wrong) fourth round
    assert victim.sync.stats["rounds"] == 3
    assert len(await victim.seqs(ATTACKER)) == 30


async def test_a_fork_advertised_but_not_delivered_costs_one_page_per_round(
    make_node: NodeFactory,
) -> None:
    log = make_log()
    own = [log.next_post(MANIFEST, f"clip {i}", NOW) for i in range(3)]
    victim = await make_node()
    await victim.add(*(envelope for envelope, _ in own))
    heads = sp.Heads({log.creator: (3, own[-1][1])}, {}, forks={log.creator: 2})
    evil, asked = await hostile(make_node, heads)  # claims a fork at seq 2, answers nothing
    await victim.connect(evil)
    for _ in range(3):
        report = await asyncio.wait_for(victim.sync.sync_peer(evil.host.peer_id), 10)
        assert report.rejected is None
        assert (report.pages, report.stored) == (1, 0)
    assert asked["RangeRequest"] == 3
    info = await victim.index.queries.creator_info(log.creator)
    assert info is not None
    assert not info.forked
    assert await victim.seqs() == [1, 2, 3]


async def test_several_creators_are_fetched_at_once_within_the_round_caps(
    make_node: NodeFactory,
) -> None:
    logs = [CreatorLog(make_log().domain, keccak(b"c%d" % n), ZERO_ADDRESS) for n in range(6)]
    made = {log.creator: [encode(e) for e in posts_of(log, 30)] for log in logs}
    two_at_once = asyncio.Event()
    waiting = 0

    async def serve(request: sp.RangeRequest) -> bytes:
        nonlocal waiting
        waiting += 1
        if waiting >= 2:
            two_at_once.set()
        # the first request is answered only once a second one is in flight: a sequential
        # client would time out here
        await asyncio.wait_for(two_at_once.wait(), 5)
        waiting -= 1
        rows = made[request.creator][request.from_seq - 1 : request.from_seq - 1 + request.limit]
        return sp.encode_records(sp.Records(tuple(rows)))

    heads = sp.Heads({log.creator: (30, log.head) for log in logs}, {})
    evil, asked = await hostile(make_node, heads, serve)
    options = replace(QUIET, page_size=10, max_records_per_round=100, parallel_creators=4)
    victim = await make_node(options, tokens={})
    await victim.connect(evil)
    report = await asyncio.wait_for(victim.sync.sync_peer(evil.host.peer_id), 20)
    assert report.rejected is None
    assert report.error is None
    # the cap is used exactly, never exceeded (a page repeats the last seq of the one before)
    assert report.stored + report.ignored == 100
    assert asked["RangeRequest"] == report.pages
    stored = [len(await victim.seqs(log.creator)) for log in logs]
    assert sum(stored) == report.stored
    assert sum(1 for n in stored if n) >= 2


def posts_of(log: CreatorLog, count: int) -> list[Envelope]:
    return [log.next_post(MANIFEST, f"clip {log.seq + 1}", NOW)[0] for _ in range(count)]
