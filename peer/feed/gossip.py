"""The feed on gossipsub: topics, the validator wired into the p2p facade, rate limits.

Topics (ARCHITECTURE "Feed rules"): ``toktok/1/posts`` (posts of creators with a registered
token), ``toktok/1/creator/<lowercase address>`` (all of one creator's posts, for followers),
``toktok/1/profiles``, ``toktok/1/social`` (follows, likes, tombstones), ``toktok/1/likes``
(``likeV2`` records: today's peers Reject an unknown kind on the social topic and would
penalise the sender, so the new kind has a topic of its own; on it, a well-formed record of a
kind we do not know is Ignored, so kinds can be added there later), and
``toktok/1/comments/<lowercase address>`` (comments on one creator's posts and their authors'
withdrawals, and that creator's moderations and comment policies; subscribed by the creator,
its followers and its commenters; peers that predate comments never subscribe it, so they never
see, reject or penalise them; peers that predate withdrawals Ignore them as an unknown kind).

For every received message the facade's topic validator runs, in this order: decode (Reject),
topic fit (Reject: a record on a topic that does not carry it), the rate limit per forwarding
peer (Ignore: a relay under load is not a cheat), field rules and signature (Reject), blocked
author (Ignore), the rate limit per author (Ignore; after the signature check, so nobody can
spend a creator's budget with forged records, and before any chain lookup), for comment records
the limits per peer and per author across all comment topics (Ignore) and, for a comment on a
post we hold (or a withdrawal of a comment we hold), that the topic is the post creator's
(Reject), then the rest of the feed rules.
Accepted records are stored in the index before the validator answers. A fork, or a record the
index already had, answers Ignore so gossip does not forward it. A Reject reaches the facade as
Reject, which penalises the sending peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from peer.feed import validation as v
from peer.feed.errors import DecodeError, FeedError, OversizeError, UnknownKindError
from peer.feed.ingest import StoreResult
from peer.feed.ports import RecordStore
from peer.feed.ratelimit import Rate, RateLimiter
from peer.feed.records import (
    ZERO_ADDRESS,
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Follow,
    Like,
    LikeV2,
    Moderation,
    Post,
    Profile,
    Tombstone,
    signer_of,
)
from peer.feed.wire import Envelope, decode, encode
from peer.p2p.ports import Accept, Ignore, Message, Network, Reject, Subscription, ValidationResult

logger = logging.getLogger(__name__)

TOPIC_POSTS: Final = "toktok/1/posts"
TOPIC_PROFILES: Final = "toktok/1/profiles"
TOPIC_SOCIAL: Final = "toktok/1/social"
TOPIC_LIKES: Final = "toktok/1/likes"
LENIENT_TOPICS: Final = frozenset({TOPIC_LIKES})
"""Topics on which a well-formed record of an unknown kind is Ignored, not Rejected (and the
comment topics, ``COMMENT_TOPIC_PREFIX``)."""
CREATOR_TOPIC_PREFIX: Final = "toktok/1/creator/"
COMMENT_TOPIC_PREFIX: Final = "toktok/1/comments/"


def creator_topic(creator: str) -> str:
    """The topic carrying all of ``creator``'s posts."""
    return CREATOR_TOPIC_PREFIX + creator.lower()


def comment_topic(creator: str) -> str:
    """The topic carrying the comments on ``creator``'s posts and their moderation."""
    return COMMENT_TOPIC_PREFIX + creator.lower()


def topics_for(envelope: Envelope, post_creator: str | None = None) -> list[str]:
    """The topics a record is published on (a comment needs its post's creator)."""
    record = envelope.record
    if isinstance(record, Comment | CommentWithdrawal):
        if post_creator is None:
            raise ValueError("a comment is published on its post creator's comment topic")
        return [comment_topic(post_creator)]
    if isinstance(record, Moderation | CommentPolicy):
        return [comment_topic(record.creator)]
    if isinstance(record, Post):
        topics = [creator_topic(record.creator)]
        if record.token != ZERO_ADDRESS:
            topics.append(TOPIC_POSTS)
        return topics
    if isinstance(record, Profile):
        return [TOPIC_PROFILES]
    if isinstance(record, LikeV2):
        return [TOPIC_LIKES]
    return [TOPIC_SOCIAL]


