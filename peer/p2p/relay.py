"""Circuit relay v2 on the host (trio side): dial ``/p2p-circuit`` addresses, accept relayed
connections, hold reservations on configured relays while we need them, optionally act as a
relay (hop) with limits, and upgrade relayed connections by hole punching (DCUtR).

Built and run by ``host.P2PHost`` (see ``HostOptions.relay_client``, ``relays``,
``relay_service``, ``reachability``, ``hole_punching``). py-libp2p's ``CircuitV2Protocol``,
``CircuitV2Transport`` and ``DCUtRProtocol`` speak the protocols; this module adds what the
host needs around them:

* **Dialling a circuit address.** py-libp2p's swarm drops every ``/p2p-circuit`` address
  before dialling ("this node has no relay transport") even when one exists, so
  ``host.connect`` can never use a relay. :meth:`RelayNode.dial` hands such addresses to the
  circuit transport itself, which connects to the relay, asks it to CONNECT, then upgrades the
  relayed stream (noise + yamux) into a swarm connection like any other.
* **Reservations while needed.** :meth:`RelayNode.hold` keeps reservations on the relays
  while ``wanted()`` says so (we are behind NAT) and drops them when it stops saying so.
  A reservation dies with the connection to the relay; :meth:`RelayNode.keep` re-checks every
  ``check_interval``, reserves again when the relay is not connected or the reservation is
  gone, renews it before it expires, and publishes our circuit addresses
  (``<relay addr>/p2p/<relay>/p2p-circuit/p2p/<us>``) while a reservation holds.
* **Limits of our relay service** (:class:`ServiceLimits`): py-libp2p's relay limits
  duration and data per circuit, reservations in all and circuits per reservation; we add
  the reservations per IP address, and count the bytes relayed (status, tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import multiaddr
import trio
from libp2p.abc import IHost
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.relay.circuit_v2 import PROTOCOL_ID, CircuitV2Protocol, CircuitV2Transport
from libp2p.relay.circuit_v2.config import RelayConfig, RelayRole
from libp2p.relay.circuit_v2.dcutr import DCUtRProtocol
from libp2p.relay.circuit_v2.resources import RelayLimits, RelayResourceManager

from .errors import DialError

logger = logging.getLogger(__name__)

CIRCUIT = "/p2p-circuit"
RENEW_WHEN_LEFT = 0.25  # renew a reservation when this share of its lifetime is left
HOLD_POLL_S = 1.0  # how often hold() looks at wanted()
# one hole-punch dial (and DCUtR's first, plain dial of the peer's known addresses, which behind
# a router that drops unasked packets fails only by timing out)
HOLE_PUNCH_DIAL_TIMEOUT_S = 5


@dataclass(frozen=True)
class ServiceLimits:
    """What our relay service grants (see ``HostOptions.relay_*``)."""

    circuit_duration_s: int = 120
    circuit_bytes: int = 128 * 1024
    reservation_ttl_s: int = 3600
    max_reservations: int = 128
    max_reservations_per_ip: int = 8
    max_circuits_per_peer: int = 16

    def libp2p(self) -> RelayLimits:
        return RelayLimits(
            duration=self.circuit_duration_s,
            data=self.circuit_bytes,
            max_circuit_conns=self.max_circuits_per_peer,
            max_reservations=self.max_reservations,
            reservation_ttl=self.reservation_ttl_s,
        )


def remote_ip(host: IHost, peer_id: ID) -> str | None:
    """The IP a peer's first direct connection comes from (None when it has none)."""
    conns = host.get_network().connections.get(peer_id) or []
    for conn in conns if isinstance(conns, list) else [conns]:
        for addr in conn.get_transport_addresses():
            text = str(addr)
            if CIRCUIT in text:
                continue
            parts = text.split("/")
            if len(parts) > 2 and parts[1] in ("ip4", "ip6"):
                return parts[2]
    return None


class _Resources(RelayResourceManager):
    """py-libp2p's reservation book plus a limit of reservations per IP address."""

    def __init__(self, limits: ServiceLimits, host: IHost) -> None:
        super().__init__(limits.libp2p(), host)
        self._per_ip = limits.max_reservations_per_ip
        self._host = host
        self.refused = 0  # reservation requests refused (any limit)

    def can_accept_reservation(self, peer_id: ID) -> bool:
        accepted = self._accepts(peer_id)
        if not accepted:
            self.refused += 1
        return accepted

    def _accepts(self, peer_id: ID) -> bool:
        if not super().can_accept_reservation(peer_id):
            return False
        existing = self._reservations.get(peer_id)
        if existing is not None and not existing.is_expired():
            return True  # a renewal
        ip = remote_ip(self._host, peer_id)
        if ip is None:
            return False  # no reservations over relayed connections
        same_ip = sum(1 for p in self._reservations if remote_ip(self._host, p) == ip)
        return same_ip < self._per_ip


class _Hop(CircuitV2Protocol):
    """py-libp2p's relay protocol, counting the bytes it relays."""

    relayed_bytes = 0

    async def _read_stream_with_retry(self, stream: Any, max_retries: int = 3) -> bytes | None:
        data: bytes | None = await super()._read_stream_with_retry(stream, max_retries)
        if data:
            self.relayed_bytes += len(data)
        return data


def is_circuit(addr: str) -> bool:
    return f"{CIRCUIT}/" in addr or addr.endswith(CIRCUIT)


