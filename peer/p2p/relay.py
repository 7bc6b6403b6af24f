"""Circuit relay v2 on the host (trio side): dial ``/p2p-circuit`` addresses, accept relayed
connections, keep reservations on configured relays, optionally act as a relay (hop).

Built and run by ``host.P2PHost`` (see ``HostOptions.relay_client``, ``relays``,
``relay_service``). py-libp2p's ``CircuitV2Protocol`` and ``CircuitV2Transport`` speak the
protocol (``/libp2p/circuit/relay/0.2.0/hop`` and ``/stop``); this module adds what the host
needs around them:

* **Dialling a circuit address.** py-libp2p's swarm drops every ``/p2p-circuit`` address
  before dialling ("this node has no relay transport") even when one exists, so
  ``host.connect`` can never use a relay. :meth:`RelayNode.dial` hands such addresses to the
  circuit transport itself, which connects to the relay, asks it to CONNECT, then upgrades the
  relayed stream (noise + yamux) into a swarm connection like any other.
* **Reservations that come back.** A reservation dies with the connection to the relay; the
  transport's refresher only renews reservations it still believes in. :meth:`RelayNode.keep`
  re-checks every ``check_interval`` and reserves again when the relay is not connected or the
  reservation is gone, and publishes our circuit addresses
  (``<relay addr>/p2p/<relay>/p2p-circuit/p2p/<us>``) while a reservation holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import multiaddr
import trio
from libp2p.abc import IHost
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.relay.circuit_v2 import PROTOCOL_ID, CircuitV2Protocol, CircuitV2Transport
from libp2p.relay.circuit_v2.config import RelayConfig, RelayRole

from .errors import DialError

logger = logging.getLogger(__name__)

CIRCUIT = "/p2p-circuit"


def is_circuit(addr: str) -> bool:
    return f"{CIRCUIT}/" in addr or addr.endswith(CIRCUIT)


class RelayNode:
    """One host's relay roles (trio side)."""

    def __init__(self, host: IHost, *, hop: bool, dial_timeout: float) -> None:
        self._host = host
        self._dial_timeout = dial_timeout
        self.hop = hop
        # STOP (accept relayed connections) and HOP when we serve as a relay.
        self.protocol = CircuitV2Protocol(host, allow_hop=hop)
        self.transport = CircuitV2Transport(
            host, self.protocol, RelayConfig(roles=RelayRole.STOP | RelayRole.CLIENT)
        )
        self.circuit_addrs: dict[str, str] = {}  # relay peer id -> our circuit address

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

    async def keep(
        self,
        relay_addr: str,
        check_interval: float,
        on_change: Callable[[list[str]], None],
    ) -> None:
        """Hold a reservation on the relay at ``relay_addr`` (full multiaddr with /p2p/),
        forever; ``on_change`` gets our current circuit addresses whenever they change."""
        info = info_from_p2p_addr(multiaddr.Multiaddr(relay_addr))
        relay = info.peer_id
        base = relay_addr.split("/p2p/")[0]
        me = self._host.get_id().to_base58()
        circuit = f"{base}/p2p/{relay.to_base58()}{CIRCUIT}/p2p/{me}"
        async with trio.open_nursery() as nursery:
            while True:
                held = self._holds(relay)
                if not held:
                    held = await self._reserve(info, nursery)
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

    async def _reserve(self, info: PeerInfo, nursery: trio.Nursery) -> bool:
        relay = info.peer_id
        try:
            with trio.fail_after(self._dial_timeout):
                await self._host.connect(info)
                stream = await self._host.new_stream(relay, [PROTOCOL_ID])
                try:
                    ok = await self.transport.reserve(stream, relay, nursery)
                finally:
                    await stream.close()
        except Exception as exc:  # unreachable relay, refused: retried on the next check
            logger.warning("could not reserve a slot on relay %s: %r", relay, exc)
            return False
        if not ok:
            logger.warning("relay %s refused our reservation", relay)
        return bool(ok)
