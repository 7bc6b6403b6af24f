"""mDNS peer discovery on the local network (trio side), only when ``HostOptions.mdns`` is on.

Network hygiene (ARCHITECTURE): multicast leaves loopback, so this is off by default and never
on in tests. py-libp2p's ``MDNSDiscovery`` opens its multicast sockets and zeroconf threads in
its CONSTRUCTOR and starts browsing (sending queries) there too, so :class:`MdnsNode` builds it
only in :meth:`MdnsNode.start` — a host with mDNS off never constructs one — through an
injectable factory (tests pass a fake and see exactly what would be started, with no packet).

py-libp2p reports discovered peers through a module-level singleton (``peerDiscovery``) from
zeroconf's own thread and only adds them to the peerstore (our AutoConnector is off, so nothing
would ever dial them). :class:`MdnsNode` registers a handler that hops into the host's trio
thread and dials each newly discovered peer once, and unregisters it on stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import trio
from libp2p.abc import IHost
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo

logger = logging.getLogger(__name__)


class Discovery(Protocol):
    """What we use of py-libp2p's ``MDNSDiscovery``."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


MdnsFactory = Callable[[IHost], Discovery]
"""Builds (and thereby opens) the mDNS service for a running host."""

Post = Callable[..., None]
"""Schedules ``fn(*args)`` in the host's trio thread from any thread (``TrioThread.post``)."""


def zeroconf_discovery(host: IHost) -> Discovery:
    """The real thing: py-libp2p's zeroconf-based mDNS, announcing the host's TCP port."""
    from libp2p.discovery.mdns.mdns import create_mdns_discovery

    port = 4001
    for addr in host.get_transport_addrs():
        value = addr.value_for_protocol("tcp")
        if value:
            port = int(value)
            break
    return create_mdns_discovery(host.get_network(), port=port, host=host)


class MdnsNode:
    """Discovers peers with mDNS and dials them (trio side)."""

    def __init__(
        self,
        host: IHost,
        post: Post,
        connect: Callable[[PeerInfo], Any],
        factory: MdnsFactory = zeroconf_discovery,
    ) -> None:
        self._host = host
        self._post = post
        self._connect = connect
        self._factory = factory
        self._discovery: Discovery | None = None
        self._nursery: trio.Nursery | None = None
        self._dialled: set[ID] = set()
        self.discovered = 0

    @property
    def running(self) -> bool:
        return self._discovery is not None

    def start(self, nursery: trio.Nursery) -> None:
        """Open the mDNS service and dial what it finds (tasks run in ``nursery``)."""
        self._nursery = nursery
        self._discovery = self._factory(self._host)
        peerDiscovery.register_peer_discovered_handler(self._on_discovered)
        self._discovery.start()

    def stop(self) -> None:
        peerDiscovery.unregister_peer_discovered_handler(self._on_discovered)
        discovery, self._discovery = self._discovery, None
        self._nursery = None
        if discovery is not None:
            try:
                discovery.stop()
            except Exception:  # zeroconf already closed
                logger.debug("mDNS stop failed", exc_info=True)

    def _on_discovered(self, info: PeerInfo) -> None:
        """Any thread (zeroconf's): hand the peer to the trio thread."""
        try:
            self._post(self._t_discovered, info)
        except Exception:  # the host is stopping
            logger.debug("mDNS discovery after stop ignored", exc_info=True)

    def _t_discovered(self, info: PeerInfo) -> None:
        nursery = self._nursery
        if nursery is None or info.peer_id == self._host.get_id():
            return
        if info.peer_id in self._dialled or self._host.get_network().connections.get(info.peer_id):
            return
        self._dialled.add(info.peer_id)
        self.discovered += 1
        nursery.start_soon(self._t_dial, info)

    async def _t_dial(self, info: PeerInfo) -> None:
        try:
            await self._connect(info)
        except Exception as exc:  # a LAN peer that went away: it may announce itself again
            self._dialled.discard(info.peer_id)
            logger.info("could not dial mDNS peer %s: %s", info.peer_id, exc)
