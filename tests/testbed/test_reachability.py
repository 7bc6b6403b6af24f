"""Reachability on the bed with real daemons (issue 21, scenario c without a relay): two public
hosts (AutoNAT servers) and two peers behind routers, one endpoint-independent and one
symmetric, with no relay in their settings. The NAT is first shown to be in the way; then the
public peer learns from a dial-back that it is reachable, and each NAT'd peer learns from the
servers' refusals that it is not, and its status says why."""

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
            dial = f"import socket; socket.create_connection(('{target}', {P2P_PORT}), timeout=3)"
            refused = public[0].exec("python3", "-c", dial, check=False)
            assert refused.returncode != 0, f"{target} answered from the backbone"

    with ThreadPoolExecutor(2) as pool:
        boot, pub = pool.map(lambda h: h.run_peer(env=BED_RANGES, name="peer"), public)
        pub.connect(boot)
        seeds = [boot.multiaddr, pub.multiaddr]
        nat_peers = list(
            pool.map(lambda h: h.run_peer(env=BED_RANGES, bootstrap=seeds, name="peer"), homes)
        )

    seen = wait_for(lambda: settled(pub, "public"), VERDICT_TIMEOUT_S, "pub's dial-back")
    assert seen["summary"] == "reachable"
    for peer in nat_peers:
        seen = wait_for(lambda p=peer: settled(p, "private"), VERDICT_TIMEOUT_S, "refusals")
        print(f"{peer.name}: {seen['summary']}: {seen['reason']}")
        assert seen["summary"] == "behind NAT, unreachable"
        assert "no relay in p2p.relays or the network profile" in seen["reason"]
        assert f"IP this request came from ({peer.host.wan_address})" in seen["reason"]
        assert all(peer.host.address in a for a in seen["announced"])  # its inside address
    served = sum(reachability(p)["dialbacks_served"] for p in (boot, pub))
    assert served >= 1
