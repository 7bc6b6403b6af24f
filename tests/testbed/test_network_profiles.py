"""Network profiles on the test bed (issue 20): people on separate hosts share one chain.

The world of ``scenarios_support`` is built from profiles: Alice runs ``toktok run`` with her
devnet listening on her bed address (the "my devnet, shared with a friend on my LAN" case), so
her host is the chain host.

(1) ``toktok network create`` deployed a new TOK and factory to that anvil; fresh data dirs on
five hosts joined that profile (its bootstrap entry is the boot host's peer). Scenario (a) of
``test_scenarios.py`` then has the creator create a token and publish a premium clip, and a fan
on another host buy, unlock and play it (hash-checked through the fan's own content port).
(2) ``toktok network export`` on Alice's devnet peer wrote a profile that Bob, on another host,
joined: his peer uses her chain and finds her.
"""

from __future__ import annotations

from functools import partial

import pytest
from support.daemon import eventually

from testbed.scenarios_support import JOINERS, RPC_PORT, World, connected_peers

# the first test here may build the shared world (two beds' worth of set-up before it was shared)
pytestmark = [pytest.mark.testbed, pytest.mark.timeout(600)]


def test_profiles_created_and_exported_on_one_bed_let_hosts_share_a_chain(world: World) -> None:
    alice, bob = world.chain, world.bob
    rpc = f"http://{world.hosts['chain'].address}:{RPC_PORT}"
    assert alice.status()["chain"]["rpc_url"] == rpc

    # (2) Alice's exported devnet: her chain on her bed address, her peer as bootstrap
    exported = world.exported
    assert exported.rpc_urls == (rpc,)
    assert any(f"/ip4/{world.hosts['chain'].address}/" in a for a in exported.bootstrap)
    assert bob.status()["chain"]["factory"] == exported.factory
    alice_id = alice.status()["peer_id"]
    eventually(lambda: alice_id in connected_peers(bob), 60, "bob finding alice")

    # (1) a new network on the same anvil
    profile = world.profile
    assert profile.rpc_urls == (rpc,)
    boot = f"/ip4/{world.hosts['boot'].address}/tcp/4001/p2p/{world.boot_id}"
    assert profile.bootstrap == (boot,)
    assert profile.factory != exported.factory
    for name in JOINERS:
        assert world.peers[name].status()["chain"]["factory"] == profile.factory, name
    for peer in (world.creator, world.fan1, world.fan2):
        eventually(
            partial(lambda p: world.boot_id in connected_peers(p), peer),
            60,
            f"{peer.name} dialling the profile's bootstrap peer",
        )
