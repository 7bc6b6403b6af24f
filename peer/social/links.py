"""Share links: ``web+toktok:`` URLs for a clip or a creator, and the filter their hints pass.

A link names what it shares and where to look for it::

    web+toktok:post/0x<post id>?creator=0x<address>&peer=<multiaddr>&peer=<multiaddr>
    web+toktok:creator/0x<address>?peer=<multiaddr>

``peer`` hints are full multiaddrs with ``/p2p/<peer id>``: the sharer's relays and bootstrap
peers by default, its own addresses only when the sharer chooses (they reveal its IP address).
At most :data:`MAX_HINTS` hints; a link is at most :data:`MAX_LINK` characters.

A link comes from anyone, so its addresses are dialled only if :func:`dialable` allows them
(ARCHITECTURE "Network hygiene"): a peer whose own listen addresses are all loopback dials only
loopback hints; a peer that listens on other addresses also dials globally routable addresses
and those in ``p2p.public_ranges``. Never private, link-local, multicast or unspecified ones,
and never DNS names (resolving them would already send traffic).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, quote

from peer.social.errors import ShareLinkError

SCHEME: Final = "web+toktok"
MAX_HINTS: Final = 8
MAX_LINK: Final = 4096
_POST = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ShareLink:
    """What a link shares (a post of ``creator``, or the creator alone) and where to look."""

    creator: str
    post: str | None = None
    hints: tuple[str, ...] = ()

    def format(self) -> str:
        target = f"post/{self.post}" if self.post else f"creator/{self.creator}"
        query = [] if self.post is None else [f"creator={self.creator}"]
        query += [f"peer={quote(hint, safe='/')}" for hint in self.hints[:MAX_HINTS]]
        return f"{SCHEME}:{target}" + ("?" + "&".join(query) if query else "")


def parse(link: str) -> ShareLink:
    """Read a ``web+toktok:`` link; :class:`ShareLinkError` says what is wrong."""
    if len(link) > MAX_LINK:
        raise ShareLinkError(f"a share link is at most {MAX_LINK} characters")
    prefix = f"{SCHEME}:"
    if not link.lower().startswith(prefix):
        raise ShareLinkError(f"a share link starts with {prefix}")
    rest = link[len(prefix) :].lstrip("/")
    path, _, query_text = rest.partition("?")
    query = parse_qs(query_text, keep_blank_values=False)
    hints = tuple(query.get("peer", []))
    if len(hints) > MAX_HINTS:
        raise ShareLinkError(f"a share link carries at most {MAX_HINTS} peer hints")
    for hint in hints:
        if "/p2p/" not in hint:
            raise ShareLinkError(f"peer hint {hint[:80]!r} is not a multiaddr with /p2p/<peer id>")
    kind, _, value = path.partition("/")
    if kind == "post":
        post = value.lower()
        if not _POST.match(post):
            raise ShareLinkError("the post id must be 0x and 64 hex digits")
        creators = query.get("creator", [])
        if len(creators) != 1 or not _ADDRESS.match(creators[0]):
            raise ShareLinkError("a post link names its creator (creator=0x<40 hex digits>)")
        return ShareLink(creators[0], post, hints)
    if kind == "creator":
        if not _ADDRESS.match(value):
            raise ShareLinkError("the creator must be 0x and 40 hex digits")
        return ShareLink(value, None, hints)
    raise ShareLinkError("a share link names a post (post/0x…) or a creator (creator/0x…)")


def _ip(multiaddr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    parts = multiaddr.split("/")
    if len(parts) < 3 or parts[1] not in ("ip4", "ip6"):
        return None
    try:
        return ipaddress.ip_address(parts[2])
    except ValueError:
        return None


def dialable(multiaddr: str, own_listen: Sequence[str], public_ranges: Sequence[IPNetwork]) -> str:
    """Why ``multiaddr`` may not be dialled, or "" when it may (see the module docstring).

    A ``/p2p-circuit`` address is judged by its relay's address (the part before it).
    """
    relay = multiaddr.split("/p2p-circuit", 1)[0]
    ip = _ip(relay)
    if ip is None:
        return "only /ip4 and /ip6 addresses are dialled (no DNS names)"
    if ip.is_loopback:
        return ""
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_link_local:
        return "private, link-local, multicast and reserved addresses are never dialled"
    local_only = all((addr_ip := _ip(a)) is not None and addr_ip.is_loopback for a in own_listen)
    if local_only:
        return "this peer listens on loopback only, so it dials loopback addresses only"
    if any(ip.version == net.version and ip in net for net in public_ranges):
        return ""
    if ip.is_global:
        return ""
    return "private, link-local, multicast and reserved addresses are never dialled"
