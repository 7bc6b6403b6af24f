"""Issue 8 "Done when" with three real peers in separate processes (see conftest.py).

A post published on A reaches B and C (C only through B); hostile records from a raw libp2p
peer M connected only to B are rejected, never stored, never forwarded to C, and cost M its
score on B while honest posts keep flowing; a fork is stored and flagged; a tombstone hides a
post everywhere.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

import pytest
from support.daemon import run_cli
from support.feednet import (
    Net,
    api,
    creator_posts,
    eventually,
    has_post,
    peer_ids,
    publish_on_a,
)

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.gossip import TOPIC_POSTS
from peer.feed.records import Post
from peer.feed.signatures import sign_digest
from peer.feed.wire import Envelope, encode

pytestmark = pytest.mark.integration

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"


def hex_id(post_id: bytes) -> str:
    return "0x" + post_id.hex()


def x_log(net: Net, seq: int = 0, head: bytes = b"") -> CreatorLog:
    log = CreatorLog(net.domain, net.x_key, net.x_token)
    if seq:
        log.seq, log.head = seq, head
    return log


def test_post_published_on_a_reaches_b_and_c_through_b(net: Net) -> None:
    post_id = publish_on_a(net, "first light")
    for peer in (net.b, net.c):
        eventually(partial(has_post, peer, post_id))
    item = api(net.c).get(f"/api/v1/posts/{post_id}")
    assert (item["creator"], item["seq"], item["title"]) == (net.a_creator, 1, "first light")
    assert item["token"] == net.a_token
    ids = net.ids
    assert ids["a"] not in peer_ids(net.c), "C must reach A's posts only through B"
    assert set(peer_ids(net.b)) >= {ids["a"], ids["c"], net.m.peer_id}


def test_a_fork_is_stored_and_flagged_on_b_and_c(net: Net) -> None:
    now = int(time.time())
    one, one_id = x_log(net).next_post(MANIFEST, "x one", now)
    other, other_id = x_log(net).next_post(MANIFEST, "x one, rewritten", now)
    assert isinstance(one.record, Post)
    assert isinstance(other.record, Post)
    assert (one.record.seq, other.record.seq) == (1, 1)
    net.m.publish(TOPIC_POSTS, encode(one))
    for peer in (net.b, net.c):
        eventually(partial(has_post, peer, hex_id(one_id)))
    net.m.publish(TOPIC_POSTS, encode(other))

    def both_flagged(peer: Any) -> bool:
        page = api(peer).get(f"/api/v1/creators/{net.x_creator}")
        return bool(page["forked"]) and has_post(peer, hex_id(other_id))

    # B stores the second side from gossip; C gets it from B by sync (forks are not forwarded).
    eventually(lambda: both_flagged(net.b))
    eventually(lambda: both_flagged(net.c), timeout=75)
    for peer in (net.b, net.c):
        items = creator_posts(peer, net.x_creator)
        assert sorted(i["id"] for i in items) == sorted([hex_id(one_id), hex_id(other_id)])
        assert all(i["creator_forked"] for i in items)


def test_a_tombstone_hides_a_post_on_b_and_c(net: Net) -> None:
    post_id = publish_on_a(net, "soon withdrawn")
    for peer in (net.b, net.c):
        eventually(partial(has_post, peer, post_id))
    deleted = run_cli(net.a.data_dir, "delete", post_id)
    assert deleted.returncode == 0, deleted.stderr

    def hidden(peer: Any) -> bool:
        shown = [i["id"] for i in creator_posts(peer, net.a_creator)]
        found = [i["id"] for i in api(peer).get("/api/v1/search?q=withdrawn")["items"]]
        return post_id not in shown and not found

    for peer in (net.a, net.b, net.c):
        eventually(partial(hidden, peer))


def tampered(envelope: Envelope) -> Envelope:
    """The same signature over a post whose title was changed after signing."""
    record = envelope.record
    assert isinstance(record, Post)
    changed = Post(**{**_fields(record), "title": record.title + " (edited)"})
    return Envelope(changed, envelope.signature)


def _fields(post: Post) -> dict[str, Any]:
    return {name: getattr(post, name) for name in Post.__dataclass_fields__}


def oversized(net: Net, log: CreatorLog) -> tuple[bytes, bytes]:
    """A validly signed post whose encoding is over the 16384-byte limit (built by hand,
    since our encoder refuses it); returns ``(wire bytes, post id)``."""
    small, _ = x_log(net).next_post(MANIFEST, "x", int(time.time()))
    record = small.record
    assert isinstance(record, Post)
    big = Post(**{**_fields(record), "title": "y" * 17000, "seq": log.seq + 1, "prev": log.head})
    post_id = digest(big, net.domain)
    wire = json.loads(encode(small))
    signature = sign_digest(post_id, net.x_key)
    wire["post"]["title"] = big.title
    wire["post"]["seq"] = big.seq
    wire["post"]["prev"] = "0x" + big.prev.hex()
    wire["sig"] = "0x" + signature.hex()
    data = json.dumps(wire, separators=(",", ":"), sort_keys=True).encode()
    assert len(data) > 16384
    return data, post_id


def score_below(net: Net, limit: float) -> bool:
    return peer_ids(net.b)[net.m.peer_id] < limit


def test_hostile_posts_are_rejected_never_stored_never_forwarded(net: Net) -> None:
    ids = net.ids
    honest_before = publish_on_a(net, "before the attack")
    eventually(lambda: has_post(net.c, honest_before))
    head = creator_posts(net.b, net.x_creator)
    seq = max(i["seq"] for i in head)
    head_id = bytes.fromhex(next(i["id"] for i in head if i["seq"] == seq)[2:])
    now = int(time.time())

    # M relays an honest post of X, then replays the same bytes: Ignore (no penalty, no copy).
    honest_x, honest_x_id = x_log(net, seq, head_id).next_post(MANIFEST, "x honest", now)
    net.m.publish(TOPIC_POSTS, encode(honest_x))
    eventually(lambda: has_post(net.c, hex_id(honest_x_id)))
    x_count = {n: len(creator_posts(p, net.x_creator)) for n, p in (("b", net.b), ("c", net.c))}
    net.m.publish(TOPIC_POSTS, encode(honest_x))
    # M sends an honest post after the copy, on the same stream: once B has it, the copy is judged
    marker, marker_id = x_log(net, seq + 1, honest_x_id).next_post(MANIFEST, "x marker", now)
    net.m.publish(TOPIC_POSTS, encode(marker))
    eventually(lambda: has_post(net.b, hex_id(marker_id)) and has_post(net.c, hex_id(marker_id)))
    assert peer_ids(net.b)[net.m.peer_id] >= 0, "a replayed copy is not penalised"
    seq, head_id = seq + 2, marker_id
    stored_before = len(creator_posts(net.b, net.a_creator))

    good = x_log(net, seq, head_id)
    forged_env, forged_id = x_log(net, seq, head_id).next_post(MANIFEST, "forged", now)
    forged = sign_record(forged_env.record, net.domain, bytes(32 * [7]))  # not X's key
    honest_env, _ = x_log(net, seq, head_id).next_post(MANIFEST, "tamper me", now)
    tamper = tampered(honest_env)
    other_domain = Domain(1, "0x000000000000000000000000000000000000dEaD")
    replayed_env, replayed_id = CreatorLog(
        other_domain, net.x_key, net.x_token, seq, head_id
    ).next_post(MANIFEST, "signed for another chain", now)
    replayed_here = digest(replayed_env.record, net.domain)
    future_env, future_id = x_log(net, seq, head_id).next_post(
        MANIFEST, "from the future", now + 3600
    )
    wrong_env, wrong_id = CreatorLog(net.domain, net.x_key, net.a_token, seq, head_id).next_post(
        MANIFEST, "wrong token", now
    )
    big, big_id = oversized(net, good)
    hostile = {
        "forged": (encode(forged), forged_id),
        "tampered": (encode(tamper), digest(tamper.record, net.domain)),
        "replayed from another chain": (encode(replayed_env), replayed_here),
        "future-dated": (encode(future_env), future_id),
        "wrong token": (encode(wrong_env), wrong_id),
        "oversized": (big, big_id),
    }
    assert replayed_id != replayed_here
    for name, (data, _pid) in hostile.items():
        score = peer_ids(net.b)[net.m.peer_id]
        net.m.publish(TOPIC_POSTS, data)
        # each Reject costs M points on B (P4); decay between two of them is far smaller
        eventually(partial(score_below, net, score - 5), 20, f"M penalised for the {name} post")

    # honest posts keep flowing to C, after everything M sent
    honest_after = publish_on_a(net, "after the attack")
    eventually(lambda: has_post(net.c, honest_after))
    for name, (_data, pid) in hostile.items():
        for peer in (net.b, net.c):
            assert not has_post(peer, hex_id(pid)), f"{name} post stored"
    assert len(creator_posts(net.b, net.a_creator)) == stored_before + 1
    for name, peer in (("b", net.b), ("c", net.c)):
        assert len(creator_posts(peer, net.x_creator)) == x_count[name] + 1, "a copy was stored"
    scores_b = peer_ids(net.b)
    assert scores_b[net.m.peer_id] < 0, scores_b
    assert scores_b[ids["a"]] >= 0, scores_b
    assert scores_b[ids["c"]] >= 0, scores_b
    scores_c = peer_ids(net.c)
    assert scores_c[ids["b"]] >= 0, f"B forwarded a rejected record to C: {scores_c}"
    assert ids["a"] not in scores_c
