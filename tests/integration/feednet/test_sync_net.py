"""Issue 9 (a) and (c) "Done when" with real peers in separate processes (see conftest.py).

(a) C, offline while 25 posts were published, gets all 25 in order after reconnecting (more
than one sync page of 20); C, connected to B all along, gets posts that reached B by sync (so
were never gossiped) through the periodic sync round, without reconnecting.
(c) A peer advertising a thousand unknown creators at an absurd seq is contained: bounded
requests, nothing stored, and C stays healthy.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from support.daemon import Daemon
from support.feednet import (
    SYNC_INTERVAL_S,
    SYNC_PAGE_SIZE,
    Net,
    RawPeer,
    SyncHelper,
    api,
    connect,
    creator_posts,
    daemon_addr,
    daemon_peer_id,
    eventually,
    has_post,
    import_key,
    peer_ids,
    publish_on_a,
)

from peer.errors import DaemonError
from peer.feed.builders import CreatorLog
from peer.feed.gossip import creator_topic
from peer.feed.records import ZERO_ADDRESS
from peer.feed.signatures import address_of
from peer.feed.wire import encode
from peer.sync import SyncOptions
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.integration

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
# the daemons' sync settings (support.feednet.base_env sets them)
SYNC = SyncOptions(interval_s=SYNC_INTERVAL_S, page_size=SYNC_PAGE_SIZE)
PERIODIC_TIMEOUT_S = 2 * SYNC.interval_s + 15
OBSERVE_S = 12.0


def test_offline_peer_gets_all_25_posts_in_order_after_reconnecting(net: Net) -> None:
    key = keccak(b"feednet offline creator")
    creator = address_of(key)
    topic = creator_topic(creator)
    assert api(net.b).post(f"/api/v1/creators/{creator}/follow", {"on": True})["following"]
    creator_peer = RawPeer(net.procs, net.root / "y" / "identity.key")
    connect(net.b, creator_peer.addrs[0])
    b_id = daemon_peer_id(net.b)
    eventually(lambda: b_id in creator_peer.call("topic_peers", topic=topic))

    assert net.c.stop() == 0, "C stops cleanly"
    log = CreatorLog(net.domain, key)
    ids = []
    for _ in range(25):
        envelope, post_id = log.next_post(
            MANIFEST, f"while C was away {log.seq + 1}", int(time.time())
        )
        creator_peer.publish(topic, encode(envelope))
        ids.append("0x" + post_id.hex())
    eventually(lambda: len(creator_posts(net.b, creator)) == 25)
    assert SYNC.page_size < 25, "the catch-up needs more than one page"

    net.restart_c()
    connect(net.c, daemon_addr(net.b))
    eventually(lambda: len(creator_posts(net.c, creator)) == 25)
    items = creator_posts(net.c, creator)
    assert [i["seq"] for i in items] == list(range(25, 0, -1)), "newest first, none missing"
    assert [i["id"] for i in items] == ids[::-1]
    assert daemon_peer_id(net.a) not in peer_ids(net.c), "C still never connected to A"


def test_connected_peer_converges_through_periodic_sync_without_reconnecting(net: Net) -> None:
    # D holds a creator's posts and talks only sync: they reach B when D connects (the
    # connection round), and B does not re-gossip what it got by sync. C, connected to B
    # since before, has no new connection to trigger a round: only the periodic one helps.
    key = keccak(b"feednet periodic creator")
    creator = address_of(key)
    b_id, c_id = daemon_peer_id(net.b), daemon_peer_id(net.c)
    eventually(lambda: b_id in peer_ids(net.c))
    d = SyncHelper(net.procs, net.root / "d", net.domain, mode="honest", key=key.hex(), count=5)
    d.call("connect", addr=daemon_addr(net.b))
    eventually(lambda: len(creator_posts(net.b, creator)) == 5)
    assert not creator_posts(net.c, creator)

    def converged() -> bool:
        assert b_id in peer_ids(net.c), "C lost its connection to B"
        return len(creator_posts(net.c, creator)) == 5

    eventually(converged, timeout=PERIODIC_TIMEOUT_S)
    assert c_id not in d.call("peers"), "C never talked to D"
    assert [i["seq"] for i in creator_posts(net.c, creator)] == [5, 4, 3, 2, 1]
    d.stop()


def test_a_peer_advertising_bogus_heads_is_contained(net: Net) -> None:
    # H's heads name 1,000 unknown creators at seq 2^53 (and profile version 2^53); it answers
    # every range and profiles request with nothing. C must bound what it asks per round and
    # per period, store nothing, and keep working.
    c_id = daemon_peer_id(net.c)
    feed_before = api(net.c).get("/api/v1/feed?limit=50")["items"]
    h = SyncHelper(net.procs, net.root / "h", net.domain, mode="hostile", creators=1000)
    h.call("connect", addr=daemon_addr(net.c))
    eventually(lambda: h.call("served").get("heads", 0) >= 1)
    started = time.monotonic()
    time.sleep(OBSERVE_S)
    served: dict[str, int] = h.call("served")
    elapsed = time.monotonic() - started
    rounds = served.get("heads", 0)
    fetches = served.get("range", 0) + served.get("profiles", 0)
    periods = 1 + int(elapsed // SYNC.interval_s) + 1
    print(f"bogus heads: C sent {served} in {elapsed:.1f} s")  # shown with -rP
    assert served.get("range", 0) >= 1, served
    assert rounds <= (1 + SYNC.max_followups) * periods, f"{served} in {elapsed:.0f} s"
    assert fetches <= rounds * SYNC.max_pages_per_round, f"{served} in {elapsed:.0f} s"
    assert api(net.c).get("/healthz")["ready"] is True
    assert api(net.c).get("/api/v1/feed?limit=50")["items"] == feed_before, "nothing stored"
    assert c_id in h.call("peers")

    # C keeps working: a new post from A still arrives (through B).
    post_id = publish_on_a(net, "after the bogus heads " + secrets.token_hex(3))
    eventually(lambda: has_post(net.c, post_id))
    h.stop()


def test_a_post_with_an_oversized_manifest_costs_one_block_and_is_refused(net: Net) -> None:
    # A serves a 300 KiB file; D advertises (by sync) a valid post naming it as its manifest.
    # The post is a valid record, so B stores it; resolving its clip must look at the root
    # block only (the size is in it), refuse it, and fetch none of the 300 KiB.
    big = net.root / "huge-manifest.json"
    big.write_bytes(secrets.token_bytes(300 * 1024))
    cid = api(net.a).post("/api/v1/storage/add", {"path": str(big)})["cid"]
    key = keccak(b"feednet oversized manifest creator")
    creator = address_of(key)
    d = SyncHelper(
        net.procs, net.root / "d2", net.domain, mode="honest", key=key.hex(), count=1, manifest=cid
    )
    before = blocks_received(net)
    d.call("connect", addr=daemon_addr(net.b))
    (item,) = eventually(lambda: creator_posts(net.b, creator))
    assert item["manifest"] == cid
    with pytest.raises(DaemonError) as refused:
        api(net.b).get(f"/api/v1/posts/{item['id']}/clip")
    assert (refused.value.status, refused.value.code) == (502, "manifest_too_large")
    assert blocks_received(net) - before <= 1, "only the root block was fetched"
    assert api(net.b).get("/healthz")["ready"] is True
    d.stop()


def test_free_posts_made_before_the_creators_token_reach_a_peer_by_sync(net: Net) -> None:
    # E (a daemon on the same devnet) posts 5 free posts while it has no token (token 0x0),
    # creates a token, posts 2 more. B, which never heard of E, syncs them all. Before the
    # rule, every round from E ended at post 1 with `wrong-token` and B stored nothing.
    import_key(net.root / "e", DEV_PRIVATE_KEYS[8], net.rpc_env["TOKTOK_PASSPHRASE"])
    e = net.procs.daemon(net.root / "e", net.rpc_env)
    creator = api(e).get("/api/v1/profile")["address"]
    publish_all(e, net.clip, ["free 1", "free 2", "free 3", "free 4", "free 5"])
    api(e).post("/api/v1/token", {"name": "Early Poster", "symbol": "EARLY"})
    publish_all(e, net.clip, ["with token 6", "with token 7"])
    on_e = sorted(creator_posts(e, creator), key=lambda i: i["seq"])
    assert [i["token"] == ZERO_ADDRESS for i in on_e] == [True] * 5 + [False] * 2

    connect(net.b, daemon_addr(e))
    eventually(lambda: len(creator_posts(net.b, creator)) == 7, what="B has all 7 posts")
    on_b = sorted(creator_posts(net.b, creator), key=lambda i: i["seq"])
    assert [i["id"] for i in on_b] == [i["id"] for i in on_e]
    e.kill()


def publish_all(daemon: Daemon, clip: Path, titles: list[str]) -> None:
    """Publish one post per title through the daemon's API (jobs run side by side) and wait
    until every job is done."""
    body = {"path": str(clip.resolve()), "tags": []}
    jobs = [api(daemon).post("/api/v1/publish/file", {**body, "title": t})["job"] for t in titles]

    def finished() -> bool:
        states = [api(daemon).get(f"/api/v1/publish/{job}") for job in jobs]
        assert all(s["state"] != "failed" for s in states), states
        return all(s["state"] == "done" for s in states)

    eventually(finished, timeout=120, what="every publish job done")


def blocks_received(net: Net) -> int:
    return int(api(net.b).get("/api/v1/storage")["bitswap"]["client"]["blocks_received"])
