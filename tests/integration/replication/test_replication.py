"""Replication with real daemons on loopback (issue 9, Done-when (b) and (d)).

Every peer is its own ``toktok run`` process; one of them runs the devnet, the others use its
chain over RPC with their own dev-account wallets.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.daemon import StartDaemon, run_cli
from support.replication_peers import (
    chain_env,
    client,
    connect,
    eventually,
    publish,
    rendition_bytes,
    replication,
    rpc_peer,
)

pytestmark = pytest.mark.integration
NO_REPLICATION = {"TOKTOK_STORAGE_REPLICATE": "false"}


def test_a_clip_stays_playable_from_a_fan_after_its_creator_stops(
    start_daemon: StartDaemon, tmp_path: Path, clips: dict[str, Path]
) -> None:
    # The fan runs the devnet, so the chain outlives the creator's peer.
    fan = start_daemon(tmp_path / "fan", env={"TOKTOK_CHAIN_MODE": "devnet"})
    # The newcomer starts now, beside the creator (a start takes seconds), but connects to
    # nobody until the creator has stopped.
    with ThreadPoolExecutor(max_workers=2) as pool:
        starting = pool.submit(rpc_peer, start_daemon, tmp_path / "creator", fan, 4)
        newcomer = start_daemon(
            tmp_path / "newcomer", env={**chain_env(fan), **NO_REPLICATION}
        )  # no wallet: it only watches
        creator = starting.result()
    post_id = publish(creator, clips["portrait"], "Still here")
    original = rendition_bytes(creator, post_id)

    connect(fan, creator)
    address = client(creator).get("/api/v1/profile")["address"]
    client(fan).post(f"/api/v1/creators/{address}/follow", {"on": True})
    state = eventually(
        lambda: replication(fan)["pinned_posts"] == 1 and replication(fan),
        what="the fan replicates the creator's clip",
    )
    assert state["enabled"] is True
    assert 0 < state["used_bytes"] <= state["budget_bytes"]
    assert state["failed"] == 0
    assert creator.stop() == 0

    # A newcomer that never met the creator gets the post from the fan (sync) and plays it.
    assert client(newcomer).get("/api/v1/peers")["peers"] == [], "it met nobody so far"
    connect(newcomer, fan)
    eventually(
        lambda: any(i["id"] == post_id for i in client(newcomer).get("/api/v1/feed")["items"]),
        what="the newcomer syncs the post from the fan",
    )
    assert rendition_bytes(newcomer, post_id, "100-4195") == original[100:4196]
    assert rendition_bytes(newcomer, post_id) == original
    stats = client(newcomer).get("/api/v1/storage")
    assert stats["bitswap"]["client"]["blocks_received"] > 0
    assert stats["replication"] is None, "replication is switched off on the newcomer"


def clip_size(daemon_dir: Path, manifest: str) -> int:
    """Declared bytes of a clip (manifest, poster, renditions), read from its manifest."""
    shown = run_cli(daemon_dir, "cat", manifest)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    return (
        len(shown.stdout.encode())
        + int(data["poster"]["size"])
        + sum(int(r["size"]) for r in data["renditions"])
    )


def pinned_cids(daemon_dir: Path) -> set[str]:
    listed = run_cli(daemon_dir, "pin", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    return {p["cid"] for p in json.loads(listed.stdout)["pins"]}


def test_the_disk_budget_holds_and_own_clips_survive_eviction(
    start_daemon: StartDaemon, tmp_path: Path, clips: dict[str, Path]
) -> None:
    creator = start_daemon(
        tmp_path / "creator", env={"TOKTOK_CHAIN_MODE": "devnet", **NO_REPLICATION}
    )
    posts = [publish(creator, clips["portrait"], "portrait")]
    time.sleep(1.1)  # distinct createdAt seconds: "oldest" is well defined
    posts.append(publish(creator, clips["landscape"], "landscape"))
    # the newest clip comes seconds later (after the fan's start and its own publish)
    manifests = [client(creator).get(f"/api/v1/posts/{p}")["manifest"] for p in posts]
    sizes = [clip_size(creator.data_dir, m) for m in manifests]
    budget = sum(sizes) + 16 * 1024  # both fit; a third clip cannot fit beside them
    fan = rpc_peer(
        start_daemon,
        tmp_path / "fan",
        creator,
        5,
        {"TOKTOK_STORAGE_DISK_BUDGET_MB": str(budget / (1024 * 1024))},
    )
    own = publish(fan, clips["rotated"], "mine")
    own_manifest = client(fan).get(f"/api/v1/posts/{own}")["manifest"]
    own_size = clip_size(fan.data_dir, own_manifest)
    assert own_size > budget - sum(sizes), "the own clip would not fit the spare room"

    connect(fan, creator)
    address = client(creator).get("/api/v1/profile")["address"]
    client(fan).post(f"/api/v1/creators/{address}/follow", {"on": True})
    before = eventually(
        lambda: replication(fan)["pinned_posts"] == 2 and replication(fan),
        what="the fan replicates both clips",
    )
    assert before["used_bytes"] == sum(sizes), "own clips never count against the budget"
    assert before["budget_bytes"] == budget

    newest = publish(creator, clips["no-audio"], "newest")
    newest_manifest = client(creator).get(f"/api/v1/posts/{newest}")["manifest"]
    after = eventually(
        lambda: newest_manifest in pinned_cids(fan.data_dir) and replication(fan),
        what="the fan replicates the newest clip",
    )
    assert after["evicted"] >= 1
    assert after["used_bytes"] <= budget
    pins = pinned_cids(fan.data_dir)
    assert manifests[0] not in pins, "the oldest clip went first"
    newest_size = clip_size(creator.data_dir, newest_manifest)
    assert (manifests[1] in pins) == (sizes[1] + newest_size <= budget)
    assert after["used_bytes"] == newest_size + (sizes[1] if manifests[1] in pins else 0)

    # The fan's own clip is untouched: still pinned, every block present (GC ran on eviction).
    assert own_manifest in pins
    verified = run_cli(fan.data_dir, "storage", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    shown = run_cli(fan.data_dir, "storage", "stats")
    assert "evicted" in shown.stdout, shown.stdout
    assert rendition_bytes(fan, own)[4:8] == b"ftyp"