def topic_problem(topic: str, envelope: Envelope) -> str | None:
    """Why ``envelope`` does not belong on ``topic`` (None if it does)."""
    record = envelope.record
    if topic == TOPIC_POSTS:
        if not isinstance(record, Post):
            return f"{envelope.kind} on the posts topic"
        if record.token == ZERO_ADDRESS:
            return "a post without a creator token on the global posts topic"
        return None
    if topic.startswith(CREATOR_TOPIC_PREFIX):
        if not isinstance(record, Post) or record.creator.lower() != topic.removeprefix(
            CREATOR_TOPIC_PREFIX
        ):
            return f"{envelope.kind} not by this topic's creator"
        return None
    if topic == TOPIC_PROFILES:
        return None if isinstance(record, Profile) else f"{envelope.kind} on the profiles topic"
    if topic == TOPIC_SOCIAL:
        if isinstance(record, Follow | Like | Tombstone):
            return None
        return f"{envelope.kind} on the social topic"
    if topic.startswith(COMMENT_TOPIC_PREFIX):
        if isinstance(record, Comment | CommentWithdrawal):
            return None  # its post's creator is checked against the index (``_decide``)
        if isinstance(record, Moderation | CommentPolicy):
            if record.creator.lower() == topic.removeprefix(COMMENT_TOPIC_PREFIX):
                return None
            return f"{envelope.kind} not by this topic's creator"
        return f"{envelope.kind} on a comment topic"
    if topic == TOPIC_LIKES:
        return None if isinstance(record, LikeV2) else f"{envelope.kind} on the likes topic"
    return f"unknown topic {topic}"


class RecordRejected(FeedError):
    """A record we were asked to publish fails the feed rules (the reason says which)."""


@dataclass(frozen=True, slots=True)
class FeedGossipOptions:
    """Rate limits of the feed topics."""

    per_peer: Rate = field(default_factory=lambda: Rate(rate=50.0, burst=200.0))
    """Messages per second (sustained, burst) accepted from one forwarding peer per topic."""
    per_creator: Rate = field(default_factory=lambda: Rate(rate=1.0, burst=30.0))
    """Records per second (sustained, burst) accepted from one author per topic."""
    comments_per_peer: Rate = field(default_factory=lambda: Rate(rate=20.0, burst=100.0))
    """Comment records per second accepted from one forwarding peer, all comment topics."""
    comments_per_author: Rate = field(default_factory=lambda: Rate(rate=0.2, burst=10.0))
    """Comment records per second accepted from one author, all comment topics."""


StoredCallback = Callable[[Envelope, bytes, StoreResult], None]


