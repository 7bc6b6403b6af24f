"""The isolation check: no bed namespace may reach anything outside the bed.

Checked in every namespace of the run before anything is started in it (and again before each
start): every route, in every table, leads only to 198.18.0.0/15 or to the namespace's own
loopback; every link is the loopback, a veth whose other end is in a namespace of the same run,
or the delay line's TUN in the backbone. A default route, a route to any other prefix or a link
to elsewhere (the root namespace, a physical device) is refused with :class:`IsolationError`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netbed import netns
from netbed.addressing import BED_NET
from netbed.errors import IsolationError

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
BACKBONE_SUFFIX = "-bb"
DELAY_TUN = "dl0"


def _route_ok(route: dict[str, Any]) -> bool:
    if route.get("type") in ("unreachable", "prohibit", "blackhole"):
        return True
    dst = str(route.get("dst", ""))
    if dst in ("", "default"):
        return False
    try:
        net = ipaddress.ip_network(dst, strict=False)
    except ValueError:
        return False
    if not isinstance(net, ipaddress.IPv4Network):
        return False
    if net.subnet_of(LOOPBACK):
        return route.get("dev") == "lo"
    if route.get("gateway") and ipaddress.ip_address(str(route["gateway"])) not in BED_NET:
        return False
    return net.subnet_of(BED_NET)


def problems_of(ns: str, own_namespaces: set[str]) -> list[str]:
    """What in namespace ``ns`` reaches beyond the bed (empty: nothing)."""
    found = []
    for route in netns.ip_json(ns, "-4", "route", "show", "table", "all"):
        if not _route_ok(route):
            found.append(f"{ns}: route out: {route.get('dst')} via {route.get('dev')}")
    if netns.ip_json(ns, "-6", "route", "show", "table", "all"):
        for route in netns.ip_json(ns, "-6", "route", "show", "table", "all"):
            if route.get("dev") != "lo":
                found.append(f"{ns}: IPv6 route {route.get('dst')} via {route.get('dev')}")
    ids = {int(x["nsid"]): x.get("name") for x in netns.ip_json(ns, "netns", "list-id")}
    for link in netns.ip_json(ns, "-d", "link", "show"):
        name = str(link.get("ifname"))
        if name == "lo":
            continue
        kind = link.get("linkinfo", {}).get("info_kind")
        if kind == "tun" and ns.endswith(BACKBONE_SUFFIX) and name == DELAY_TUN:
            continue  # the delay line
        if kind != "veth":
            found.append(f"{ns}: link {name} of kind {kind or 'device'} is not the bed's")
            continue
        if "link_netnsid" in link:  # else both ends are in this namespace
            peer_ns = ids.get(int(link["link_netnsid"]))
            if peer_ns not in own_namespaces:
                found.append(f"{ns}: veth {name} leads to {peer_ns or 'an unnamed namespace'}")
    for addr in netns.ip_json(ns, "-4", "addr", "show"):
        for info in addr.get("addr_info", []):
            address = ipaddress.ip_address(str(info["local"]))
            if address not in BED_NET and address not in LOOPBACK:
                found.append(f"{ns}: address {address} is outside {BED_NET}")
    return found


def check(namespaces: list[str]) -> None:
    """Raise :class:`IsolationError` listing every way out found in ``namespaces``."""
    own = set(namespaces)
    found = [p for ns in namespaces for p in problems_of(ns, own)]
    if found:
        raise IsolationError("the bed is not isolated; refusing to start:\n" + "\n".join(found))
