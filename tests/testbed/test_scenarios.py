"""Toktok across separate network hosts (issue 19): real ``toktok run`` daemons on bed hosts
with 40 ± 10 ms one way and 1 % loss on every link, one shared chain on its own host reached by
RPC, and a bootstrap host. Scenarios run in file order on one world:

(a) a creator and two fans on separate hosts; (b) the creator cut off, a new host plays from a
fan; (c) a fan partitioned while 20 posts are published converges after healing; (d) a fan
behind 200 ms and 3 % loss plays a new clip (time to first frame recorded).

Figures go to bench-results/testbed-scenarios.json.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.daemon import eventually
from testbed.conftest import require_bed
from testbed.scenarios_support import (
    LINK,
    PEER_ENV,
    PREMIUM_MIN,
    World,
    play_in_chromium,
    play_through_content_port,
)

from netbed import Bed, LinkSpec, registry
from netbed.peers import BedPeer, start_chain, start_peer
from storage.media.samples import SampleSpec, make_sample

pytestmark = pytest.mark.testbed
E18 = 10**18


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_bed()
    folder = tmp_path_factory.mktemp("world")
    t0 = time.monotonic()
    clip = make_sample(SampleSpec("bedclip", 180, 320, 1.0), folder / "clips")
    tiny = make_sample(SampleSpec("tiny", 64, 114, duration_s=1.0, fps=10), folder / "clips")
    assert clip.stat().st_size <= 1_000_000
    with Bed(folder / "bed", seed=19) as bed:
        names = ("chain", "boot", "creator", "fan1", "fan2", "late")
        hosts = {name: bed.add_host(name, **LINK) for name in names}
        peers_only = [h for n, h in hosts.items() if n not in ("late", "chain")]
        bed.partition(hosts["late"], peers_only)  # no peer reaches it before scenario (b)
        chain = start_chain(hosts["chain"])
        keys = {"boot": 9, "creator": 1, "fan1": 2, "fan2": 3, "late": 4}
        with ThreadPoolExecutor(len(keys)) as pool:
            started = {
                name: pool.submit(start_peer, hosts[name], chain=chain, dev_key=key, env=PEER_ENV)
                for name, key in keys.items()
            }
            peers = {name: future.result() for name, future in started.items()}
        for name in ("creator", "fan1", "fan2"):  # the bootstrap host is dialled first
            peers[name].connect(peers["boot"])
        world = World(bed, chain, hosts, peers, clip, tiny)
        world.record("world_start_s", round(time.monotonic() - t0, 1))
        yield world
    # every daemon, the chain, the delay line and the namespaces are gone
    assert registry.namespaces_of(bed.run_id) == []
    assert all(proc.poll() is not None for proc in bed.processes)


def test_a_creator_and_two_fans_on_separate_hosts_share_one_chain(world: World) -> None:
    t0 = time.monotonic()
    creator, fan1, fan2 = world.creator, world.fan1, world.fan2
    fan1.connect(creator)  # fan 2 knows only the bootstrap host
    creator.api.post("/api/v1/profile", {"name": "Ana"})
    world.token = creator.api.post("/api/v1/token", {"name": "Ana Clips", "symbol": "ANA"})[
        "address"
    ]
    world.free = creator.publish(world.clip, "Free on the bed", ["bed"])
    world.premium = eventually(
        lambda: _try_publish_premium(world), 60, "publishing the premium clip"
    )
    me = creator.address
    fan1.api.post(f"/api/v1/creators/{me}/follow", {"on": True})
    eventually(lambda: fan1.has_post(world.free) and fan1.has_post(world.premium), 90, "fan 1")
    following = fan1.api.get("/api/v1/feed?tab=following")["items"]
    assert {world.free, world.premium} <= {item["id"] for item in following}

    play_through_content_port(fan1, world.free, creator)
    ttff = play_in_chromium(world.hosts["fan1"], fan1, world.free)

    locked = fan1.api.get(f"/api/v1/posts/{world.premium}/clip")
    assert locked["locked"] is True
    plan = fan1.api.get(f"/api/v1/clips/{world.premium}/buy-plan")
    unlocked = fan1.api.post(
        f"/api/v1/clips/{world.premium}/unlock", {"buy": True, "max_cost": plan["max_cost"]}
    )
    assert unlocked["unlocked"] is True
    holders = fan1.api.get(f"/api/v1/tokens/{world.token}/holders")["holders"]
    held = sum(int(h["balance"]) for h in holders if h["address"].lower() == fan1.address.lower())
    assert held >= PREMIUM_MIN * E18
    play_through_content_port(fan1, world.premium, creator)
    play_in_chromium(world.hosts["fan1"], fan1, world.premium)

    eventually(lambda: fan2.has_post(world.free), 120, "fan 2 getting the free post")
    play_through_content_port(fan2, world.free, creator)
    world.record(
        "a", {"seconds": round(time.monotonic() - t0, 1),
              "fan1_chromium_first_playing_ms": round(ttff)},
    )  # fmt: skip


def _try_publish_premium(world: World) -> str | None:
    """Right after the token is created the registry (read at a lagged block) may not know it
    yet: a refusal naming the token is retried."""
    from netbed.errors import BedError

    try:
        return world.creator.publish(world.clip, "Members only", ["bed"], min_balance=PREMIUM_MIN)
    except BedError as exc:
        if "token" not in str(exc):
            raise
        return None


def test_b_with_the_creator_cut_off_a_new_host_plays_from_a_fan(world: World) -> None:
    assert world.free, "scenario (a) did not publish"
    t0 = time.monotonic()
    bed, late = world.bed, world.late
    bed.partition(world.hosts["creator"])
    bed.heal(world.hosts["late"])
    bed.partition(world.hosts["creator"])  # still cut off from every host, the late one too
    try:
        late.connect(world.fan1)
        eventually(lambda: late.has_post(world.free), 120, "the new host getting the post")
        play_through_content_port(late, world.free, world.fan1)
    finally:
        bed.heal(world.hosts["creator"])
    world.record("b", {"seconds": round(time.monotonic() - t0, 1)})


def test_c_a_partitioned_host_converges_after_healing(world: World) -> None:
    assert world.free, "scenario (a) did not publish"
    t0 = time.monotonic()
    bed, creator, fan2 = world.bed, world.creator, world.fan2
    fan2.api.post(f"/api/v1/creators/{creator.address}/follow", {"on": True})
    bed.partition(world.hosts["fan2"])
    try:
        jobs = [
            creator.api.post(
                "/api/v1/publish/file",
                {"path": str(world.tiny), "title": f"While you were away {i}", "tags": []},
            )["job"]
            for i in range(20)
        ]
        missed = [_done(creator, job) for job in jobs]
        assert not any(fan2.has_post(post) for post in missed)
    finally:
        bed.heal(world.hosts["fan2"])
    healed = time.monotonic()
    eventually(lambda: all(fan2.has_post(p) for p in missed), 150, "fan 2 converging")
    world.record(
        "c", {"seconds": round(time.monotonic() - t0, 1),
              "converged_after_heal_s": round(time.monotonic() - healed, 1)},
    )  # fmt: skip


def _done(peer: BedPeer, job: str) -> str:
    state = eventually(
        lambda: (s := peer.api.get(f"/api/v1/publish/{job}"))["state"] != "running" and s,
        180,
        f"publish job {job}",
    )
    assert state["state"] == "done", state
    return str(state["post_id"])


def test_d_a_peer_behind_200_ms_and_3_percent_loss_plays_a_clip(world: World) -> None:
    assert world.free, "scenario (a) did not publish"
    t0 = time.monotonic()
    slow, fan2 = world.hosts["fan2"], world.fan2
    # not following: it does not replicate the new clip, so playing it fetches it over the link
    fan2.api.post(f"/api/v1/creators/{world.creator.address}/follow", {"on": False})
    slow.set_link(LinkSpec(latency_ms=200, jitter_ms=0, loss=0.03))
    post = world.creator.publish(world.clip, "For the slow link", ["bed"])
    eventually(lambda: fan2.has_post(post), 120, "the slow fan getting the post")
    before = fan2.api.get("/api/v1/storage")
    ttff_ms = play_in_chromium(slow, fan2, post)
    after = fan2.api.get("/api/v1/storage")
    play_through_content_port(fan2, post, world.creator)
    print(f"(d) 200 ms one way, 3 % loss: first frame in Chromium after {ttff_ms:.0f} ms")
    world.record(
        "d",
        {
            "seconds": round(time.monotonic() - t0, 1),
            "chromium_first_playing_ms": round(ttff_ms),
            "bitswap_bytes_received_while_playing": after["bitswap"]["client"]["bytes_received"]
            - before["bitswap"]["client"]["bytes_received"],
        },
    )
