"""Routers of the bed: a host behind a NAT cannot be dialled at its inside address, its own
connections go out under the router's address, and the two mapping behaviours differ as RFC 4787
says (one external port for every destination vs one per destination)."""

from __future__ import annotations

import json
import sys
import time

import pytest

from netbed import Bed, Host, IsolationError, netns
from netbed.nat import Mapping, NatHost, add_nat_host, nft_available

REFLECT_PORT = 7100
LOCAL_PORT = 40123


@pytest.fixture(autouse=True)
def _nft() -> None:
    reason = nft_available()
    if reason:
        pytest.fail(reason)  # scripts/setup installs it wherever the bed can run


def natprobe(*args: str) -> list[str]:
    return [sys.executable, "-m", "netbed.natprobe", *args]


def start_reflector(host: Host) -> str:
    log = host.dir / "reflect.log"
    proc = host.popen(natprobe("reflect", "--bind", f"{host.address}:{REFLECT_PORT}"), log=log)
    deadline = time.monotonic() + 10
    while "listening" not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the reflector did not start"
        time.sleep(0.05)
    return f"{host.address}:{REFLECT_PORT}"


def seen_from(host: NatHost, reflectors: list[str], protocol: str) -> dict[str, str]:
    args = [a for r in reflectors for a in ("--to", r)]
    done = host.exec(
        *natprobe("mapping", *args, "--local-port", str(LOCAL_PORT), "--protocol", protocol)
    )
    return dict(json.loads(done.stdout)["seen"])


def test_the_inside_address_cannot_be_dialled_from_outside_but_outbound_works(bed: Bed) -> None:
    public = bed.add_host("pub")
    inside = add_nat_host(bed, "home", Mapping.EIM)
    inside_reflector = start_reflector(inside)
    refused = public.exec(
        *natprobe("mapping", "--to", inside_reflector, "--local-port", str(LOCAL_PORT)),
        check=False,
    )
    assert refused.returncode != 0, refused.stdout  # no route to 198.19.x.y from the backbone
    wan_reflector = f"{inside.wan_address}:{REFLECT_PORT}"
    refused = public.exec(
        *natprobe("mapping", "--to", wan_reflector, "--protocol", "tcp"),
        *("--local-port", str(LOCAL_PORT), "--timeout", "2"),
        check=False,
    )
    assert refused.returncode != 0, refused.stdout  # the router forwards nothing unasked
    assert "timed out" in refused.stderr, refused.stderr  # and drops it silently (no RST)
    seen = seen_from(inside, [start_reflector(public)], "tcp")
    assert [s.split(":")[0] for s in seen.values()] == [inside.wan_address]


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_endpoint_independent_and_symmetric_mappings_differ(bed: Bed, protocol: str) -> None:
    reflectors = [start_reflector(bed.add_host(name)) for name in ("r1", "r2", "r3")]
    cone = add_nat_host(bed, "cone", Mapping.EIM)
    sym = add_nat_host(bed, "sym", Mapping.SYMMETRIC)
    cone_ports = {s.split(":")[1] for s in seen_from(cone, reflectors, protocol).values()}
    sym_ports = {s.split(":")[1] for s in seen_from(sym, reflectors, protocol).values()}
    print(f"{protocol}: EIM external ports {cone_ports}, symmetric {sym_ports}")
    assert cone_ports == {str(LOCAL_PORT)}  # one mapping, the inside port kept
    # a random port per destination: all three equal has a chance of about 2**-32
    assert len(sym_ports) > 1


def test_the_isolation_check_covers_router_and_inside_namespaces(bed: Bed) -> None:
    inside = add_nat_host(bed, "home", Mapping.SYMMETRIC)
    assert {inside.ns, inside.router.ns} <= set(bed.namespaces)
    for ns, gateway in ((inside.router.ns, inside.router.gateway), (inside.ns, inside.gateway)):
        netns.ip(ns, "route", "add", "10.0.0.0/8", "via", gateway)
        with pytest.raises(IsolationError, match=f"{ns}: route out"):
            bed.check_isolation()
        netns.ip(ns, "route", "del", "10.0.0.0/8")
    bed.check_isolation()
