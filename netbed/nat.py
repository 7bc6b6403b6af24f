"""Hosts behind home routers: a router namespace between a host and the backbone that translates
addresses (nftables masquerade) with a chosen mapping behaviour (RFC 4787).

    inside host "c" (tb<run>-c) eth0 198.19.0.a/30 ──veth── lan0 198.19.0.a-1 ┐
                                                router "cgw" (tb<run>-cgw)      │ masquerade
                                              eth0 198.18.0.b/30 ──veth── backbone

The router is an ordinary bed host (its WAN address is on the backbone, with the host's link
properties in the delay line). The inside host's /30 lies in 198.19.0.0/16, which the backbone
has no route to: nothing outside the router can send a packet to the inside address. The
router forwards only what the inside host starts (and the replies to it); it drops anything
else arriving on its WAN side silently, as a home router does (no RST for a SYN to an unmapped
port: an RST would end the first SYN of a TCP hole punch that arrives before the other side's
SYN has opened the mapping, where a drop lets its retransmission through).

Mapping behaviours:

- ``EIM`` (endpoint-independent mapping, what most home routers do): the router keeps the inside
  source port when it is free, so one inside socket has one external address:port whatever
  the destination. Filtering stays address-and-port dependent (only replies come in), which is
  what hole punching needs.
- ``SYMMETRIC`` (address-and-port-dependent mapping): ``masquerade random``, a new random
  external port for every new destination; only a relay helps.
"""

from __future__ import annotations

import enum
import ipaddress
import re

from netbed import netns
from netbed.addressing import BED_NET, require_bed_address
from netbed.bed import Bed, Host, LinkSpec
from netbed.errors import BedError

INSIDE_NET = ipaddress.IPv4Network("198.19.0.0/16")
ROUTER_SUFFIX = "gw"
NAT_HOST_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
WAN_DEV = "eth0"
LAN_DEV = "lan0"


class Mapping(enum.StrEnum):
    """How a router maps an inside address:port to an external one (RFC 4787, section 4.1)."""

    EIM = "endpoint-independent"
    SYMMETRIC = "address-and-port-dependent"


def inside_subnet(index: int) -> ipaddress.IPv4Network:
    """The /30 between router and inside host number ``index`` (1-based, the bed's host index)."""
    if not 1 <= index < INSIDE_NET.num_addresses // 4:
        raise BedError(f"host number {index} has no inside subnet")
    return ipaddress.IPv4Network((int(INSIDE_NET.network_address) + 4 * index, 30))


def ruleset(mapping: Mapping) -> str:
    """The router's nftables rules: masquerade on the WAN link, forward only what the inside
    host started, drop (never answer) new connections to the router itself from outside."""
    flags = " random" if mapping is Mapping.SYMMETRIC else ""
    return f"""\
table ip toktok_nat {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "{WAN_DEV}" masquerade{flags}
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "{LAN_DEV}" oifname "{WAN_DEV}" accept
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "{WAN_DEV}" ct state new drop
    }}
}}
"""


class NatHost(Host):
    """A host behind its own router. ``address`` is its inside address (what its programs bind
    to); ``wan_address`` is the router's, the one the rest of the bed sees."""

    def __init__(self, bed: Bed, name: str, index: int, router: Host, mapping: Mapping) -> None:
        super().__init__(bed, name, index, router.link)
        subnet = inside_subnet(index)
        self.router = router
        self.mapping = mapping
        self.gateway = str(subnet.network_address + 1)
        self.address = str(subnet.network_address + 2)
        self.wan_address = router.address
        self.backbone_dev = ""  # linked to its router, not to the backbone

    def __repr__(self) -> str:
        return f"NatHost({self.name!r}, {self.address} behind {self.wan_address}, {self.mapping})"

    def set_link(self, link: LinkSpec) -> None:
        """The access link is the router's WAN link."""
        self.link = link
        self.router.set_link(link)


def add_nat_host(
    bed: Bed,
    name: str,
    mapping: Mapping = Mapping.EIM,
    *,
    latency_ms: float = 0.0,
    jitter_ms: float = 0.0,
    loss: float = 0.0,
    rate_mbit: float | None = None,
) -> NatHost:
    """A host ``name`` behind a new router ``<name>gw`` with ``mapping``; the link properties are
    those of the router's WAN link."""
    if not NAT_HOST_NAME.match(name):
        raise BedError(f"NAT host name {name!r}: 1-10 of a-z0-9, starting with a letter")
    if not isinstance(mapping, Mapping):
        raise BedError(f"mapping {mapping!r}: one of {', '.join(m.value for m in Mapping)}")
    if name in bed.hosts:
        raise BedError(f"host {name!r} exists")
    router = bed.add_host(
        name + ROUTER_SUFFIX,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        loss=loss,
        rate_mbit=rate_mbit,
    )
    host = NatHost(bed, name, len(bed.hosts) + 1, router, mapping)
    for address in (host.address, host.gateway):
        require_bed_address(address)
    bed.hosts[name] = host  # from here on, the isolation check covers its namespace
    netns.add_namespace(host.ns)
    netns.ip(
        host.ns, "link", "add", "name", "eth0", "type", "veth",
        "peer", "name", LAN_DEV, "netns", router.ns,
    )  # fmt: skip
    netns.ip(host.ns, "addr", "add", f"{host.address}/30", "dev", "eth0")
    netns.ip(host.ns, "link", "set", "eth0", "up")
    netns.ip(host.ns, "route", "add", str(BED_NET), "via", host.gateway)
    netns.ip(router.ns, "addr", "add", f"{host.gateway}/30", "dev", LAN_DEV)
    netns.ip(router.ns, "link", "set", LAN_DEV, "up")
    netns.sysctl(router.ns, "net.ipv4.ip_forward", "1")
    netns.run(*netns.in_ns(router.ns, "nft", "-f", "-"), input_text=ruleset(mapping))
    bed.check_isolation()
    return host


def nft_available() -> str | None:
    """Why routers cannot be made here, or None when they can."""
    import shutil

    if shutil.which("nft") is None:
        return "'nft' is missing (install the Debian package nftables: scripts/setup)"
    return None
