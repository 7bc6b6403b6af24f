"""The Kademlia DHT on the host (trio side): provider records and peer finding.

Built and run by ``host.P2PHost`` when ``HostOptions.dht`` is ``"client"`` or ``"server"``.
py-libp2p's :class:`~libp2p.kad_dht.KadDHT` does the wire protocol (``/ipfs/kad/1.0.0``); this
module adds what Toktok needs around it:

* **Routing table fed from connections.** py-libp2p only adds a peer to the routing table
  when that peer opens a DHT stream to us or when a lookup queries it. We add every connected
  peer that speaks the DHT protocol once identify has told us so (what go-libp2p does), so a
  fresh peer can answer lookups right after ``connect``.
* **Provider lookups that go to the network.** ``KadDHT.find_providers`` returns the LOCAL
  provider table as soon as it holds any record (including our own, or a stale cached one) and
  then never asks the network. :meth:`DhtNode.find_providers` merges the local records with
  GET_PROVIDERS answers, stops early once it has enough, and is bounded by a deadline.
* **Connected peers first.** An iterative lookup dials every peer it hears of (a Python noise
  handshake each); in a small network a peer we are already connected to holds the record or
  knows the address. Provider and peer lookups ask the connected DHT peers first and fall back
  to the iterative lookup only when they did not answer.
* **A clean end of stream is not an error.** py-libp2p's DHT server reads requests until the
  stream ends, but ``NetStream.read`` raises ``StreamEOF`` there instead of returning
  ``b""``, so every finished query logged "Failed to read DHT message". We register the
  server's handler on a stream view that turns that EOF into ``b""``.
* **Provider records are not dropped.** py-libp2p's server silently drops ADD_PROVIDER
  beyond 10 per peer per 10 s; we accept ``ADD_PROVIDER_PER_WINDOW``.
* **Dialable answers.** Provider and peer addresses are returned as full multiaddrs ending in
  exactly one ``/p2p/<id>`` (py-libp2p announces addresses that already carry it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import trio
from libp2p.abc import IHost, INetStream
from libp2p.kad_dht import DHTMode, KadDHT
from libp2p.kad_dht.common import BUCKET_SIZE, PROTOCOL_ID
from libp2p.kad_dht.utils import sort_peer_ids_by_distance
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo as LibPeerInfo

logger = logging.getLogger(__name__)

MODES = ("off", "client", "server")
IDENTIFY_WAIT_S = 5.0  # how long a new connection's identify may take before we give up
ADD_PROVIDER_PER_WINDOW = 500  # per peer per py-libp2p's 10 s window


@dataclass(frozen=True, slots=True)
class Found:
    """A peer found through the DHT and its dialable multiaddrs (each ending in /p2p/<id>)."""

    peer_id: str
    addrs: tuple[str, ...]


class DhtNode:
    """One host's DHT participation (trio side; every method runs in the host's thread)."""

    def __init__(self, host: IHost, mode: str, query_timeout: float, lookup_timeout: float) -> None:
        if mode not in ("client", "server"):
            raise ValueError(f"DHT mode must be 'client' or 'server', got {mode!r}")
        self._host = host
        self._query_timeout = query_timeout
        self._lookup_timeout = lookup_timeout
        # Server mode answers DHT queries (registers /ipfs/kad/1.0.0); client mode only asks.
        # max_peers_per_subnet=None keeps py-libp2p's default (loopback and private
        # addresses are exempt from the subnet-diversity cap).
        self.kad = KadDHT(host, DHTMode.SERVER if mode == "server" else DHTMode.CLIENT)
        # py-libp2p's server accepts 10 ADD_PROVIDER per peer per 10 s and silently drops the
        # rest (the sender does not wait for an answer, so it never knows). One published clip
        # pins ~5 roots and a reprovide sends one per pin: allow a burst that size.
        self.kad._provider_rate_max = ADD_PROVIDER_PER_WINDOW
        self.mode = mode
        if mode == "server":
            host.set_stream_handler(PROTOCOL_ID, self._serve)

    async def _serve(self, stream: INetStream) -> None:
        await self.kad.handle_stream(cast(INetStream, _EofAsEmpty(stream)))

    @property
    def routing_table_size(self) -> int:
        return int(self.kad.get_routing_table_size())

    # routing table ---------------------------------------------------------------------------

    async def peer_connected(self, peer_id: ID) -> None:
        """Add a newly connected peer to the routing table once identify shows it is a DHT
        server (a client-mode peer never enters anybody's table, per the spec)."""
        peerstore = self._host.get_peerstore()
        with trio.move_on_after(IDENTIFY_WAIT_S):
            while True:
                try:
                    protocols = peerstore.get_protocols(peer_id)
                except Exception:  # not in the peerstore yet
                    protocols = []
                if protocols:
                    break
                await trio.sleep(0.05)
        try:
            protocols = peerstore.get_protocols(peer_id)
        except Exception:
            return
        if str(PROTOCOL_ID) in protocols:
            await self.kad.add_peer(peer_id)

    # content routing ---------------------------------------------------------------------------

    async def provide(self, key: bytes) -> int:
        """Store a provider record for ``key`` (a multihash) on the closest peers we can reach;
        returns how many accepted it (0: only our local table holds it)."""
        store = self.kad.provider_store
        store.add_provider(key, LibPeerInfo(self._host.get_id(), self._host.get_addrs()))
        store.providing_keys.add(key)
        me = self._host.get_id()
        told = 0

        async def tell(peer: ID) -> None:
            nonlocal told
            with trio.move_on_after(self._query_timeout):
                if await store._send_add_provider(peer, key):
                    told += 1

        with trio.move_on_after(self._lookup_timeout):
            closest = await self.kad.peer_routing.find_closest_peers_network(key)
            async with trio.open_nursery() as nursery:
                for peer in closest:
                    if peer != me:
                        nursery.start_soon(tell, peer)
        return told

    async def find_providers(self, key: bytes, limit: int) -> list[Found]:
        """Up to ``limit`` providers of ``key`` other than ourselves, cheapest source first:
        the local table; GET_PROVIDERS to the DHT peers we are already connected to (no dial:
        in a small network one of them holds the record); then an iterative FIND_NODE lookup
        and GET_PROVIDERS to the closest peers it finds. Queries run in parallel, each
        bounded by the query timeout, the whole by the lookup timeout."""
        me = self._host.get_id()
        found: dict[ID, Found] = {}
        store = self.kad.provider_store
        asked: set[ID] = {me}

        def take(infos: list[LibPeerInfo]) -> None:
            for info in infos:
                if info.peer_id == me or info.peer_id in found or len(found) >= limit:
                    continue
                entry = self._dialable(info.peer_id, info.addrs)
                if entry.addrs:
                    found[info.peer_id] = entry

        async def ask_all(peers: list[ID]) -> None:
            async with trio.open_nursery() as nursery:

                async def ask(peer: ID) -> None:
                    with trio.move_on_after(self._query_timeout) as scope:
                        providers, _ = await store._get_providers_from_peer_with_closers(peer, key)
                    if scope.cancelled_caught:  # too slow this time: the lookup may retry it
                        asked.discard(peer)
                        return
                    for info in providers:
                        if info.peer_id != me and info.addrs:
                            store.add_provider(key, info)
                    take(providers)
                    if len(found) >= limit:
                        nursery.cancel_scope.cancel()

                for peer in peers:
                    if peer not in asked:
                        asked.add(peer)
                        nursery.start_soon(ask, peer)

        take(store.get_providers(key))
        with trio.move_on_after(self._lookup_timeout):
            if len(found) < limit:
                await ask_all(self._connected_dht_peers(key))
            if len(found) < limit:
                await ask_all(await self.kad.peer_routing.find_closest_peers_network(key))
        return list(found.values())

    def _connected_dht_peers(self, key: bytes) -> list[ID]:
        """Connected peers that serve the DHT, closest to ``key`` first (at most k)."""
        peerstore = self._host.get_peerstore()
        peers = []
        for peer in self._host.get_connected_peers():
            try:
                protocols = peerstore.get_protocols(peer)
            except Exception:  # identify has not run yet
                protocols = []
            if str(PROTOCOL_ID) in protocols:
                peers.append(peer)
        return sort_peer_ids_by_distance(key, peers)[:BUCKET_SIZE]

    # peer routing ------------------------------------------------------------------------------

    async def find_peer(self, peer_id: ID) -> Found | None:
        """The addresses of ``peer_id``: from what we know; else asking the DHT peers we are
        connected to (FIND_NODE, no dial); else an iterative lookup."""
        routing = self.kad.peer_routing
        with trio.move_on_after(self._lookup_timeout):
            if not self._known_addrs(peer_id):
                target = peer_id.to_bytes()
                async with trio.open_nursery() as nursery:

                    async def ask(peer: ID) -> None:
                        with trio.move_on_after(self._query_timeout):
                            await routing._query_peer_for_closest(peer, target)
                        if self._known_addrs(peer_id):
                            nursery.cancel_scope.cancel()

                    for peer in self._connected_dht_peers(target):
                        nursery.start_soon(ask, peer)
            if self._known_addrs(peer_id):
                return self._dialable(peer_id, [])
            info = await self.kad.find_peer(peer_id)
            if info is not None:
                entry = self._dialable(peer_id, info.addrs)
                return entry if entry.addrs else None
        return None

    def _known_addrs(self, peer_id: ID) -> bool:
        try:
            return bool(self._host.get_peerstore().addrs(peer_id))
        except Exception:  # not in the peerstore
            return False

    def _dialable(self, peer_id: ID, addrs: list[object]) -> Found:
        text = peer_id.to_base58()
        if not addrs:
            try:
                addrs = list(self._host.get_peerstore().addrs(peer_id))
            except Exception:
                addrs = []
        return Found(text, tuple(dict.fromkeys(full_addr(str(a), text) for a in addrs)))


class _EofAsEmpty:
    """A view of a stream whose ``read`` returns ``b""`` at the end instead of raising."""

    def __init__(self, stream: INetStream) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    async def read(self, n: int | None = None) -> bytes:
        try:
            return await self._stream.read(n)
        except StreamEOF:
            return b""


def full_addr(addr: str, peer: str) -> str:
    """``addr`` ending in exactly one ``/p2p/<peer>`` (py-libp2p announces addresses that
    already end in it; relay addresses keep their inner ``/p2p/<relay>``)."""
    suffix = f"/p2p/{peer}"
    while addr.endswith(suffix):
        addr = addr[: -len(suffix)]
    return addr + suffix
