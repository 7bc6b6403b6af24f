"""``P2PHost``: the py-libp2p host in its own trio thread, behind an asyncio facade.

Lifecycle: ``await host.start()`` loads (or creates) the identity, starts the trio thread,
listens, starts gossipsub, switches the swarm's AutoConnector off, dials the bootstrap peers
in the background and returns once all of that is up. ``await host.stop()`` closes every
connection and listener and joins the thread. ``async with P2PHost(options) as host:`` does
both. All trio/libp2p state is touched only from the trio thread; the asyncio side keeps
mirrors (connected peers) fed by events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import multiaddr
import trio
from libp2p.abc import IHost, INetConn, INetStream, INetwork, INotifee
from libp2p.crypto.keys import KeyPair
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2
from libp2p.tools.anyio_service import background_trio_service

from .autonat import PROTOCOL as AUTONAT_PROTOCOL
from .autonat import AutoNat
from .bridge import TrioThread
from .dht import MODES as DHT_MODES
from .dht import DhtNode, Found
from .errors import (
    DhtUnavailableError,
    DialError,
    HostNotRunningError,
    HostStartError,
    MessageTooLargeError,
    P2PError,
    PeerNotFoundError,
    PublishError,
)
from .gossip import ToktokPubsub, ToktokScorer, build_gossipsub
from .identity import load_or_create_identity, peer_id_of
from .libp2p_host import (
    bare_peer_id,
    build_libp2p_host,
    parse_multiaddr,
    parse_peer_multiaddr,
    peer_info,
)
from .mdns import MdnsFactory, MdnsNode, zeroconf_discovery
from .options import HostOptions
from .ports import (
    Accept,
    ConnectionEvent,
    EventStream,
    Ignore,
    Message,
    P2PStream,
    PeerInfo,
    Reject,
    RequestHandler,
    StreamHandler,
    Subscription,
    TopicValidator,
    ValidationResult,
)
from .queues import EventFeed, MessageFeed
from .reachability import AddressPolicy, Reachability, Verdicts, describe, wants_reservations
from .relay import RelayNode, ServiceLimits, is_circuit
from .streams import StreamService, parse_peer

logger = logging.getLogger(__name__)

PUBLISH_BACKPRESSURE_S = 1.0
OUTBOUND_QUEUE_HIGH = 16  # half of py-libp2p's OutBoundQueueSize (32)
LISTEN_ADDRS_WAIT_S = 10.0  # how long identify may take to tell an inbound peer's listen addresses
REACHABILITY_MODES = ("auto", "private", "public")


class P2PHost:
    """The real ``Network``: py-libp2p (tcp + noise + yamux, gossipsub) in a trio thread."""

    def __init__(self, options: HostOptions, *, mdns_factory: MdnsFactory | None = None) -> None:
        """``mdns_factory`` replaces py-libp2p's zeroconf mDNS (tests: no multicast)."""
        if options.dht not in DHT_MODES:
            raise HostStartError(
                f"unknown DHT mode {options.dht!r}; use one of {', '.join(DHT_MODES)}"
            )
        self._options = options
        self._thread = TrioThread("toktok-p2p")
        self._key_pair: KeyPair | None = None
        self._peer_id = ""
        self._addrs: list[str] = []
        self._listen = [parse_multiaddr(a) for a in options.listen_addrs]
        self._announce = [parse_multiaddr(a) for a in options.announce_addrs]
        for relay_addr in options.relays:
            parse_peer_multiaddr(relay_addr)
        if options.relays and not options.relay_client:
            raise HostStartError("relays are configured but relay_client is off; turn it on")
        if options.reachability not in REACHABILITY_MODES:
            raise HostStartError(
                f"unknown reachability {options.reachability!r}; use one of "
                + ", ".join(REACHABILITY_MODES)
            )
        self._base_addrs: list[str] = []
        self._listening: list[str] = []
        # asyncio side
        self._subscriptions: dict[str, MessageFeed] = {}
        self._watchers: set[EventFeed] = set()
        self._connected: dict[str, tuple[str, ...]] = {}
        # trio side
        self._host: IHost | None = None
        self._pubsub: ToktokPubsub | None = None
        self._scorer: ToktokScorer | None = None
        self._streams: StreamService | None = None
        self._dht: DhtNode | None = None
        self._relay: RelayNode | None = None
        self._circuits: list[str] = []
        self._observed: list[str] = []  # our addresses as other peers see them (identify)
        self._policy = AddressPolicy.from_setting(options.public_ranges)
        self._autonat: AutoNat | None = None
        self._mdns_factory = mdns_factory or zeroconf_discovery
        self._mdns: MdnsNode | None = None
        self._validators: dict[str, TopicValidator | None] = {}
        self._t_feeds: dict[str, MessageFeed] = {}
        # at most this many validators run at once (the rest wait, within their timeout)
        self._t_validator_slots = trio.CapacityLimiter(options.gossip.max_concurrent_validators)
        self._t_connected: set[ID] = set()

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the host; returns when it listens and gossipsub runs."""
        try:
            await self._thread.start(self._trio_main, self._options.start_timeout)
        except P2PError:
            raise
        except Exception as exc:
            raise HostStartError(f"the p2p host failed to start: {exc}") from exc

    async def stop(self) -> None:
        """Close all connections and listeners, join the trio thread. Idempotent."""
        await self._thread.stop()
        for feed in list(self._subscriptions.values()):
            feed.end()
        for watcher in list(self._watchers):
            watcher.end()
        self._subscriptions.clear()
        self._watchers.clear()
        self._connected.clear()

    async def __aenter__(self) -> P2PHost:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._thread.running

    def set_listen_addrs(self, addrs: Sequence[str]) -> None:
        """Listen on ``addrs`` instead of the options' (before ``start()`` only)."""
        if self.running:
            raise P2PError("the listen addresses are fixed once the host runs")
        self._listen = [parse_multiaddr(a) for a in addrs]
        self._options = dataclasses.replace(self._options, listen_addrs=tuple(addrs))

    @property
    def listening(self) -> list[str]:
        """The transport addresses bound (ports resolved; no ``/p2p`` suffix)."""
        return list(self._listening)

    @property
    def options(self) -> HostOptions:
        """The settings this host was built with."""
        return self._options

    @property
    def peer_id(self) -> str:
        if not self._peer_id:
            raise HostNotRunningError()
        return self._peer_id

    @property
    def addrs(self) -> list[str]:
        """Full multiaddrs we announce, each ending in ``/p2p/<our id>``."""
        return list(self._addrs)

    def reachability(self) -> dict[str, Any]:
        """Whether other peers can dial us, learnt from AutoNAT dial-backs only (ARCHITECTURE
        "Reachability"), with what we announce."""
        autonat, relay = self._autonat, self._relay
        verdicts = autonat.verdicts if autonat is not None else Verdicts()
        state = verdicts.state
        why = verdicts.why_private() if state is Reachability.PRIVATE else ""
        if autonat is None:
            why = "AutoNAT is off"
        words = describe(
            state, circuits=self._circuits, relays_configured=len(self._options.relays), why=why
        )
        return {
            "state": state.value,
            **words,
            "announced": list(self._addrs),
            "circuits": list(self._circuits),
            "observed": list(self._observed),
            "dialbacks": dict(verdicts.results),
            "dialbacks_served": autonat.dialbacks_served if autonat is not None else 0,
            "connections": self._connection_kinds(),
            "holding_reservations": relay is not None and relay.holding,
            "relay_service": (
                {
                    "reservations": relay.reservations_served(),
                    "relayed_bytes": relay.relayed_bytes,
                    "circuit_bytes": relay.limits.circuit_bytes,
                    "refused": relay.resources.refused,
                }
                if relay is not None and relay.hop
                else None
            ),
        }

    def relayed(self, peer: str) -> bool:
        """Whether every connection to ``peer`` goes through a relay (False when there is
        none, or when the table changed while it was read; read from the asyncio thread, a
        snapshot like :meth:`_connection_kinds`)."""
        host = self._host
        if host is None:
            return False
        try:
            conns = list(host.get_network().connections.get(ID.from_base58(peer)) or [])
            addrs = [str(a) for c in conns for a in c.get_transport_addresses()]
        except (RuntimeError, ValueError):  # the table changed meanwhile, or a bad id
            return False
        return bool(addrs) and all(is_circuit(a) for a in addrs)

    def _connection_kinds(self) -> dict[str, str]:
        """Each connected peer: "direct" when one of its connections is not relayed."""
        host = self._host
        kinds: dict[str, str] = {}
        if host is None:
            return kinds
        try:  # read from the asyncio thread: a snapshot, retried never (status only)
            for peer_id, conns in list(host.get_network().connections.items()):
                addrs = [str(a) for c in list(conns) for a in c.get_transport_addresses()]
                direct = any(not is_circuit(a) for a in addrs) or not addrs
                kinds[peer_id.to_base58()] = "direct" if direct else "relayed"
        except RuntimeError:  # the trio thread changed the table meanwhile
            pass
        return kinds

    async def _trio_main(self, stop: trio.Event, task_status: Any) -> None:
        opts = self._options
        key_pair = load_or_create_identity(opts.identity_path)
        self._key_pair = key_pair
        self._peer_id = peer_id_of(key_pair)
        host = build_libp2p_host(key_pair, opts)
        pubsub, router = build_gossipsub(host, opts.gossip, self._dispatch, self._t_deliver)
        self._host, self._pubsub = host, pubsub
        self._scorer = router.scorer if isinstance(router.scorer, ToktokScorer) else None
        self._streams = StreamService(
            self._thread, host, opts.max_request_size, opts.request_sessions
        )
        host.get_network().register_notifee(_Notifee(self))
        dht = (
            DhtNode(host, opts.dht, opts.dht_query_timeout, opts.dht_lookup_timeout)
            if opts.dht != "off"
            else None
        )
        self._dht = dht
        relay = (
            RelayNode(
                host,
                hop=opts.relay_service,
                dial_timeout=opts.dial_timeout,
                limits=ServiceLimits(
                    circuit_duration_s=opts.relay_circuit_duration_s,
                    circuit_bytes=opts.relay_circuit_bytes,
                    reservation_ttl_s=opts.relay_reservation_ttl_s,
                    max_reservations=opts.relay_max_reservations,
                    max_reservations_per_ip=opts.relay_max_reservations_per_ip,
                    max_circuits_per_peer=opts.relay_max_circuits_per_peer,
                ),
                hole_punching=opts.hole_punching and opts.relay_client,
            )
            if opts.relay_client or opts.relay_service
            else None
        )
        self._relay = relay
        autonat = (
            AutoNat(
                host,
                self._policy,
                dial_timeout=opts.dial_timeout,
                recheck_s=opts.autonat_recheck_s,
                announced=self._t_dial_candidates,
                on_confirmed=self._t_refresh_addrs,
            )
            if opts.autonat
            else None
        )
        if autonat is not None:
            host.set_stream_handler(TProtocol(AUTONAT_PROTOCOL), autonat.handle)
        self._autonat = autonat
        try:
            async with (
                host.run(self._listen),
                background_trio_service(pubsub),
                background_trio_service(router),
                contextlib.AsyncExitStack() as extra,
            ):
                if dht is not None:
                    await extra.enter_async_context(background_trio_service(dht.kad))
                if relay is not None:
                    await extra.enter_async_context(background_trio_service(relay.protocol))
                    if relay.dcutr is not None:
                        await extra.enter_async_context(background_trio_service(relay.dcutr))
                await pubsub.wait_until_ready()
                listening = host.get_transport_addrs()
                if len(listening) < len(self._listen):  # py-libp2p only logs a failed bind
                    wanted = ", ".join(str(a) for a in self._listen)
                    raise HostStartError(
                        f"could not listen on {wanted} (address in use or not local?); "
                        "check listen_addrs in the config"
                    )
                self._listening = [str(a) for a in listening]
                self._base_addrs = [str(a) for a in host.get_addrs()]
                self._addrs = list(self._base_addrs)
                # identify (and the DHT's provider records) tell other peers what WE announce,
                # circuit addresses included: py-libp2p's own get_addrs knows none of them (and
                # would turn one into the relay's address if given one: it strips the first /p2p)
                host.get_addrs = self._t_announced  # type: ignore[method-assign]
                async with trio.open_nursery() as tasks:
                    for addr in opts.bootstrap:
                        tasks.start_soon(self._t_bootstrap, addr)
                    if relay is not None and opts.relays:
                        tasks.start_soon(
                            relay.hold,
                            opts.relays,
                            self._t_want_relays,
                            opts.relay_check_interval,
                            self._t_circuits,
                        )
                    if autonat is not None:
                        tasks.start_soon(autonat.run_client)
                    if opts.mdns:
                        self._mdns = MdnsNode(
                            host, self._thread.post, self._t_connect, self._mdns_factory
                        )
                        self._mdns.start(tasks)
                    task_status.started(tasks)
                    await stop.wait()
                    tasks.cancel_scope.cancel()
                with trio.move_on_after(5):
                    await host.close()
        finally:
            if self._mdns is not None:
                self._mdns.stop()
                self._mdns = None
            pubsub.seen_messages.stop()  # py-libp2p's seen cache owns a sweeper thread
            self._host = self._pubsub = None
            self._streams = None
            self._dht = None
            self._relay = None
            self._autonat = None
            self._circuits = []

    # connections -------------------------------------------------------------------------

    async def connect(self, multiaddr: str) -> str:
        """Dial a full multiaddr, or a bare peer id (``12D3Koo...`` or ``/p2p/12D3Koo...``)
        whose addresses are then looked up through the DHT."""
        bare = bare_peer_id(multiaddr)
        if bare is not None:
            found = await self.find_peer(bare)
            if found is None:
                raise PeerNotFoundError(
                    f"peer {bare} was not found through the DHT; connect to a peer that "
                    "knows it, or give its full multiaddr"
                )
            direct = tuple(a for a in found.addrs if not is_circuit(a))
            if not direct:  # reachable only through a relay
                return await self._thread.run(self._t_connect_relayed, found.addrs[0])
            await self._thread.run(self._t_connect, peer_info(bare, direct))
            return bare
        if is_circuit(multiaddr):
            parse_peer_multiaddr(multiaddr)  # the same address errors as a direct dial
            return await self._thread.run(self._t_connect_relayed, multiaddr)
        info = parse_peer_multiaddr(multiaddr)
        await self._thread.run(self._t_connect, info)
        return str(info.peer_id.to_base58())

    async def _t_connect_relayed(self, addr: str) -> str:
        if self._relay is None:
            raise DialError(f"{addr} is a relay address but relay_client is off")
        peer_id = await self._relay.dial(addr)
        self._t_note_connected(peer_id)
        return str(peer_id.to_base58())

    def _t_circuits(self, circuits: list[str]) -> None:
        """Our relay addresses changed (a reservation was made or lost)."""
        self._circuits = list(circuits)
        self._t_refresh_addrs()
        if circuits:
            logger.info("reachable through relays at %s", ", ".join(circuits))

    def _t_announced(self) -> list[multiaddr.Multiaddr]:
        return [multiaddr.Multiaddr(a) for a in self._addrs]

    def _t_refresh_addrs(self) -> None:
        """What we announce: our own addresses, observed addresses a dial-back confirmed,
        and circuit addresses while a reservation holds."""
        confirmed = self._autonat.confirmed if self._autonat is not None else []
        me = f"/p2p/{self._peer_id}"
        extra = [a + me for a in confirmed if a + me not in self._base_addrs]
        self._addrs = self._base_addrs + extra + self._circuits

    def _t_want_relays(self) -> bool:
        """Whether to hold reservations on our relays now (``HostOptions.reachability``)."""
        autonat = self._autonat
        return wants_reservations(
            self._options.reachability,
            has_addrs=bool(self._base_addrs),
            state=autonat.verdicts.state if autonat is not None else None,
        )

    def _t_dial_candidates(self) -> list[str]:
        """Addresses to ask AutoNAT servers to dial: ours, and those identify says other
        peers see us at (the router's address), with the port seen and with our listen port
        (a router that keeps ports maps it there once we dial from it)."""
        candidates = list(self._base_addrs)
        self._observed = self._t_observed()
        for addr in self._observed:
            if addr not in candidates:
                candidates.append(addr)
        return candidates

    def _t_observed(self) -> list[str]:
        host = self._host
        manager = getattr(host, "_observed_addr_manager", None)
        if host is None or manager is None:
            return []
        ports = {str(a).split("/")[4] for a in host.get_transport_addrs() if "/tcp/" in str(a)}
        found: list[str] = []
        try:
            seen = [str(a) for a in manager.addrs(min_observers=1)]
        except Exception:  # py-libp2p internals: never let them break a request
            return []
        for addr in seen:
            parts = addr.split("/")
            if is_circuit(addr) or len(parts) < 5 or parts[3] != "tcp":
                continue
            base = "/".join(parts[:5])
            for candidate in (base, *(f"/{parts[1]}/{parts[2]}/tcp/{p}" for p in ports)):
                if candidate not in found:
                    found.append(candidate)
        return found

    async def _t_connect(self, info: Any) -> None:
        host = self._need_host()
        if not host.get_network().connections.get(info.peer_id):
            _forget_failed_dials(host, info.peer_id)
        try:
            with trio.fail_after(self._options.dial_timeout):
                await host.connect(info)
        except trio.TooSlowError:
            raise DialError(f"dialling {info.peer_id} timed out") from None
        except Exception as exc:
            raise DialError(f"could not connect to {info.peer_id}: {exc}") from exc
        self._t_note_connected(info.peer_id)

    async def _t_bootstrap(self, addr: str) -> None:
        try:
            await self._t_connect(parse_peer_multiaddr(addr))
        except P2PError as exc:
            logger.warning("bootstrap peer %s unreachable: %s", addr, exc)

    async def disconnect(self, peer: str) -> None:
        await self._thread.run(self._t_disconnect, parse_peer(peer))

    async def _t_disconnect(self, peer_id: ID) -> None:
        await self._need_host().disconnect(peer_id)
        self._t_note_disconnected(peer_id)

    def peers(self) -> list[PeerInfo]:
        return [PeerInfo(peer, addrs) for peer, addrs in sorted(self._connected.items())]

    def watch_connections(self) -> EventStream:
        if not self.running:
            raise HostNotRunningError()
        feed = EventFeed(self._options.event_queue, None)
        self._watchers.add(feed)

        async def on_close() -> None:
            self._watchers.discard(feed)

        feed._on_close = on_close
        return feed

    def _t_note_connected(self, peer_id: ID) -> None:
        host = self._host
        if host is None or peer_id in self._t_connected:
            return
        if not host.get_network().connections.get(peer_id):
            return
        self._t_connected.add(peer_id)
        if self._dht is not None and self._thread.running:
            self._thread.nursery.start_soon(self._dht.peer_connected, peer_id)
        try:
            addrs = tuple(str(a) for a in host.get_peerstore().addrs(peer_id))
        except Exception:  # an inbound peer whose listen addresses we have not learnt (yet)
            addrs = ()
        if not addrs:  # fall back to where the connection comes from
            conns = host.get_network().connections.get(peer_id) or []
            addrs = tuple(str(a) for c in conns for a in c.get_transport_addresses())
            if self._thread.running:  # an inbound peer: its source port is not where it listens
                self._thread.nursery.start_soon(self._t_learn_listen_addrs, peer_id)
        self._thread.post_asyncio(self._on_connection, "connected", peer_id.to_base58(), addrs)

    async def _t_learn_listen_addrs(self, peer_id: ID) -> None:
        """Replace an inbound peer's source address by the listen addresses identify reports
        (so the peer book never keeps a temporary port to redial)."""
        host = self._need_host()
        with trio.move_on_after(LISTEN_ADDRS_WAIT_S):
            while peer_id in self._t_connected:
                try:
                    addrs = tuple(str(a) for a in host.get_peerstore().addrs(peer_id))
                except Exception:  # not learnt yet
                    addrs = ()
                if addrs:
                    self._thread.post_asyncio(self._on_addrs, peer_id.to_base58(), addrs)
                    return
                await trio.sleep(0.1)

    def _on_addrs(self, peer: str, addrs: tuple[str, ...]) -> None:
        if peer in self._connected:
            self._connected[peer] = addrs

    def _t_note_disconnected(self, peer_id: ID) -> None:
        host = self._host
        if host is None or peer_id not in self._t_connected:
            return
        if host.get_network().connections.get(peer_id):
            return
        self._t_connected.discard(peer_id)
        if self._streams is not None:
            self._streams.forget(peer_id)
        self._thread.post_asyncio(self._on_connection, "disconnected", peer_id.to_base58(), ())

    def _on_connection(self, kind: str, peer: str, addrs: tuple[str, ...]) -> None:
        if kind == "connected":
            self._connected[peer] = addrs
            event = ConnectionEvent("connected", peer)
        else:
            self._connected.pop(peer, None)
            event = ConnectionEvent("disconnected", peer)
        for watcher in list(self._watchers):
            watcher.push(event)

    # pubsub ------------------------------------------------------------------------------

    async def publish(self, topic: str, data: bytes) -> None:
        limit = self._options.gossip.max_message_size
        if len(data) > limit:
            raise MessageTooLargeError(f"the message on {topic}", len(data), limit)
        await self._thread.run(self._t_publish, topic, bytes(data))

    async def _t_publish(self, topic: str, data: bytes) -> None:
        pubsub = self._need_pubsub()
        try:
            await pubsub.publish(topic, data)
        except Exception as exc:
            raise PublishError(f"could not publish on {topic}: {exc}") from exc
        await _wait_for_room(pubsub)

    async def subscribe(self, topic: str, validator: TopicValidator | None = None) -> Subscription:
        if not topic:
            raise PublishError("the topic name is empty")
        if topic in self._subscriptions:
            raise PublishError(f"already subscribed to {topic}; close that subscription first")
        feed = MessageFeed(topic, self._options.subscription_queue, None)

        async def on_close() -> None:
            if self._subscriptions.get(topic) is feed:
                del self._subscriptions[topic]
            if self.running:
                await self._thread.run(self._t_unsubscribe, topic)

        feed._on_close = on_close
        self._subscriptions[topic] = feed
        try:
            await self._thread.run(self._t_subscribe, topic, feed, validator)
        except BaseException:
            del self._subscriptions[topic]
            raise
        return feed

    async def _t_subscribe(
        self, topic: str, feed: MessageFeed, validator: TopicValidator | None
    ) -> None:
        pubsub = self._need_pubsub()
        self._validators[topic] = validator
        self._t_feeds[topic] = feed
        await pubsub.subscribe(topic)

    def _t_deliver(self, topic: str, msg: rpc_pb2.Message) -> None:
        """Called by ToktokPubsub for every validated message on a subscribed topic."""
        pubsub = self._pubsub
        feed = self._t_feeds.get(topic)
        if pubsub is None or feed is None:
            return
        if msg.from_id == pubsub.my_id.to_bytes():
            return  # own messages are not delivered back
        forwarder = pubsub.forwarders.pop(pubsub.get_message_id(msg), None)
        self._thread.post_asyncio(feed.push, _to_message(msg, topic, forwarder))

    async def _t_unsubscribe(self, topic: str) -> None:
        self._t_feeds.pop(topic, None)
        self._validators.pop(topic, None)
        pubsub = self._pubsub
        if pubsub is not None:
            await pubsub.unsubscribe(topic)

    async def _dispatch(self, forwarder: ID, msg: rpc_pb2.Message) -> ValidationResult:
        outcome: ValidationResult = Accept()
        for topic in msg.topicIDs:
            validator = self._validators.get(topic)
            if validator is None:
                continue
            result = await self._t_validate(validator, _to_message(msg, topic, forwarder))
            if isinstance(result, Reject):
                return result
            if isinstance(result, Ignore):
                outcome = result
        return outcome

    async def _t_validate(self, validator: TopicValidator, message: Message) -> ValidationResult:
        timeout = self._options.gossip.validation_timeout
        try:
            with trio.move_on_after(timeout) as scope:
                async with self._t_validator_slots:
                    result = await self._thread.call_asyncio(_run_validator, validator, message)
            if scope.cancelled_caught:
                return Ignore(f"validator timed out after {timeout} s")
        except Exception as exc:
            logger.warning("validator for %s raised", message.topic, exc_info=True)
            return Ignore(f"validator failed: {exc!r}")
        if not isinstance(result, Accept | Reject | Ignore):
            return Ignore(f"validator returned {result!r}")
        return result

    async def peer_score(self, peer: str, topic: str) -> float:
        peer_id = parse_peer(peer)
        return await self._thread.run(self._t_score, peer_id, topic)

    async def _t_score(self, peer_id: ID, topic: str) -> float:
        scorer = self._scorer
        return 0.0 if scorer is None else float(scorer.score(peer_id, [topic]))

    async def topic_peers(self, topic: str) -> list[str]:
        return await self._thread.run(self._t_topic_peers, topic)

    async def _t_topic_peers(self, topic: str) -> list[str]:
        pubsub = self._need_pubsub()
        return sorted(p.to_base58() for p in pubsub.peer_topics.get(topic, set()))

    # request/response and raw streams ----------------------------------------------------

    async def serve(self, protocol: str, handler: RequestHandler) -> None:
        await self._thread.run(self._t_call, "serve", protocol, handler)

    async def unserve(self, protocol: str) -> None:
        await self._thread.run(self._t_call, "unserve", protocol)

    async def request(
        self,
        peer: str,
        protocol: str,
        payload: bytes,
        timeout: float | None = None,  # noqa: ASYNC109
        max_response: int | None = None,
    ) -> bytes:
        return await self._thread.run(
            self._t_request,
            peer,
            protocol,
            bytes(payload),
            self._options.request_timeout if timeout is None else timeout,
            self._options.max_response_size if max_response is None else max_response,
        )

    async def _t_request(
        self,
        peer: str,
        protocol: str,
        payload: bytes,
        timeout: float,  # noqa: ASYNC109
        max_response: int,
    ) -> bytes:
        return await self._need_streams().request(peer, protocol, payload, timeout, max_response)

    async def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        await self._thread.run(self._t_call, "set_stream_handler", protocol, handler)

    async def remove_stream_handler(self, protocol: str) -> None:
        await self._thread.run(self._t_call, "unserve", protocol)

    async def open_stream(self, peer: str, protocols: Sequence[str]) -> P2PStream:
        return await self._thread.run(self._t_open_stream, peer, list(protocols))

    async def _t_open_stream(self, peer: str, protocols: list[str]) -> P2PStream:
        return await self._need_streams().open_stream(peer, protocols)

    async def _t_call(self, method: str, *args: Any) -> None:
        getattr(self._need_streams(), method)(*args)

    # DHT (peer.p2p.ports.Routing) -----------------------------------------------------------

    @property
    def dht_mode(self) -> str:
        return self._options.dht

    async def provide(self, key: bytes) -> int:
        return await self._thread.run(self._t_provide, bytes(key))

    async def _t_provide(self, key: bytes) -> int:
        return await self._need_dht("providing").provide(key)

    async def find_providers(self, key: bytes, limit: int) -> list[PeerInfo]:
        found = await self._thread.run(self._t_find_providers, bytes(key), limit)
        return [PeerInfo(f.peer_id, f.addrs) for f in found]

    async def _t_find_providers(self, key: bytes, limit: int) -> list[Found]:
        if limit <= 0:
            return []
        return await self._need_dht("finding providers").find_providers(key, limit)

    async def find_peer(self, peer: str) -> PeerInfo | None:
        peer_id = parse_peer(peer)
        found = await self._thread.run(self._t_find_peer, peer_id)
        return None if found is None else PeerInfo(found.peer_id, found.addrs)

    async def _t_find_peer(self, peer_id: ID) -> Found | None:
        return await self._need_dht("finding a peer by id").find_peer(peer_id)

    def discovery_stats(self) -> dict[str, Any]:
        """DHT mode and routing-table size, relay and mDNS state (for status displays)."""
        dht, relay, mdns = self._dht, self._relay, self._mdns
        return {
            "dht": self._options.dht,
            "dht_routing_table": dht.routing_table_size if dht is not None else 0,
            "relay_client": self._options.relay_client,
            "relay_service": self._options.relay_service,
            "relay_addrs": sorted(relay.circuit_addrs.values()) if relay is not None else [],
            "relay_holding": relay is not None and relay.holding,
            "relay_reservations_served": relay.reservations_served() if relay is not None else 0,
            "relayed_bytes": relay.relayed_bytes if relay is not None else 0,
            "hole_punching": relay is not None and relay.dcutr is not None,
            "mdns": mdns is not None and mdns.running,
            "mdns_discovered": mdns.discovered if mdns is not None else 0,
        }

    # helpers -----------------------------------------------------------------------------

    def _need_dht(self, what: str) -> DhtNode:
        self._need_host()
        if self._dht is None:
            raise DhtUnavailableError(what)
        return self._dht

    def _need_host(self) -> IHost:
        if self._host is None:
            raise HostNotRunningError()
        return self._host

    def _need_pubsub(self) -> ToktokPubsub:
        if self._pubsub is None:
            raise HostNotRunningError()
        return self._pubsub

    def _need_streams(self) -> StreamService:
        if self._streams is None:
            raise HostNotRunningError()
        return self._streams


