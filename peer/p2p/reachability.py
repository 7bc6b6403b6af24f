"""Whether other peers can dial us, and how we say so (ARCHITECTURE "Reachability").

Pure: no I/O. Two parts.

- :class:`AddressPolicy`, the ONE classification of addresses as public or not
  (``p2p.public_ranges``). libraries disagree: Python's ``ipaddress`` and py-libp2p's DHT and
  auto-connector call 198.18.0.0/15 private, py-libp2p's ``relay/circuit_v2/nat.py`` calls it
  public. Ours: an address is public when ``ipaddress`` says it is global, or when it lies in
  one of the configured ranges (the test bed lists 198.18.0.0/15). It decides which addresses
  our AutoNAT service agrees to dial back; it never decides whether we are reachable.
- :class:`Verdicts`, reachability learnt from dial-backs only: one successful dial-back (a NEW
  connection some other peer opened to an address we announce) makes us public; failures from
  ``confirmations`` different servers, and no success, make us private.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peer.p2p.errors import InvalidMultiaddrError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
CONFIRMATIONS = 2  # failures from this many distinct servers (and no success) mean "private"
# dial-backs our AutoNAT service makes per window (go-libp2p's service defaults: 30 in all,
# 3 per peer, each minute)
DIALBACK_WINDOW_S = 60.0
DIALBACKS_PER_PEER = 3
DIALBACKS_TOTAL = 30


class Reachability(enum.StrEnum):
    UNKNOWN = "unknown"
    PUBLIC = "public"
    PRIVATE = "private"


def parse_ranges(ranges: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings to networks; :class:`InvalidMultiaddrError` names a bad one."""
    parsed = []
    for text in ranges:
        try:
            parsed.append(ipaddress.ip_network(text.strip(), strict=True))
        except ValueError as exc:
            raise InvalidMultiaddrError(
                f"p2p.public_ranges: {text!r} is not a network in CIDR form "
                "(e.g. 198.18.0.0/15, with no host bits set)"
            ) from exc
    return tuple(parsed)


def ip_of(multiaddr: str) -> IPAddress | None:
    """The IP of an ``/ip4/...`` or ``/ip6/...`` multiaddr (None for DNS, circuits, others)."""
    if "/p2p-circuit" in multiaddr:
        return None
    parts = multiaddr.split("/")
    if len(parts) < 3 or parts[1] not in ("ip4", "ip6"):
        return None
    try:
        return ipaddress.ip_address(parts[2])
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses count as public (see the module docstring)."""

    public_ranges: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_setting(cls, ranges: Sequence[str]) -> AddressPolicy:
        return cls(parse_ranges(ranges))

    def is_public_ip(self, ip: IPAddress) -> bool:
        if any(ip.version == net.version and ip in net for net in self.public_ranges):
            return True
        return ip.is_global

    def is_public(self, multiaddr: str) -> bool:
        ip = ip_of(multiaddr)
        return ip is not None and self.is_public_ip(ip)

    def public_only(self, multiaddrs: Iterable[str]) -> list[str]:
        return [a for a in multiaddrs if self.is_public(a)]


@dataclass
class Verdicts:
    """Dial-back results by server (peer id), the latest per server."""

    confirmations: int = CONFIRMATIONS
    results: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def record(self, server: str, reached: bool, reason: str = "") -> Reachability:
        self.results[server] = reached
        self.reasons[server] = reason
        return self.state

    @property
    def state(self) -> Reachability:
        if any(self.results.values()):
            return Reachability.PUBLIC
        if len(self.results) >= self.confirmations:
            return Reachability.PRIVATE
        return Reachability.UNKNOWN

    def why_private(self) -> str:
        failed = [f"{s[-8:]}: {r}" if r else s[-8:] for s, r in self.reasons.items()]
        return "no dial-back reached us (" + "; ".join(failed) + ")"


def describe(
    state: Reachability,
    *,
    circuits: Sequence[str],
    relays_configured: int,
    why: str = "",
) -> dict[str, str | None]:
    """The words the CLI and UI show: ``summary`` is "reachable", "behind NAT, via relay R",
    "behind NAT, unreachable" or "not known yet"; ``reason`` says why when it is not good."""
    if state is Reachability.PUBLIC:
        return {"summary": "reachable", "relay": None, "reason": None}
    if state is Reachability.UNKNOWN:
        reason = "no AutoNAT server has dialled back yet (it needs connected peers that serve it)"
        return {"summary": "not known yet", "relay": None, "reason": reason}
    if circuits:
        relay = circuits[0].split("/p2p-circuit")[0]
        return {"summary": f"behind NAT, via relay {relay}", "relay": relay, "reason": why}
    reason = why
    if relays_configured == 0:
        reason += "; no relay in p2p.relays or the network profile, so no peer can reach us"
    else:
        reason += "; no relay reservation is held yet"
    return {"summary": "behind NAT, unreachable", "relay": None, "reason": reason.lstrip("; ")}


def wants_reservations(mode: str, *, has_addrs: bool, state: Reachability | None) -> bool:
    """Whether to hold relay reservations now. ``mode`` is ``p2p.reachability``: "private"
    always, "public" never, "auto" when AutoNAT (``state``; None: AutoNAT is off) says private,
    or when we have no address of our own at all; never while the verdict is unknown or public
    (go-libp2p's AutoRelay)."""
    if mode != "auto":
        return mode == "private"
    if not has_addrs or state is None:
        return True
    return state is Reachability.PRIVATE


@dataclass
class DialBackBudget:
    """How many dial-back requests the AutoNAT service still serves: ``per_peer`` per peer and
    ``total`` in all, per ``window_s`` (so it cannot be made to dial without end)."""

    window_s: float = DIALBACK_WINDOW_S
    per_peer: int = DIALBACKS_PER_PEER
    total: int = DIALBACKS_TOTAL
    _started: float = 0.0
    _by_peer: dict[str, int] = field(default_factory=dict)

    def take(self, peer: str, now: float) -> bool:
        """Count one request from ``peer`` at ``now`` (monotonic seconds); False: refuse it."""
        if now - self._started >= self.window_s:
            self._started, self._by_peer = now, {}
        if sum(self._by_peer.values()) >= self.total or self._by_peer.get(peer, 0) >= self.per_peer:
            return False
        self._by_peer[peer] = self._by_peer.get(peer, 0) + 1
        return True
