"""Issue 23 §2 and §3 with the real daemons of this folder (A <-> B <-> C, see conftest.py).

- A peer speaking only ``/toktok/sync/1.0.0`` (C restarted with ``sync.protocol_1_1 = false``)
  still syncs posts with B in both directions, and neither lowers the other's score.
- C, offline while A withdrew a post, B took a like back and commented, converges on all three
  after reconnecting (sync 1.1: tombstones, likeV2 and comments are synced, not only posts).
"""

from __future__ import annotations

import secrets

import pytest
from support.daemon import Daemon, run_cli
from support.feednet import (
    Net,
    api,
    connect,
    creator_posts,
    daemon_addr,
    daemon_peer_id,
    eventually,
    has_post,
    peer_ids,
    publish_on_a,
)

pytestmark = pytest.mark.integration


def likes(daemon: Daemon, post_id: str) -> int:
    return int(api(daemon).get(f"/api/v1/posts/{post_id}")["likes"])


def comments(daemon: Daemon, post_id: str) -> list[str]:
    return [c["text"] for c in api(daemon).get(f"/api/v1/posts/{post_id}/comments")["items"]]


def test_a_peer_speaking_only_sync_1_0_syncs_posts_both_ways_unpenalised(net: Net) -> None:
    assert net.c.stop() == 0
    from_a = publish_on_a(net, "while C was away " + secrets.token_hex(3))
    eventually(lambda: has_post(net.b, from_a), what="A's post on B")
    net.c = net.procs.daemon(net.root / "c", {**net.rpc_env, "TOKTOK_SYNC_PROTOCOL_1_1": "false"})
    connect(net.c, daemon_addr(net.b))
    eventually(lambda: has_post(net.c, from_a), what="A's post on C, by sync 1.0 from B")

    # C's own free post travels on its creator topic only, which B does not follow: B gets it
    # by sync (B asks 1.1, C does not serve it, B asks again in 1.0).
    done = run_cli(net.c.data_dir, "publish", str(net.clip), "--title", "only C", "--json")
    assert done.returncode == 0, done.stderr
    c_creator = api(net.c).get("/api/v1/profile")["address"]
    eventually(lambda: creator_posts(net.b, c_creator), timeout=40, what="C's post on B")

    b_id, c_id = daemon_peer_id(net.b), daemon_peer_id(net.c)
    scores_b, scores_c = peer_ids(net.b), peer_ids(net.c)
    assert scores_b[c_id] >= 0, scores_b
    assert scores_c[b_id] >= 0, scores_c


def test_c_offline_converges_on_a_withdrawn_post_a_like_taken_back_and_a_comment(net: Net) -> None:
    withdrawn = publish_on_a(net, "to be withdrawn " + secrets.token_hex(3))
    liked = publish_on_a(net, "to be unliked " + secrets.token_hex(3))
    assert api(net.b).post(f"/api/v1/posts/{liked}/like", {})["likes"] == 1
    # C (1.0-only after the test above) gets the posts by gossip or sync 1.0, the like only by
    # gossip; a like lost on the way is fine: the unlike must win on C either way
    eventually(lambda: has_post(net.c, withdrawn) and has_post(net.c, liked), what="C in step")

    assert net.c.stop() == 0
    assert api(net.a).post(f"/api/v1/posts/{withdrawn}/delete", {})["deleted"] is True
    text = "said while C was away " + secrets.token_hex(3)
    api(net.b).post(f"/api/v1/posts/{liked}/comments", {"text": text})
    done = run_cli(net.b.data_dir, "unlike", liked, "--json")
    assert done.returncode == 0, done.stderr
    assert '"likes": 0' in done.stdout
    eventually(lambda: not has_post(net.b, withdrawn), what="the tombstone on B")

    net.restart_c()  # speaks sync 1.1 again
    connect(net.c, daemon_addr(net.b))
    eventually(lambda: likes(net.c, liked) == 0, what="the unlike on C, by sync 1.1")
    eventually(lambda: not has_post(net.c, withdrawn), what="the tombstone on C, by sync 1.1")
    eventually(lambda: text in comments(net.c, liked), what="B's comment on C, by sync 1.1")
    assert daemon_peer_id(net.a) not in peer_ids(net.c), "C never connected to A"
