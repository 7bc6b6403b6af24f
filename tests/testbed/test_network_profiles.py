"""Network profiles on the test bed (issue 20): people on separate hosts share one chain.

One bed: Alice runs ``toktok run`` with her devnet listening on her bed address (the
"my devnet, shared with a friend on my LAN" case), so her host is also the chain host.

(1) ``toktok network create`` deploys a new TOK and factory to that anvil; fresh data dirs on
three hosts join the profile (its bootstrap entry is the creator's peer); the creator creates a
token and publishes a premium clip; a fan on another host buys, unlocks and plays it
(hash-checked through the fan's own content port).
(2) ``toktok network export`` on Alice's devnet peer writes a profile that Bob, on another
host, joins: his peer uses her chain and finds her.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eth_account import Account
from support.daemon import eventually
from testbed.conftest import require_bed
from testbed.scenarios_support import LINK, PEER_ENV, PREMIUM_MIN
from testbed.scenarios_support import play_through_content_port as play

from netbed import Bed, Host
from netbed.peers import BedPeer, import_dev_key, start_peer
from storage.media.samples import SampleSpec, make_sample
from tokens.deployment import load_deployment
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.testbed
RPC_ENV = {**PEER_ENV, "TOKTOK_CHAIN_MODE": "rpc"}
KEYS = {"alice": 1, "creator": 4, "fan": 2, "third": 3, "bob": 6}
DEPLOYER_KEY = 5


def toktok(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), *args]


def join(host: Host, profile: Path) -> Path:
    """A fresh data dir on ``host`` with a dev key as wallet, joined to ``profile``."""
    data_dir = host.dir / "peer"
    import_dev_key(data_dir, DEV_PRIVATE_KEYS[KEYS[host.name]])
    host.exec(*toktok(data_dir, "init", "--network", str(profile)))
    return data_dir


def peers_of(peer: BedPeer) -> set[str]:
    return {p["peer_id"] for p in peer.api.get("/api/v1/peers")["peers"]}


def test_profiles_created_and_exported_on_one_bed_let_hosts_share_a_chain(
    tmp_path: Path,
) -> None:
    require_bed()
    clip = make_sample(SampleSpec("netclip", 180, 320, 1.0), tmp_path / "clips")
    with Bed(tmp_path / "bed", seed=20) as bed:
        hosts = {name: bed.add_host(name, **LINK) for name in KEYS}
        alice_host = hosts["alice"]
        rpc = f"http://{alice_host.address}:8545"
        alice = start_peer(
            alice_host,
            dev_key=KEYS["alice"],
            env={**PEER_ENV, "TOKTOK_CHAIN_MODE": "devnet",
                 "TOKTOK_CHAIN_DEVNET_HOST": alice_host.address,
                 "TOKTOK_CHAIN_DEVNET_PORT": "8545"},
        )  # fmt: skip
        assert alice.status()["chain"]["rpc_url"] == rpc

        # (2) Alice exports her devnet; Bob's fresh data dir joins it.
        exported_file = tmp_path / "alice.json"
        alice_host.exec(
            *toktok(alice.data_dir, "network", "export", "--name", "alice",
                    "--out", str(exported_file))
        )  # fmt: skip
        exported = load_deployment(exported_file)
        assert exported.rpc_urls == (rpc,)
        assert any(f"/ip4/{alice_host.address}/" in a for a in exported.bootstrap)
        join(hosts["bob"], exported_file)

        # (1) a new network on the same anvil, created from the deployer's key
        creator_dir = join_creator_identity(hosts["creator"])
        creator_id = json.loads(
            hosts["creator"].exec(*toktok(creator_dir, "init", "--json")).stdout
        )["peer_id"]
        boot = f"/ip4/{hosts['creator'].address}/tcp/4001/p2p/{creator_id}"
        key_file = tmp_path / "deployer.key"
        key_file.write_text(DEV_PRIVATE_KEYS[DEPLOYER_KEY])
        fan_address = Account.from_key(DEV_PRIVATE_KEYS[KEYS["fan"]]).address
        profile_file = tmp_path / "bed-network.json"
        alice_host.exec(
            *toktok(tmp_path / "deployer", "network", "create", "--rpc-url", rpc,
                    "--key-file", str(key_file), "--name", "bed", "--tok-holder", fan_address,
                    "--bootstrap", boot, "--out", str(profile_file)),
            timeout=240,
        )  # fmt: skip
        profile = load_deployment(profile_file)
        assert profile.rpc_urls == (rpc,)
        assert profile.bootstrap == (boot,)
        assert profile.factory != exported.factory
        hosts["creator"].exec(*toktok(creator_dir, "init", "--network", str(profile_file)))
        join(hosts["fan"], profile_file)
        join(hosts["third"], profile_file)

        names = ("creator", "fan", "third", "bob")
        with ThreadPoolExecutor(len(names)) as pool:
            started = {n: pool.submit(start_peer, hosts[n], env=RPC_ENV) for n in names}
            peers = {n: future.result() for n, future in started.items()}
        creator, fan = peers["creator"], peers["fan"]

        assert peers["bob"].status()["chain"]["factory"] == exported.factory
        alice_id = alice.status()["peer_id"]
        eventually(lambda: alice_id in peers_of(peers["bob"]), 60, "bob finding alice")
        for name in ("creator", "fan", "third"):
            assert peers[name].status()["chain"]["factory"] == profile.factory, name
        for name in ("fan", "third"):
            eventually(lambda n=name: creator_id in peers_of(peers[n]), 60, f"{name} dialling boot")

        token = creator.api.post("/api/v1/token", {"name": "Bed Clips", "symbol": "BED"})
        premium = eventually(lambda: _publish(creator, clip), 60, "publishing the premium clip")
        fan.api.post(f"/api/v1/creators/{creator.address}/follow", {"on": True})
        eventually(lambda: fan.has_post(premium), 90, "the fan receiving the premium post")
        assert fan.api.get(f"/api/v1/posts/{premium}/clip")["locked"] is True
        plan = fan.api.get(f"/api/v1/clips/{premium}/buy-plan")
        unlocked = fan.api.post(
            f"/api/v1/clips/{premium}/unlock", {"buy": True, "max_cost": plan["max_cost"]}
        )
        assert unlocked["unlocked"] is True
        holders = fan.api.get(f"/api/v1/tokens/{token['address']}/holders")["holders"]
        assert any(h["address"].lower() == fan_address.lower() for h in holders)
        play(fan, premium, creator)


def join_creator_identity(host: Host) -> Path:
    """The creator's data dir with its wallet; its peer id becomes the profile's bootstrap."""
    data_dir = host.dir / "peer"
    import_dev_key(data_dir, DEV_PRIVATE_KEYS[KEYS[host.name]])
    return data_dir


def _publish(creator: BedPeer, clip: Path) -> str | None:
    """Right after the token is created the registry (read at a lagged block) may not know
    it yet: a refusal naming the token is retried."""
    from netbed.errors import BedError

    try:
        return creator.publish(clip, "Members only", ["bed"], min_balance=PREMIUM_MIN)
    except BedError as exc:
        if "token" not in str(exc):
            raise
        return None
