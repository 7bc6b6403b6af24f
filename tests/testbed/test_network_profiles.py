"""Network profiles on the test bed (issue 20): people on separate hosts share one chain.

(1) ``toktok network create`` deploys to the chain host's anvil; fresh data dirs on three hosts
join the profile (its bootstrap entry is the creator's peer); the creator creates a token and
publishes a premium clip; a fan on another host buys, unlocks and plays it (hash-checked).
(2) ``toktok network export`` on a devnet peer that listens on its bed address writes a
profile that a peer on a second host joins: one chain, and the peers find each other.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from testbed.conftest import require_bed
from testbed.scenarios_support import (
    LINK,
    PEER_ENV,
    PREMIUM_MIN,
    eventually,
    play_through_content_port,
)

from netbed import Bed, Host
from netbed.peers import BedPeer, import_dev_key, start_chain, start_peer
from storage.media.samples import SampleSpec, make_sample
from tokens.deployment import load_deployment
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.testbed
RPC_ENV = {**PEER_ENV, "TOKTOK_CHAIN_MODE": "rpc"}


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    require_bed()
    with Bed(tmp_path / "bed", seed=20) as fresh:
        yield fresh


def toktok(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), *args]


def peer_id_of(host: Host, data_dir: Path) -> str:
    done = host.exec(*toktok(data_dir, "init", "--json"))
    return str(json.loads(done.stdout)["peer_id"])


def joined_peer(host: Host, profile: Path, key: int) -> BedPeer:
    data_dir = host.dir / "peer"
    import_dev_key(data_dir, DEV_PRIVATE_KEYS[key])
    host.exec(*toktok(data_dir, "init", "--network", str(profile)))
    return start_peer(host, env=RPC_ENV)


def test_three_hosts_join_a_created_network_and_a_fan_unlocks_a_premium_clip(
    bed: Bed, tmp_path: Path
) -> None:
    hosts = {n: bed.add_host(n, **LINK) for n in ("chain", "creator", "fan", "third")}
    chain = start_chain(hosts["chain"])
    creator_dir = hosts["creator"].dir / "peer"
    import_dev_key(creator_dir, DEV_PRIVATE_KEYS[1])
    creator_id = peer_id_of(hosts["creator"], creator_dir)
    boot = f"/ip4/{hosts['creator'].address}/tcp/4001/p2p/{creator_id}"
    key_file = tmp_path / "deployer.key"
    key_file.write_text(DEV_PRIVATE_KEYS[5])
    fan_address = Account.from_key(DEV_PRIVATE_KEYS[2]).address
    profile = tmp_path / "bed-network.json"
    hosts["chain"].exec(
        *toktok(tmp_path / "deployer", "network", "create", "--rpc-url", chain.rpc_url,
                "--key-file", str(key_file), "--name", "bed", "--tok-holder", fan_address,
                "--bootstrap", boot, "--out", str(profile)),
        timeout=240,
    )  # fmt: skip
    created = load_deployment(profile)
    assert created.rpc_urls == (chain.rpc_url,)
    assert created.bootstrap == (boot,)

    # the creator joins in place: its identity is already the profile's bootstrap entry
    hosts["creator"].exec(*toktok(creator_dir, "init", "--network", str(profile)))
    creator = start_peer(hosts["creator"], env=RPC_ENV)
    fan = joined_peer(hosts["fan"], profile, 2)
    third = joined_peer(hosts["third"], profile, 3)
    for peer in (creator, fan, third):
        chain_status = peer.status()["chain"]
        assert chain_status["factory"] == created.factory, peer.name
        assert chain_status["rpc_url"] == chain.rpc_url, peer.name
    for peer in (fan, third):  # they found the creator through the profile's bootstrap entry
        eventually(
            lambda p=peer: any(
                x["peer_id"] == creator_id for x in p.api.get("/api/v1/peers")["peers"]
            ),
            60,
            f"{peer.name} dialling the profile's bootstrap peer",
        )

    token = creator.api.post("/api/v1/token", {"name": "Bed Clips", "symbol": "BED"})["address"]
    clip = make_sample(SampleSpec("netclip", 180, 320, 1.0), tmp_path / "clips")

    def publish() -> str | None:
        try:
            return creator.publish(clip, "Members only", ["bed"], min_balance=PREMIUM_MIN)
        except Exception as exc:  # the registry is read at a lagged block: retry on "token"
            if "token" not in str(exc):
                raise
            return None

    premium = eventually(publish, 60, "publishing the premium clip")
    fan.api.post(f"/api/v1/creators/{creator.address}/follow", {"on": True})
    eventually(lambda: fan.has_post(premium), 90, "the fan receiving the premium post")
    assert fan.api.get(f"/api/v1/posts/{premium}/clip")["locked"] is True
    plan = fan.api.get(f"/api/v1/clips/{premium}/buy-plan")
    unlocked = fan.api.post(
        f"/api/v1/clips/{premium}/unlock", {"buy": True, "max_cost": plan["max_cost"]}
    )
    assert unlocked["unlocked"] is True
    holders = fan.api.get(f"/api/v1/tokens/{token}/holders")["holders"]
    assert any(h["address"].lower() == fan_address.lower() for h in holders)
    play_through_content_port(fan, premium, creator)


def test_an_exported_devnet_on_a_bed_address_is_joined_from_another_host(
    bed: Bed, tmp_path: Path
) -> None:
    hosts = {n: bed.add_host(n, **LINK) for n in ("alice", "bob")}
    alice_host = hosts["alice"]
    alice = start_peer(
        alice_host,
        dev_key=1,
        env={**PEER_ENV, "TOKTOK_CHAIN_MODE": "devnet",
             "TOKTOK_CHAIN_DEVNET_HOST": alice_host.address, "TOKTOK_CHAIN_DEVNET_PORT": "8545"},
    )  # fmt: skip
    assert alice.status()["chain"]["rpc_url"] == f"http://{alice_host.address}:8545"
    profile = tmp_path / "alice.json"
    alice_host.exec(
        *toktok(alice.data_dir, "network", "export", "--name", "alice", "--out", str(profile))
    )
    exported = load_deployment(profile)
    assert exported.rpc_urls == (f"http://{alice_host.address}:8545",)
    assert any(f"/ip4/{alice_host.address}/" in a for a in exported.bootstrap)

    bob = joined_peer(hosts["bob"], profile, 2)
    assert bob.status()["chain"]["factory"] == exported.factory
    alice_id = alice.status()["peer_id"]
    eventually(
        lambda: any(p["peer_id"] == alice_id for p in bob.api.get("/api/v1/peers")["peers"]),
        60,
        "bob dialling alice from the exported profile",
    )
