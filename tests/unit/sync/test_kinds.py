"""Sync 1.1 over the p2p fake: every record kind by (kind, author) group, the fallback to 1.0,
and hostile kind pages (real index and validator on both sides)."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import replace

from eth_utils.crypto import keccak
from support.sync_kit import CREATOR, DOMAIN, KEY, NOW, QUIET, Node, NodeFactory, make_log, posts

from peer.feed.builders import sign_record
from peer.feed.records import (
    ZERO_ID,
    Comment,
    CommentPolicy,
    Follow,
    Like,
    LikeV2,
    Moderation,
    Record,
    Tombstone,
)
from peer.feed.signatures import address_of
from peer.feed.synckinds import SYNCED_KINDS
from peer.feed.wire import Envelope, encode
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11

FAN_KEY = keccak(b"sync fan")
FAN = address_of(FAN_KEY)
POST = bytes(range(32))


def signed(record: Record, key: bytes = FAN_KEY) -> Envelope:
    return sign_record(record, DOMAIN, key)


async def all_kind_heads(node: Node) -> dict[str, dict[str, tuple[int, bytes]]]:
    return {kind: await node.index.sync.kind_heads(kind) for kind in SYNCED_KINDS}


async def likes_of(node: Node, post: bytes) -> tuple[bool, int] | None:
    return await node.index.queries.like_state(FAN, post)


async def test_a_round_brings_tombstones_follows_and_both_like_kinds(
    make_node: NodeFactory,
) -> None:
    a, b = await make_node(), await make_node()
    log = make_log()
    first, second = posts(log, 2)
    await a.add(first, second)
    await b.add(first, second)  # B has the posts; it lacks everything else
    await a.add(
        signed(Tombstone(CREATOR, log.head, NOW), KEY),
        signed(Follow(FAN, CREATOR, True, NOW)),
        signed(Like(FAN, POST, NOW)),
        signed(LikeV2(FAN, POST, False, NOW + 1)),
        signed(LikeV2(FAN, bytes(32), True, NOW)),
    )
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert (report.protocol, report.rejected, report.refused) == (p11.PROTOCOL_ID, None, 0)
    assert report.stored == 5
    assert report.groups == 4  # (tombstone, creator), (follow|like|likeV2, fan)
    assert await all_kind_heads(b) == await all_kind_heads(a)
    assert await b.index.view.withdrawn(log.head)
    assert await b.index.queries.followed(FAN) == [CREATOR]
    assert await likes_of(b, POST) == (False, NOW + 1), "the later unlike wins"
    assert await likes_of(b, bytes(32)) == (True, NOW)


async def test_a_like_then_an_unlike_seen_late_converges(make_node: NodeFactory) -> None:
    a, b = await make_node(), await make_node()
    like = signed(Like(FAN, POST, NOW))
    await a.add(like)
    await b.add(like)
    await a.add(signed(LikeV2(FAN, POST, False, NOW + 1)))
    assert await likes_of(b, POST) == (True, NOW)
    await b.connect(a)
    await b.sync.sync_peer(a.host.peer_id)
    assert await likes_of(b, POST) == (False, NOW + 1)
    # and an older record arriving after the winner changes nothing (the winner stays)
    await b.add(signed(LikeV2(FAN, POST, True, NOW)))
    assert await likes_of(b, POST) == (False, NOW + 1)


async def test_groups_in_step_cost_one_kind_heads_request_per_kind(
    make_node: NodeFactory,
) -> None:
    a, b = await make_node(), await make_node()
    follow = signed(Follow(FAN, CREATOR, True, NOW))
    await a.add(follow)
    await b.add(follow)
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.groups == 0
    assert a.sync.stats["served:kind-range"] == 0
    assert a.sync.stats["served:kind-heads"] == len(SYNCED_KINDS)


async def test_a_group_fetched_whole_is_not_fetched_again_while_its_digest_stays(
    make_node: NodeFactory,
) -> None:
    # A holds an older follow, B the newer one: they disagree on the group for good (A keeps
    # offering the older record), but B fetches it from A once, not every round.
    a, b = await make_node(), await make_node()
    await a.add(signed(Follow(FAN, CREATOR, True, NOW)))
    await b.add(signed(Follow(FAN, CREATOR, False, NOW + 5)))
    await b.connect(a)
    first = await b.sync.sync_peer(a.host.peer_id)
    assert (first.groups, first.stored, first.ignored) == (1, 1, 0)
    assert await b.index.queries.followed(FAN) == [], "the newer unfollow still wins"
    again = await b.sync.sync_peer(a.host.peer_id)
    assert again.groups == 0
    assert a.sync.stats["served:kind-range"] == 1


async def test_a_group_cut_short_by_the_budget_resumes_where_it_stopped(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    likes = [signed(LikeV2(FAN, keccak(b"post %d" % n), True, NOW)) for n in range(7)]
    await a.add(*likes)
    options = replace(QUIET, page_size=2, max_pages_per_round=1 + len(SYNCED_KINDS))
    b = await make_node(options)
    await b.connect(a)
    stored = []
    for _ in range(4):
        stored.append((await b.sync.sync_peer(a.host.peer_id)).stored)
    # per round: the kind-heads of kinds up to likeV2 leave pages for the group's pages
    assert sum(stored) <= b.sync.stats["stored"] == 7
    assert b.sync.stats["ignore:duplicate"] == 0, "no page fetched twice"
    assert await b.index.sync.kind_heads("likeV2") == await a.index.sync.kind_heads("likeV2")


async def test_a_1_0_only_peer_still_syncs_posts_both_ways_and_nobody_is_blamed(
    make_node: NodeFactory,
) -> None:
    new = await make_node()
    old = await make_node(replace(QUIET, v1_1=False))
    log = make_log()
    await old.add(*posts(log, 3))
    await new.add(signed(Follow(FAN, CREATOR, True, NOW)))
    await new.connect(old)
    report = await new.sync.sync_peer(old.host.peer_id)
    assert (report.protocol, report.stored, report.rejected) == (sp.PROTOCOL_ID, 3, None)
    assert new.sync.stats["fallback-1.0"] == 1
    again = await new.sync.sync_peer(old.host.peer_id)
    assert again.protocol == sp.PROTOCOL_ID
    assert new.sync.stats["fallback-1.0"] == 1, "remembered: 1.1 is not asked every round"
    await new.add(*posts(log, 1))
    back = await old.sync.sync_peer(new.host.peer_id)
    assert (back.protocol, back.stored, back.rejected) == (sp.PROTOCOL_ID, 1, None)
    assert await old.index.sync.kind_heads("follow") == {}, "1.0 carries posts and profiles only"
    for node in (new, old):
        assert node.sync.stats["reject"] == 0
        assert node.sync.stats["serve-error"] == 0


# ---- hostile kind pages --------------------------------------------------------------------


async def scripted(
    make_node: NodeFactory, groups: dict[str, dict[str, list[bytes]]]
) -> tuple[Node, Counter[str]]:
    """A 1.1 peer serving ``groups[kind][author]`` = wire records as they are (unchecked),
    with digests that never match ours."""
    node = await make_node(start=False, tokens={})
    asked: Counter[str] = Counter()

    async def handler(_peer: str, data: bytes) -> bytes:
        request = p11.decode_request(data, sp.Limits())
        asked[type(request).__name__] += 1
        if isinstance(request, sp.HeadsRequest):
            return sp.encode_heads(sp.Heads({}, {}))
        if isinstance(request, p11.KindHeadsRequest):
            authors = groups.get(request.kind, {})
            heads = {a: (len(r), b"\x01" * 16) for a, r in list(authors.items())[:1000]}
            return p11.encode_kind_heads(p11.KindHeads(request.kind, heads, len(authors) > 1000))
        if isinstance(request, p11.KindRangeRequest):
            records = groups.get(request.kind, {}).get(request.author, [])
            return json.dumps({"v": 1, "records": [r.decode() for r in records]}).encode()
        return sp.encode_records(sp.Records(()))

    await node.host.serve(p11.PROTOCOL_ID, handler)
    return node, asked


async def test_forged_follows_and_likes_are_dropped_and_counted_the_rest_is_kept(
    make_node: NodeFactory,
) -> None:
    good = signed(Follow(FAN, CREATOR, True, NOW))
    forged_like = Envelope(
        LikeV2(FAN, POST, True, NOW), signed(Follow(FAN, FAN, True, 1)).signature
    )
    future = signed(Like(FAN, POST, NOW + 3600))
    evil, _ = await scripted(
        make_node,
        {"follow": {FAN: [encode(good)]}, "likeV2": {FAN: [encode(forged_like)]},
         "like": {FAN: [encode(future)]}},
    )  # fmt: skip
    victim = await make_node()
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is None
    assert (report.stored, report.refused) == (1, 2)
    assert victim.sync.stats["reject:bad-signature"] == 1
    assert victim.sync.stats["reject:created-in-future"] == 1
    assert await victim.index.sync.kind_heads("likeV2") == {}
    assert await victim.index.sync.kind_heads("like") == {}


async def test_a_record_of_another_author_or_out_of_order_ends_the_round(
    make_node: NodeFactory,
) -> None:
    other = signed(Follow(CREATOR, FAN, True, NOW), KEY)
    likes = sorted(
        (signed(LikeV2(FAN, keccak(b"%d" % n), True, NOW)) for n in range(3)),
        key=lambda e: sign_id(e),
        reverse=True,
    )
    for groups, breach in (
        ({"follow": {FAN: [encode(other)]}}, "outside"),
        ({"likeV2": {FAN: [encode(e) for e in likes]}}, "ascending id"),
    ):
        evil, _ = await scripted(make_node, groups)
        victim = await make_node()
        await victim.connect(evil)
        report = await victim.sync.sync_peer(evil.host.peer_id)
        assert report.rejected is not None, report
        assert breach in report.rejected, report


def sign_id(envelope: Envelope) -> bytes:
    from peer.feed.eip712 import digest

    return digest(envelope.record, DOMAIN)


async def test_an_oversized_record_in_a_kind_page_ends_the_round(make_node: NodeFactory) -> None:
    huge = b'{"v":1,"follow":{"pad":"' + b"x" * 17_000 + b'"},"sig":"0x"}'
    evil, _ = await scripted(make_node, {"follow": {FAN: [huge]}})
    victim = await make_node()
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert report.rejected is not None
    assert "limit" in report.rejected
    assert await victim.index.sync.kind_heads("follow") == {}


async def test_a_flood_of_likes_from_fresh_addresses_is_capped_and_never_stored_twice(
    make_node: NodeFactory,
) -> None:
    flood: dict[str, list[bytes]] = {}
    for _ in range(150):
        key = secrets.token_bytes(32)
        likes = [signed(Like(address_of(key), keccak(b"%d" % n), NOW), key) for n in range(3)]
        flood[address_of(key)] = [encode(e) for e in sorted(likes, key=sign_id)]
    evil, asked = await scripted(make_node, {"like": flood})
    options = replace(QUIET, max_groups_per_round=40)
    victim = await make_node(options)
    await victim.connect(evil)
    first = await victim.sync.sync_peer(evil.host.peer_id)
    assert first.rejected is None
    assert first.groups == 40
    assert first.stored == 120
    assert asked["KindRangeRequest"] == 40
    for _ in range(6):
        await victim.sync.sync_peer(evil.host.peer_id)
    heads = await victim.index.sync.kind_heads("like")
    assert len(heads) == 150
    assert all(count == 3 for count, _ in heads.values())
    assert victim.sync.stats["stored"] == 450
    assert victim.sync.stats["ignore:duplicate"] == 0, "a fetched group is not fetched again"
    assert asked["KindRangeRequest"] == 150


async def test_comments_moderations_and_policies_ride_sync_1_1_after_their_post(
    make_node: NodeFactory,
) -> None:
    a, b = await make_node(), await make_node()
    log = make_log()
    (post,) = posts(log, 1)
    await a.add(post)
    comment = signed(Comment(FAN, log.head, ZERO_ID, "nice clip", NOW))
    reply = signed(Comment(FAN, log.head, sign_id(comment), "me again", NOW + 1))
    await a.add(
        signed(CommentPolicy(CREATOR, log.head, 0, NOW), KEY),
        comment,
        reply,
        signed(Moderation(CREATOR, sign_id(reply), True, NOW + 2), KEY),
    )
    await b.connect(a)
    for _ in range(3):  # a reply may come before its parent (id order): next round brings it
        await b.sync.sync_peer(a.host.peer_id)
    for kind in ("commentPolicy", "comment", "moderation"):
        assert await b.index.sync.kind_heads(kind) == await a.index.sync.kind_heads(kind), kind
    assert await b.index.sync.kind_heads("comment") != {}


async def test_a_record_of_an_unknown_kind_in_a_kind_page_is_ignored_not_held_against_the_peer(
    make_node: NodeFactory,
) -> None:
    unknown = b'{"v":1,"reaction":{"actor":"x"},"sig":"0x' + b"00" * 65 + b'"}'
    good = signed(Follow(FAN, CREATOR, True, NOW))
    evil, _ = await scripted(make_node, {"follow": {FAN: [unknown, encode(good)]}})
    victim = await make_node()
    await victim.connect(evil)
    report = await victim.sync.sync_peer(evil.host.peer_id)
    assert (report.rejected, report.refused, report.stored, report.ignored) == (None, 0, 1, 1)
