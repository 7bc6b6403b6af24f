"""Typed, documented settings of the libp2p host (built by the composition root from config).

Every field has a default chosen for Toktok and a comment saying why. ``tests/unit/p2p``
checks that every field is documented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK_LISTEN = "/ip4/127.0.0.1/tcp/0"


@dataclass(frozen=True, slots=True)
class GossipOptions:
    """Gossipsub parameters (py-libp2p's defaults are not usable as they are)."""

    # Mesh degree D, D_low, D_high (the libp2p spec's defaults).
    degree: int = 6
    degree_low: int = 4
    degree_high: int = 12
    # Heartbeat period in seconds. py-libp2p defaults to 120 s, which leaves a new peer out
    # of the mesh for minutes; 1 s is the spec's value.
    heartbeat_interval: int = 1
    # Seen-cache TTL in seconds: a message id is remembered this long, so a duplicate arriving
    # later is processed again (and validated again). 120 s (go-libp2p's default) covers
    # gossip propagation on any realistic mesh; feed validators are idempotent anyway.
    seen_ttl: int = 120
    # Message cache: gossip about the last `gossip_window` heartbeats, keep `gossip_history`.
    gossip_window: int = 3
    gossip_history: int = 5
    # Largest pubsub RPC frame accepted from a peer, in bytes (a frame exceeding it resets the
    # peer's pubsub stream). 1 MiB, the go/py-libp2p default: one RPC may batch messages with
    # control lists (IHAVE of up to 5000 ids), so this must stay well above max_message_size.
    max_rpc_size: int = 1024 * 1024
    # Largest payload we publish or accept in one message (bytes); larger ones are refused
    # locally with MessageTooLargeError and dropped (Reject) when received.
    max_message_size: int = 16 * 1024
    # Spam protection: messages per second accepted from one neighbour on one topic before
    # py-libp2p drops the surplus (and adds a behaviour penalty). The library default of 10/s
    # throttles an honest creator catching up; 200/s is far above any honest rate (records
    # are produced by humans) and still bounds a flood. Our own publishes are exempt.
    max_messages_per_topic_per_second: float = 200.0
    # Async validators: how long one may run (seconds) before the message is Ignored, and how
    # many run at once.
    validation_timeout: float = 5.0
    max_concurrent_validators: int = 32
    # Peer scoring. P4 (invalid messages) is the penalty for a Reject: each rejected message
    # costs `invalid_message_weight` points, counted up to `invalid_message_cap`, decaying by
    # the factor `invalid_message_decay` per heartbeat (0.99/s: half-life ~69 s).
    invalid_message_weight: float = 10.0
    invalid_message_cap: float = 100.0
    invalid_message_decay: float = 0.99
    # P2 (first message deliveries) rewards useful peers a little, capped.
    first_delivery_weight: float = 0.5
    first_delivery_cap: float = 20.0
    first_delivery_decay: float = 0.95
    # P5 behaviour penalties (spam, GRAFT floods...): weight per point above the threshold.
    behaviour_penalty_weight: float = 1.0
    behaviour_penalty_threshold: float = 5.0
    behaviour_penalty_decay: float = 0.95
    # IP colocation penalty (spec P6): weight per peer squared above `ip_colocation_threshold`
    # peers sharing one IP.
    ip_colocation_weight: float = 1.0
    ip_colocation_threshold: int = 3
    # Exempt loopback peers from the IP colocation penalty. All peers of a test or benchmark
    # share 127.0.0.1 and would all be punished; never enable this outside tests/benchmarks.
    exempt_loopback_from_colocation: bool = False
    # Score thresholds: below `graylist_threshold` a peer's RPCs are ignored; below
    # `publish_threshold` we stop forwarding its messages; below `gossip_threshold` we stop
    # gossiping with it. One rejected message (-10) does not graylist; eight do.
    gossip_threshold: float = -40.0
    publish_threshold: float = -60.0
    graylist_threshold: float = -80.0


@dataclass(frozen=True, slots=True)
class HostOptions:
    """Settings of one libp2p host."""

    # File holding the Ed25519 identity (libp2p protobuf private key, mode 0600). Created on
    # first start; normally <data>/p2p/identity.key.
    identity_path: Path
    # Addresses to listen on. Loopback by default (network hygiene rule); a user opts into
    # a public address in config.
    listen_addrs: tuple[str, ...] = (LOOPBACK_LISTEN,)
    # Addresses to announce instead of the listen addresses (empty: announce what we listen on).
    announce_addrs: tuple[str, ...] = ()
    # Peers dialled at start (full multiaddrs with /p2p/<id>). Empty by default: no public
    # bootstrap peers unless the user configures them.
    bootstrap: tuple[str, ...] = ()
    # Gossipsub settings.
    gossip: GossipOptions = field(default_factory=GossipOptions)
    # Request/response: largest request a served handler accepts, and the default largest
    # response a requester accepts (bytes).
    max_request_size: int = 1024 * 1024
    max_response_size: int = 4 * 1024 * 1024
    # Request/response sessions (/toktok/rr/1.0.0, several exchanges per stream): served, and
    # used with peers that serve them. Off: one stream per exchange only (as older peers).
    request_sessions: bool = True
    # Default timeout of `request` (seconds) and timeout for one dial (seconds).
    request_timeout: float = 10.0
    dial_timeout: float = 10.0
    # Bounded queue between the network and one subscriber (messages); the oldest are dropped
    # when the consumer falls behind (counted in Subscription.dropped).
    subscription_queue: int = 1024
    # Bounded queue of connection events per watcher.
    event_queue: int = 256
    # Connection limits. The swarm's AutoConnector (which re-dials every peer in the peerstore
    # every few seconds to reach a watermark) is switched off: Toktok dials explicitly
    # (bootstrap, `connect`, sync).
    max_connections: int = 200
    # How long `start()` waits for the trio thread to report readiness (seconds).
    start_timeout: float = 20.0
    # Kademlia DHT (/ipfs/kad/1.0.0): "server" answers other peers' queries and stores their
    # provider records, "client" only asks, "off" runs none. Server by default: with the
    # loopback/no-bootstrap defaults the DHT is formed only by the peers we connect to (no
    # packet leaves the machine unless the user configures public addresses or bootstrap
    # peers), and a peer that answers is what lets a third peer find content through it.
    dht: str = "server"
    # One DHT query to one peer may take this long (seconds); a whole lookup (provide,
    # find providers, find peer) this long.
    dht_query_timeout: float = 5.0
    dht_lookup_timeout: float = 30.0
    # Circuit relay v2 client: dial /p2p-circuit addresses and accept connections relayed to
    # us (only relays we hold a reservation on forward any). On by default; it opens nothing
    # by itself.
    relay_client: bool = True
    # Relays to hold a reservation on (full multiaddrs with /p2p/<relay id>), for a peer that
    # others cannot dial directly (behind NAT): it is then reachable at
    # <relay addr>/p2p/<relay>/p2p-circuit/p2p/<us>, which `addrs` lists while the
    # reservation holds. Empty by default.
    relays: tuple[str, ...] = ()
    # Act as a relay (hop) for other peers' reservations and circuits. Off by default.
    relay_service: bool = False
    # How often reservations are checked and renewed when lost (seconds).
    relay_check_interval: float = 10.0
    # When to hold reservations on `relays`: "auto" once AutoNAT says we are private (or when
    # we listen on no address at all), dropped again when it says public (go-libp2p's
    # AutoRelay); "private" always (a peer known to sit behind a router); "public" never.
    reachability: str = "auto"
    # Limits of our relay service, per circuit and per client, as public relays set them
    # (go-libp2p's relay v2 defaults): a relayed connection lasts at most
    # `relay_circuit_duration_s` and carries at most `relay_circuit_bytes` (both directions
    # together; enough for gossip, sync and key release, not for clips); a reservation lasts
    # `relay_reservation_ttl_s` (the client renews it); at most `relay_max_reservations` in
    # all, `relay_max_reservations_per_ip` per IP address (one per peer id), and
    # `relay_max_circuits_per_peer` open circuits to one reserved peer.
    relay_circuit_duration_s: int = 120
    relay_circuit_bytes: int = 128 * 1024
    relay_reservation_ttl_s: int = 3600
    relay_max_reservations: int = 128
    relay_max_reservations_per_ip: int = 8
    relay_max_circuits_per_peer: int = 16
    # DCUtR (/libp2p/dcutr): upgrade a relayed connection to a direct one by hole punching
    # (TCP simultaneous open from the listen port), as go-libp2p's holepunch service does.
    hole_punching: bool = True
    # Networks (CIDR) whose addresses count as public besides the globally routable ones
    # (peer.p2p.reachability.AddressPolicy; the test bed lists 198.18.0.0/15).
    public_ranges: tuple[str, ...] = ()
    # AutoNAT (/libp2p/autonat/1.0.0): answer other peers' dial-back requests, and ask
    # connected peers to dial us back; a settled verdict is re-checked this often (seconds).
    autonat: bool = True
    autonat_recheck_s: float = 300.0
    # Discover and dial peers on the local network with mDNS (multicast, leaves loopback:
    # off by default, never on in tests; see peer.p2p.mdns).
    mdns: bool = False
