"""Gossipsub as Toktok configures it (trio side; used only by ``host.py``).

What differs from py-libp2p's defaults, and why (see also ``options.GossipOptions``):

* Validation is three-valued. py-libp2p validators return a bool and every failure adds a
  P4 "invalid message" penalty to the forwarder. ``ToktokPubsub.validate_msg`` runs the
  topic's dispatcher, which returns Accept / Reject / Ignore; for Ignore it tells the scorer
  to skip the penalty of exactly that failure (the scorer call follows the raise in the same
  trio task with no checkpoint in between, so the hand-over cannot interleave).
* Our own publishes are not validated (a feed validator answers Ignore for "already stored",
  which would silently drop every post we publish after storing it) and are exempt from the
  per-neighbour spam limit.
* Validated messages go straight to the host's ``deliver`` callback (no 32-slot channel that
  drops when full); the host's bounded asyncio-side queue is the only place one can be lost.
* Payloads over ``max_message_size`` are rejected before any validator runs.
* Loopback peers can be exempted from the IP-colocation penalty (tests and benchmarks only).
* A neighbour's signed peer record, which py-libp2p attaches to every RPC, is verified once per
  record instead of once per RPC (``records.py``).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Awaitable, Callable

from libp2p.abc import IHost
from libp2p.exceptions import ValidationError
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import (
    PROTOCOL_ID,
    PROTOCOL_ID_V11,
    PROTOCOL_ID_V12,
    GossipSub,
)
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.score import PeerScorer, ScoreParams, TopicScoreParams

from .options import GossipOptions
from .ports import Accept, Ignore, Reject, ValidationResult
from .records import remember_sender_records

logger = logging.getLogger(__name__)

Dispatcher = Callable[[ID, rpc_pb2.Message], Awaitable[ValidationResult]]
"""Validates a received message for all its topics (returns the combined outcome)."""

Deliver = Callable[[str, rpc_pb2.Message], None]
"""Receives every validated message for each subscribed topic it carries (sync, no drop)."""

# 1.0 for js/go peers without scoring, 1.1 (scoring, PX), 1.2 (IDONTWANT). The 1.3+/2.0
# variants are py-libp2p-only drafts; js-libp2p gossipsub 17 speaks up to 1.2.
PROTOCOLS = [PROTOCOL_ID_V12, PROTOCOL_ID_V11, PROTOCOL_ID]


class ToktokScorer(PeerScorer):
    """PeerScorer with a loopback exemption and an Ignore hand-over for P4."""

    def __init__(self, params: ScoreParams, exempt_loopback: bool) -> None:
        super().__init__(params)
        self._exempt_loopback = exempt_loopback
        self.ignore_pending: set[str] = set()

    def add_peer_ip(self, peer: ID, ip_str: str) -> None:
        if self._exempt_loopback and _is_loopback(ip_str):
            return
        super().add_peer_ip(peer, ip_str)

    def on_invalid_message(self, peer: ID, topic: str) -> None:
        if topic in self.ignore_pending:
            self.ignore_pending.discard(topic)
            return
        super().on_invalid_message(peer, topic)


class ToktokGossipSub(GossipSub):
    """GossipSub whose spam limit does not apply to our own publishes."""

    def _check_spam_protection(self, peer_id: ID, msg: rpc_pb2.Message) -> bool:
        if self.pubsub is not None and peer_id == self.pubsub.my_id:
            return True
        return super()._check_spam_protection(peer_id, msg)


class ToktokPubsub(Pubsub):
    """Pubsub whose topic validation is the three-valued dispatcher."""

    def __init__(
        self,
        host: IHost,
        router: ToktokGossipSub,
        options: GossipOptions,
        dispatcher: Dispatcher,
        deliver: Deliver | None = None,
    ) -> None:
        super().__init__(
            host,
            router,
            seen_ttl=options.seen_ttl,
            strict_signing=True,
            max_concurrent_validator_count=options.max_concurrent_validators,
            validation_timeout=options.validation_timeout,
            max_inbound_rpc_size=options.max_rpc_size,
        )
        self._dispatcher = dispatcher
        self._deliver = deliver
        self._max_message_size = options.max_message_size
        self.forwarders: dict[bytes, ID] = {}
        # ids of messages whose first copy is being validated (py-libp2p marks a message seen
        # only after validation, so copies from other neighbours would each run it again)
        self.validating: set[bytes] = set()

    def notify_subscriptions(self, publish_message: rpc_pb2.Message) -> None:
        """Hand messages straight to ``deliver`` instead of py-libp2p's 32-slot channels,
        which drop silently when the reader lags one scheduling round behind."""
        if self._deliver is None:
            super().notify_subscriptions(publish_message)
            return
        for topic in publish_message.topicIDs:
            if topic in self.topic_ids:
                self._deliver(topic, publish_message)

    async def validate_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        if msg_forwarder == self.my_id:
            return
        outcome: ValidationResult
        msg_id = self.get_message_id(msg)
        if len(msg.data) > self._max_message_size:
            outcome = Reject(f"{len(msg.data)} bytes, over {self._max_message_size}")
        elif msg_id in self.validating:
            outcome = Ignore("duplicate: its first copy is being validated")
        else:
            self.validating.add(msg_id)
            try:
                outcome = await self._dispatcher(msg_forwarder, msg)
            finally:
                self.validating.discard(msg_id)
        if isinstance(outcome, Accept):
            if len(self.forwarders) < 4096:
                self.forwarders[msg_id] = msg_forwarder
            return
        scorer = getattr(self.router, "scorer", None)
        if isinstance(outcome, Ignore) and isinstance(scorer, ToktokScorer):
            scorer.ignore_pending = set(msg.topicIDs)
        raise ValidationError(outcome.reason)


def score_params(options: GossipOptions) -> ScoreParams:
    """The documented scoring parameters (see ``GossipOptions``)."""
    return ScoreParams(
        p2_first_message_deliveries=TopicScoreParams(
            weight=options.first_delivery_weight,
            cap=options.first_delivery_cap,
            decay=options.first_delivery_decay,
        ),
        p4_invalid_messages=TopicScoreParams(
            weight=options.invalid_message_weight,
            cap=options.invalid_message_cap,
            decay=options.invalid_message_decay,
        ),
        p5_behavior_penalty_weight=options.behaviour_penalty_weight,
        p5_behavior_penalty_threshold=options.behaviour_penalty_threshold,
        p5_behavior_penalty_decay=options.behaviour_penalty_decay,
        p7_ip_colocation_weight=options.ip_colocation_weight,
        p7_ip_colocation_threshold=options.ip_colocation_threshold,
        publish_threshold=options.publish_threshold,
        gossip_threshold=options.gossip_threshold,
        graylist_threshold=options.graylist_threshold,
        accept_px_threshold=math.inf,  # no peer exchange: we dial explicitly
    )


def build_gossipsub(
    host: IHost, options: GossipOptions, dispatcher: Dispatcher, deliver: Deliver | None = None
) -> tuple[ToktokPubsub, ToktokGossipSub]:
    """Create the router and the pubsub service for ``host`` (not yet running)."""
    router = ToktokGossipSub(
        protocols=PROTOCOLS,
        degree=options.degree,
        degree_low=options.degree_low,
        degree_high=options.degree_high,
        gossip_window=options.gossip_window,
        gossip_history=options.gossip_history,
        heartbeat_interval=options.heartbeat_interval,
        heartbeat_initial_delay=0.1,
        do_px=False,
        score_params=score_params(options),
        spam_protection_enabled=True,
        max_messages_per_topic_per_second=options.max_messages_per_topic_per_second,
    )
    router.scorer = ToktokScorer(
        score_params(options), exempt_loopback=options.exempt_loopback_from_colocation
    )
    pubsub = ToktokPubsub(host, router, options, dispatcher, deliver)
    remember_sender_records(host)
    return pubsub, router


def _is_loopback(ip_str: str) -> bool:
    try:
        return ipaddress.ip_address(ip_str).is_loopback
    except ValueError:
        return False