class _Notifee(INotifee):
    """Turns swarm notifications into per-peer connected/disconnected events."""

    def __init__(self, owner: P2PHost) -> None:
        self._owner = owner

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self._owner._t_note_connected(conn.muxed_conn.peer_id)

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self._owner._t_note_disconnected(conn.muxed_conn.peer_id)

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        return None

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        return None

    async def listen(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        return None

    async def listen_close(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        return None


def _forget_failed_dials(host: IHost, peer_id: ID) -> None:
    """Before an explicit dial of ``peer_id`` at given addresses (trio side): lift
    py-libp2p's negative cache for it and drop the addresses its peerstore remembers.

    py-libp2p 0.8.1 refuses for 60 s any dial of a peer whose addresses all failed ("recently
    failed all addresses (negative cache)"), and each failed redial starts that again; and its
    swarm dials at most one address per transport, the first the peerstore lists, so a stale
    address from before the peer's restart would be tried instead of the one we were given.
    Both made a restarted peer unreachable for minutes. The addresses are the caller's word
    (a user's connect, the peer book, a DHT answer); identify adds the peer's own again once
    connected.
    """
    network = host.get_network()
    unblock = getattr(network, "unblock_peer", None)
    if callable(unblock):
        unblock(peer_id)
    with contextlib.suppress(Exception):  # a peer the peerstore does not know yet
        host.get_peerstore().clear_addrs(peer_id)


async def _wait_for_room(pubsub: ToktokPubsub) -> None:
    """Publish backpressure: py-libp2p's per-peer outbound queues hold 32 RPCs and DROP what
    does not fit, so a fast publisher loses messages. Wait (bounded by PUBLISH_BACKPRESSURE_S,
    so one stuck peer cannot stall us) until every queue is at most half full."""
    deadline = trio.current_time() + PUBLISH_BACKPRESSURE_S
    while any(len(q) > OUTBOUND_QUEUE_HIGH for q in list(pubsub.peer_queues.values())):
        if trio.current_time() > deadline:
            return
        await trio.sleep(0.001)


async def _run_validator(validator: TopicValidator, message: Message) -> ValidationResult:
    return await validator(message)


def _to_message(msg: rpc_pb2.Message, topic: str, forwarder: ID | None) -> Message:
    origin = ID(msg.from_id).to_base58()
    return Message(
        from_peer=origin,
        data=bytes(msg.data),
        topic=topic,
        received_from=forwarder.to_base58() if forwarder is not None else origin,
        seqno=bytes(msg.seqno),
    )
