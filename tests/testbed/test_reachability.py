"""Reachability on the bed with real daemons (issue 21): two public hosts (AutoNAT servers; "pub"
also a circuit relay) and two peers behind routers: "home1" (endpoint-independent) with pub as
its relay, "home2" (symmetric) with no relay (scenario c). The NAT is first shown to be in the
way; then the public peer learns from a dial-back that it is reachable, each NAT'd peer learns
from the servers' refusals that it is not, and its status says why, or through which relay
others reach it (and "boot" does reach home1 there)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from netbed import Bed
from netbed.bed import wait_for
from netbed.nat import Mapping, add_nat_host
from netbed.peers import P2P_PORT, BedPeer

BED_RANGES = {"TOKTOK_P2P_PUBLIC_RANGES": "198.18.0.0/15"}
VERDICT_TIMEOUT_S = 120.0  # a bound on waiting, not a timed assertion


def reachability(peer: BedPeer) -> dict[str, Any]:
    return dict(peer.status()["reachability"])


def settled(peer: BedPeer, state: str) -> dict[str, Any] | None:
    seen = reachability(peer)
    return seen if seen["state"] == state else None


def test_peers_behind_routers_learn_they_are_unreachable_and_say_why(bed: Bed) -> None:
    public = [bed.add_host(name) for name in ("boot", "pub")]
    homes = [add_nat_host(bed, "home1", Mapping.EIM), add_nat_host(bed, "home2", Mapping.SYMMETRIC)]
    # the NAT is in the way: nothing on the backbone reaches an inside address or the router
    for home in homes:
        for target in (home.address, home.wan_address):
            dial = f"import socket; socket.create_connection(('{target}', {P2P_PORT}), timeout=1)"
            refused = public[0].exec("python3", "-c", dial, check=False)
            assert refused.returncode != 0, f"{target} answered from the backbone"

    with ThreadPoolExecutor(2) as pool:
        # boot is a relay too, and in pub's relays: pub, public, must hold no reservation on it
        boot = public[0].run_peer(env={**BED_RANGES, "TOKTOK_P2P_RELAY_SERVICE": "true"})
        relay_env = {**BED_RANGES, "TOKTOK_P2P_RELAY_SERVICE": "true"}
        pub = public[1].run_peer(env={**relay_env, "TOKTOK_P2P_RELAYS": boot.multiaddr})
        pub.connect(boot)
        seeds = [boot.multiaddr, pub.multiaddr]
        envs = [{**BED_RANGES, "TOKTOK_P2P_RELAYS": pub.multiaddr}, BED_RANGES]
        relayed, alone = pool.map(
            lambda he: he[0].run_peer(env=he[1], bootstrap=seeds, name="peer"),
            zip(homes, envs, strict=True),
        )

    seen = wait_for(lambda: settled(pub, "public"), VERDICT_TIMEOUT_S, "pub's dial-back")
    assert seen["summary"] == "reachable"
    for peer in (relayed, alone):
        seen = wait_for(lambda p=peer: settled(p, "private"), VERDICT_TIMEOUT_S, "refusals")
        print(f"{peer.name}: {seen['summary']}: {seen['reason']}")
        wan = peer.host.wan_address
        # identify told it the router's address; the servers tried it there, and failed
        assert any(a.startswith(f"/ip4/{wan}/tcp/") for a in seen["observed"]), seen
        assert f"dial-back to /ip4/{wan}/tcp/" in seen["reason"]
        assert peer.host.address in seen["announced"][0]  # its inside address, not dialable
        assert not any(wan in a for a in seen["announced"])  # no dial-back confirmed it
    seen = reachability(alone)
    assert seen["summary"] == "behind NAT, unreachable"
    assert "no relay in p2p.relays or the network profile" in seen["reason"]
    assert seen["circuits"] == []
    relay_addr = pub.multiaddr
    seen = wait_for(
        lambda: (r := reachability(relayed))["circuits"] and r, VERDICT_TIMEOUT_S, "a reservation"
    )
    assert seen["summary"] == f"behind NAT, via relay {relay_addr}"
    circuit = seen["circuits"][0]
    assert circuit in seen["announced"]
    reply = boot.api.post("/api/v1/peers/connect", {"multiaddr": circuit})
    assert reply["peer_id"] == relayed.status()["peer_id"]  # boot reached home1 through pub
    served = sum(reachability(p)["dialbacks_served"] for p in (boot, pub))
    assert served >= 1
    # pub is public: it holds no reservation on boot, though boot is in its relays
    seen = reachability(pub)
    assert seen["state"] == "public"
    assert (seen["holding_reservations"], seen["circuits"]) == (False, [])
    assert reachability(boot)["relay_service"]["reservations"] == 0
