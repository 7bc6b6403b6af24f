"""Addresses of the bed: only 198.18.0.0/15 (RFC 2544, reserved for network benchmarking).

Host number ``i`` (1, 2, ...) gets the /30 ``198.18.0.0 + 4 i``: the backbone's end of its
link is the first usable address, the host's own address the second.
"""

from __future__ import annotations

import ipaddress

from netbed.errors import IsolationError

BED_NET = ipaddress.IPv4Network("198.18.0.0/15")
MAX_HOSTS = BED_NET.num_addresses // 4 - 1


def require_bed_address(address: str | ipaddress.IPv4Address | ipaddress.IPv4Network) -> None:
    """Raise :class:`IsolationError` unless ``address`` lies inside 198.18.0.0/15."""
    if isinstance(address, ipaddress.IPv4Network):
        inside = address.subnet_of(BED_NET)
    else:
        try:
            inside = ipaddress.ip_address(str(address)) in BED_NET
        except ValueError as exc:
            raise IsolationError(f"{address!r} is not an IPv4 address") from exc
    if not inside:
        raise IsolationError(f"{address} is outside {BED_NET}: the bed uses no other address")


def link_subnet(index: int) -> ipaddress.IPv4Network:
    """The /30 of host number ``index`` (1-based)."""
    if not 1 <= index <= MAX_HOSTS:
        raise ValueError(f"host number {index} is outside 1..{MAX_HOSTS}")
    base = int(BED_NET.network_address) + 4 * index
    return ipaddress.IPv4Network((base, 30))


def backbone_address(index: int) -> ipaddress.IPv4Address:
    return link_subnet(index).network_address + 1


def host_address(index: int) -> ipaddress.IPv4Address:
    return link_subnet(index).network_address + 2