class FeedGossip:
    """Subscribes the feed topics, validates and stores what arrives, publishes our records."""

    def __init__(
        self,
        network: Network,
        validator: v.Validator,
        store: RecordStore,
        options: FeedGossipOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        on_stored: StoredCallback | None = None,
    ) -> None:
        self._network = network
        self._validator = validator
        self._store = store
        self._options = options or FeedGossipOptions()
        self._clock = clock
        self._on_stored = on_stored
        self._peer_limits = RateLimiter(self._options.per_peer)
        self._creator_limits = RateLimiter(self._options.per_creator)
        self._comment_peer_limits = RateLimiter(self._options.comments_per_peer)
        self._comment_author_limits = RateLimiter(self._options.comments_per_author)
        self._subs: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self._watched: set[str] = set()
        self.stats: Counter[str] = Counter()
        """Outcome counts, e.g. ``accept``, ``reject:bad-signature``, ``ignore:rate-peer``."""

    async def start(self) -> None:
        """Subscribe to the global topics."""
        for topic in (TOPIC_POSTS, TOPIC_PROFILES, TOPIC_SOCIAL, TOPIC_LIKES):
            await self._subscribe(topic)

    async def close(self) -> None:
        """Unsubscribe everything and stop the drain tasks."""
        for topic in list(self._subs):
            await self._unsubscribe(topic)

    async def follow_creator(self, creator: str) -> None:
        """Receive all posts of ``creator`` and the comments on them (its two topics)."""
        for topic in (creator_topic(creator), comment_topic(creator)):
            if topic not in self._subs:
                await self._subscribe(topic)

    async def unfollow_creator(self, creator: str) -> None:
        """Stop receiving ``creator``'s topics (its comments stay if ``watch_comments``)."""
        await self._unsubscribe(creator_topic(creator))
        if creator.lower() not in self._watched:
            await self._unsubscribe(comment_topic(creator))

    async def watch_comments(self, creator: str) -> None:
        """Receive the comments on ``creator``'s posts (the user's own posts, or a post the
        user commented on) until ``close``."""
        self._watched.add(creator.lower())
        topic = comment_topic(creator)
        if topic not in self._subs:
            await self._subscribe(topic)

    @property
    def topics(self) -> list[str]:
        """The topics currently subscribed."""
        return sorted(self._subs)

    async def publish(
        self, envelope: Envelope, *, post_creator: str | None = None
    ) -> v.Accepted | v.Ignored:
        """Validate, store and publish one of our own records (a comment names its post's
        creator: that creator's comment topic carries it).

        ``RecordRejected`` if it breaks the feed rules or would fork our own log; a record
        already stored is published again (a retry); Ignore for any other reason (the chain
        is unreachable) publishes nothing and is returned.
        """
        verdict = await self._validator.validate_envelope(envelope, int(self._clock()))
        if isinstance(verdict, v.Rejected):
            raise RecordRejected(f"{verdict.reason}: {verdict.detail}")
        if isinstance(verdict, v.Ignored) and verdict.reason is v.IgnoreReason.CONTROL_CHARACTERS:
            raise RecordRejected(f"{verdict.reason}: {verdict.detail}")  # we never sign those
        if isinstance(verdict, v.Accepted) and verdict.fork:
            raise RecordRejected(
                "fork: this creator already published another post with the same seq; "
                "continue the log from its head instead"
            )
        if isinstance(verdict, v.Accepted):
            result = await self._store.store(envelope, verdict.record_id)
            self._notify(envelope, verdict.record_id, result)
        elif verdict.reason is not v.IgnoreReason.DUPLICATE:
            return verdict  # e.g. the chain is unreachable: nothing published
        data = encode(envelope)
        for topic in topics_for(envelope, post_creator):
            await self._network.publish(topic, data)
        return verdict

    # ---- receiving ------------------------------------------------------------------------

    async def _subscribe(self, topic: str) -> None:
        async def validate(message: Message) -> ValidationResult:
            return await self._validate(topic, message)

        subscription = await self._network.subscribe(topic, validate)
        task = asyncio.create_task(self._drain(subscription), name=f"feed-drain {topic}")
        self._subs[topic] = (subscription, task)

    async def _unsubscribe(self, topic: str) -> None:
        entry = self._subs.pop(topic, None)
        if entry is None:
            return
        subscription, task = entry
        await subscription.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _drain(self, subscription: Subscription) -> None:
        # Records were stored by the validator; the queue is drained so it never fills.
        async for _message in subscription:
            pass

    async def _validate(self, topic: str, message: Message) -> ValidationResult:
        outcome = await self._decide(topic, message)
        label = type(outcome).__name__.lower()
        self.stats[label if isinstance(outcome, Accept) else f"{label}:{outcome.reason}"] += 1
        return outcome

    async def _decide(self, topic: str, message: Message) -> ValidationResult:
        now = self._clock()
        try:
            envelope = decode(message.data)
        except OversizeError:
            return Reject(str(v.RejectReason.OVERSIZE))
        except UnknownKindError:
            if topic in LENIENT_TOPICS or topic.startswith(COMMENT_TOPIC_PREFIX):
                return Ignore("unknown-kind")
            return Reject(str(v.RejectReason.UNDECODABLE))
        except DecodeError as exc:
            logger.debug("undecodable on %s from %s: %s", topic, message.received_from, exc)
            return Reject(str(v.RejectReason.UNDECODABLE))
        problem = topic_problem(topic, envelope)
        if problem is not None:
            return Reject(f"wrong-topic: {problem}")
        if not self._peer_limits.allow(f"{topic} {message.received_from}", now):
            return Ignore("rate-peer")
        authenticated = self._validator.authenticate(envelope)
        if isinstance(authenticated, v.Rejected):
            return Reject(str(authenticated.reason))
        author = signer_of(envelope.record)
        if await self._store.is_blocked(author):
            return Ignore("blocked")
        if not self._creator_limits.allow(f"{topic} {author}", now):
            return Ignore("rate-creator")
        if topic.startswith(COMMENT_TOPIC_PREFIX):
            if not self._comment_peer_limits.allow(str(message.received_from), now):
                return Ignore("rate-peer-comments")
            if not self._comment_author_limits.allow(author, now):
                return Ignore("rate-author-comments")
            creator = await self._commented_post_creator(envelope)
            if creator is not None and creator.lower() != topic.removeprefix(COMMENT_TOPIC_PREFIX):
                return Reject(f"wrong-topic: a {envelope.kind} on another creator's post")
        verdict = await self._validator.check(envelope, authenticated, int(now))
        if isinstance(verdict, v.Rejected):
            return Reject(str(verdict.reason))
        if isinstance(verdict, v.Ignored):
            return Ignore(str(verdict.reason))
        result = await self._store.store(envelope, verdict.record_id)
        self._notify(envelope, verdict.record_id, result)
        if result is StoreResult.DUPLICATE:
            return Ignore(str(v.IgnoreReason.DUPLICATE))
        if result is StoreResult.FORK or verdict.fork:
            return Ignore("fork")
        return Accept()

    async def _commented_post_creator(self, envelope: Envelope) -> str | None:
        """The creator of the post a comment (or the comment a withdrawal) is on, if stored."""
        record = envelope.record
        if isinstance(record, Comment):
            return await self._validator.view.post_creator(record.post)
        if isinstance(record, CommentWithdrawal):
            target = await self._validator.view.comment_info(record.target)
            return None if target is None else await self._validator.view.post_creator(target[0])
        return None

    def _notify(self, envelope: Envelope, record_id: bytes, result: StoreResult) -> None:
        if self._on_stored is None or result is StoreResult.DUPLICATE:
            return
        try:
            self._on_stored(envelope, record_id, result)
        except Exception:
            logger.exception("on_stored callback failed")