class RelayNode:
    """One host's relay roles (trio side)."""

    def __init__(
        self,
        host: IHost,
        *,
        hop: bool,
        dial_timeout: float,
        limits: ServiceLimits | None = None,
        hole_punching: bool = True,
    ) -> None:
        self._host = host
        self._dial_timeout = dial_timeout
        self.hop = hop
        self.limits = limits or ServiceLimits()
        # STOP (accept relayed connections) and HOP when we serve as a relay.
        self.protocol = _Hop(host, limits=self.limits.libp2p(), allow_hop=hop)
        self.resources = _Resources(self.limits, host)
        self.protocol.resource_manager = self.resources
        self.transport = CircuitV2Transport(
            host, self.protocol, RelayConfig(roles=RelayRole.STOP | RelayRole.CLIENT)
        )
        self.dcutr = (
            DCUtRProtocol(host, dial_timeout=HOLE_PUNCH_DIAL_TIMEOUT_S) if hole_punching else None
        )
        self.circuit_addrs: dict[str, str] = {}  # relay peer id -> our circuit address
        self.holding = False  # whether hold() currently keeps reservations

    @property
    def relayed_bytes(self) -> int:
        """Bytes our relay service carried for others (both directions)."""
        return self.protocol.relayed_bytes

    def reservations_served(self) -> int:
        return sum(
            1 for r in self.protocol.resource_manager._reservations.values() if not r.is_expired()
        )

    async def dial(self, addr: str) -> ID:
        """Connect to the peer at a full ``.../p2p/<relay>/p2p-circuit/p2p/<peer>`` address."""
        maddr = multiaddr.Multiaddr(addr)
        try:
            _, peer_id = self.transport.parse_circuit_ma(maddr)
        except ValueError as exc:
            raise DialError(f"{addr} is not a usable relay address: {exc}") from exc
        if self._host.get_network().connections.get(peer_id):
            return peer_id
        try:
            with trio.fail_after(self._dial_timeout):
                await self.transport.dial(maddr)
        except trio.TooSlowError:
            raise DialError(f"dialling {peer_id} through the relay timed out") from None
        except Exception as exc:
            raise DialError(f"could not connect to {peer_id} through the relay: {exc}") from exc
        return peer_id

    async def hold(
        self,
        relays: Sequence[str],
        wanted: Callable[[], bool],
        check_interval: float,
        on_change: Callable[[list[str]], None],
    ) -> None:
        """Forever: while ``wanted()``, hold a reservation on each of ``relays`` (see
        :meth:`keep`); when it stops being wanted, drop them (no renewal, circuit addresses
        withdrawn) until it is wanted again."""
        while True:
            await _until(wanted, True)
            logger.info("taking reservations on %d relay(s)", len(relays))
            self.holding = True
            async with trio.open_nursery() as nursery:
                for addr in relays:
                    nursery.start_soon(self.keep, addr, check_interval, on_change)
                await _until(wanted, False)
                nursery.cancel_scope.cancel()
            self.holding = False
            logger.info("dropping relay reservations (no longer needed)")
            for relay in list(self.circuit_addrs):
                self.transport._reservations.pop(ID.from_base58(relay), None)
            self.circuit_addrs.clear()
            on_change([])

    async def keep(
        self,
        relay_addr: str,
        check_interval: float,
        on_change: Callable[[list[str]], None],
    ) -> None:
        """Hold a reservation on the relay at ``relay_addr`` (full multiaddr with /p2p/) until
        cancelled, renewed when ``RENEW_WHEN_LEFT`` of its lifetime is left; ``on_change`` gets
        our current circuit addresses whenever they change."""
        info = info_from_p2p_addr(multiaddr.Multiaddr(relay_addr))
        relay = info.peer_id
        base = relay_addr.split("/p2p/")[0]
        me = self._host.get_id().to_base58()
        circuit = f"{base}/p2p/{relay.to_base58()}{CIRCUIT}/p2p/{me}"
        lifetime = 0.0
        while True:
            held = self._holds(relay)
            left = self.transport._reservations.get(relay, 0) - time.time()
            if not held or left < max(lifetime * RENEW_WHEN_LEFT, 2 * check_interval):
                held = await self._reserve(info)
                if held:
                    lifetime = self.transport._reservations.get(relay, 0) - time.time()
            before = dict(self.circuit_addrs)
            if held:
                self.circuit_addrs[relay.to_base58()] = circuit
            else:
                self.circuit_addrs.pop(relay.to_base58(), None)
            if self.circuit_addrs != before:
                on_change(list(self.circuit_addrs.values()))
            await trio.sleep(check_interval)

    def _holds(self, relay: ID) -> bool:
        connected = bool(self._host.get_network().connections.get(relay))
        expires = self.transport._reservations.get(relay, 0)
        return connected and expires > time.time()  # the relay's expiry is unix time

    async def _reserve(self, info: PeerInfo) -> bool:
        """One RESERVE (new or renewal). py-libp2p's own refresher is not used: it renews
        only 30 s before expiry and never reserves again once the relay connection is lost."""
        relay = info.peer_id
        try:
            with trio.fail_after(self._dial_timeout):
                if not self._host.get_network().connections.get(relay):
                    await self._host.connect(info)
                stream = await self._host.new_stream(relay, [PROTOCOL_ID])
                try:
                    ok = await self.transport._make_reservation(stream, relay)
                finally:
                    await stream.close()
        except Exception as exc:  # unreachable relay, refused: retried on the next check
            logger.warning("could not reserve a slot on relay %s: %r", relay, exc)
            return False
        if not ok:
            logger.warning("relay %s refused our reservation", relay)
        return bool(ok)


async def _until(predicate: Callable[[], bool], value: bool) -> None:
    """Poll ``predicate`` (a verdict that changes inside other tasks) until it is ``value``."""
    while predicate() is not value:  # noqa: ASYNC110 - the verdict has no event to wait on
        await trio.sleep(HOLD_POLL_S)
