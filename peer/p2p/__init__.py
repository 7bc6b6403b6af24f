"""Toktok's libp2p layer: a py-libp2p host in its own trio thread, behind an asyncio facade.

Only this package imports trio or libp2p. Everything else talks to :class:`Network`.

Building and running (the composition root does this)::

    options = HostOptions(identity_path=data_dir / "p2p" / "identity.key")
    async with P2PHost(options) as host:         # start() returns when ready
        host.peer_id    # "12D3Koo..."
        host.addrs      # ["/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo..."]

Facade (:class:`Network`, implemented by :class:`P2PHost` and :class:`peer.p2p.testing.FakeHost`):

* connections: ``await connect(multiaddr) -> peer id``, ``await disconnect(peer)``,
  ``peers() -> list[PeerInfo]``, ``watch_connections() -> EventStream`` of
  :class:`ConnectionEvent` (``connected`` on a peer's first connection, ``disconnected``
  when its last one closes).
* pubsub: ``await publish(topic, data)``; ``await subscribe(topic, validator) ->
  Subscription`` (async iterator of :class:`Message`; ``close()`` unsubscribes). The async
  validator returns :class:`Accept`, :class:`Reject` (not forwarded, sender's score P4
  drops) or :class:`Ignore` (not forwarded, no penalty); it is not run for our own
  publishes, and own messages are never delivered back. ``await peer_score(peer, topic)``,
  ``await topic_peers(topic)``. One subscription per topic per host.
* request/response: ``await serve(protocol, handler)`` with ``handler(peer, bytes) ->
  bytes``; ``await request(peer, protocol, payload, timeout=, max_response=) -> bytes``.
  Errors: :class:`~peer.p2p.errors.RequestTimeoutError`,
  :class:`~peer.p2p.errors.MessageTooLargeError` (request over the server's limit),
  :class:`~peer.p2p.errors.ResponseTooLargeError`,
  :class:`~peer.p2p.errors.RemoteHandlerError`,
  :class:`~peer.p2p.errors.ProtocolNotSupportedError`.
* block exchange hook (bitswap, later issue): ``await set_stream_handler(protocol,
  handler(P2PStream))``, ``await open_stream(peer, [protocols]) -> P2PStream`` with
  ``read/write/close (half-close)/reset``. The storage layer declares a port with exactly
  these members (plus ``peer_id``, ``peers``, ``watch_connections``) and ``peer`` passes
  the host. Responses to a bitswap want-list must go out on a NEW outbound stream
  (see PLATFORM_NOTES: Kubo/Helia read blocks only from streams the responder opens).

* discovery (``peer.p2p.ports.Routing``, also on the fake): ``await provide(key)``,
  ``await find_providers(key, limit)``, ``await find_peer(peer)`` over the Kademlia DHT
  (``dht.py``; ``HostOptions.dht``); ``connect`` also takes a bare peer id (looked up through
  the DHT) and ``/p2p-circuit`` addresses (circuit relay v2, ``relay.py``; reservations on
  ``HostOptions.relays`` are announced in ``addrs``); mDNS when ``HostOptions.mdns`` is on
  (``mdns.py``). ``routing.DhtContentRouting`` is bitswap's ``ContentRouting`` on the DHT.

Settings: :class:`HostOptions` / :class:`GossipOptions` (every field documented).
Errors: ``peer.p2p.errors`` (tree in its docstring).
"""

from .errors import P2PError
from .host import P2PHost
from .options import GossipOptions, HostOptions
from .ports import (
    Accept,
    ConnectionEvent,
    EventStream,
    Ignore,
    Message,
    Network,
    P2PStream,
    PeerInfo,
    Reject,
    RequestHandler,
    Routing,
    StreamHandler,
    Subscription,
    TopicValidator,
    ValidationResult,
)

__all__ = [
    "Accept",
    "ConnectionEvent",
    "EventStream",
    "GossipOptions",
    "HostOptions",
    "Ignore",
    "Message",
    "Network",
    "P2PError",
    "P2PHost",
    "P2PStream",
    "PeerInfo",
    "Reject",
    "RequestHandler",
    "Routing",
    "StreamHandler",
    "Subscription",
    "TopicValidator",
    "ValidationResult",
]
