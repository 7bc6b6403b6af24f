"""The feed validator (ARCHITECTURE "Feed rules"): bytes in, Accepted / Rejected / Ignored out.

Pure apart from two awaited ports: the chain lookup (``TokenRegistry.token_of``) and the local
state (``FeedView``). The current time is a parameter. Order of checks: size, decoding, field
rules, signature, control characters in text (Ignored), clock, duplicates, chain token, forks;
the first failing check decides.

``Accepted.fork`` is True when the creator already has a different post at the same ``seq``: the
post is stored as evidence, the creator is marked forked, and gossip must not forward it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from peer.feed.comments import CommentLimits, CommentRecord, CommentRules, comment_field_problem
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import DecodeError, OversizeError, RegistryUnavailable, SignatureError
from peer.feed.ports import FeedView, FreshLookup, Holdings, TokenRegistry
from peer.feed.records import (
    ZERO_ADDRESS,
    ZERO_ID,
    Comment,
    Post,
    Profile,
    Record,
    Tombstone,
    signer_of,
)
from peer.feed.signatures import recover_signer
from peer.feed.text import first_control
from peer.feed.wire import Envelope, decode
from storage.cid import is_cid

MAX_CLOCK_SKEW_S: Final = 300
MAX_TAGS: Final = 32
MAX_KEY_SERVERS: Final = 16


class RejectReason(StrEnum):
    """Why a record was rejected (the sender is penalised)."""

    UNDECODABLE = "undecodable"
    OVERSIZE = "oversize"
    INVALID = "invalid-field"
    BAD_SIGNATURE = "bad-signature"
    FUTURE = "created-in-future"
    WRONG_TOKEN = "wrong-token"  # noqa: S105 - a reason code, not a secret
    PREMIUM_WITHOUT_TOKEN = "premium-without-token"  # noqa: S105 - a reason code
    MANIFEST_NOT_CID = "manifest-not-cid"
    NOT_OWN_POST = "tombstone-not-own-post"
    MODERATION_NOT_OWN_POST = "moderation-not-own-post"
    POLICY_NOT_OWN_POST = "policy-not-own-post"
    WITHDRAWAL_NOT_OWN_COMMENT = "withdrawal-not-own-comment"


class IgnoreReason(StrEnum):
    """Why a record was dropped without penalty."""

    DUPLICATE = "duplicate"
    STALE = "stale-profile"
    CHAIN_UNAVAILABLE = "chain-unavailable"
    CONTROL_CHARACTERS = "control-characters"
    UNKNOWN_POST = "unknown-post"
    WITHDRAWN_POST = "withdrawn-post"
    UNKNOWN_PARENT = "unknown-parent"
    UNKNOWN_TARGET = "unknown-target"
    COMMENT_CAP = "comment-cap"
    COMMENT_BUDGET = "comment-budget"
    NOT_HOLDER = "not-holder"


@dataclass(frozen=True, slots=True)
class Accepted:
    """Store the record (and forward it on gossip unless ``fork``)."""

    envelope: Envelope
    record_id: bytes
    fork: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    """Drop the record and penalise the sender."""

    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """Drop the record without penalty."""

    reason: IgnoreReason
    detail: str


Verdict = Accepted | Rejected | Ignored


def text_fields(record: Record) -> tuple[str, ...]:
    """The free-text fields of a record (those a person typed or an address list)."""
    if isinstance(record, Post):
        return (record.title, *record.tags, *record.key_servers)
    if isinstance(record, Profile):
        return (record.name, record.avatar, *record.key_servers)
    if isinstance(record, Comment):
        return (record.text,)
    return ()


def field_problem(record: Record) -> tuple[RejectReason, str] | None:
    """Rules a single record must satisfy on its own (no signature, clock or chain)."""
    if isinstance(record, Post):
        if record.seq < 1:
            return RejectReason.INVALID, "seq starts at 1"
        if (record.seq == 1) != (record.prev == ZERO_ID):
            return RejectReason.INVALID, "prev must be zero exactly for seq 1"
        if not is_cid(record.manifest):
            return RejectReason.MANIFEST_NOT_CID, f"manifest {record.manifest[:80]!r}"
        if len(record.tags) > MAX_TAGS or len(record.key_servers) > MAX_KEY_SERVERS:
            return RejectReason.INVALID, "too many tags or key servers"
        if record.premium and record.token == ZERO_ADDRESS:
            return RejectReason.PREMIUM_WITHOUT_TOKEN, "a premium post needs a creator token"
        if not record.premium and (record.min_balance != 0 or record.key_servers):
            return RejectReason.INVALID, "a free post has minBalance 0 and no keyServers"
    if isinstance(record, Profile):
        if record.avatar and not is_cid(record.avatar):
            return RejectReason.INVALID, "avatar must be empty or a CID"
        if len(record.key_servers) > MAX_KEY_SERVERS:
            return RejectReason.INVALID, "too many key servers"
    comment_problem = comment_field_problem(record)
    if comment_problem is not None:
        return RejectReason.INVALID, comment_problem
    return None


def _free_before_token(record: Post | Profile) -> bool:
    """A free post with the zero token is valid whatever the registry says now: the creator
    may have posted it before creating a token (a registration never goes away, so requiring
    the current token would make every older free post invalid for good)."""
    return isinstance(record, Post) and not record.premium and record.token == ZERO_ADDRESS


class Validator:
    """Validates wire records against the feed rules for one chain/domain."""

    def __init__(
        self,
        domain: Domain,
        registry: TokenRegistry,
        view: FeedView,
        *,
        holdings: Holdings | None = None,
        comment_limits: CommentLimits | None = None,
        me: str | None = None,
    ) -> None:
        self._domain = domain
        self._registry = registry
        self._view = view
        self.comments = CommentRules(view, registry, holdings, comment_limits, me)
        """The comment rules (``me``, the local user, may be set once the wallet is open)."""

    @property
    def view(self) -> FeedView:
        """The local feed state the rules consult."""
        return self._view

    async def validate(self, data: bytes, now: int) -> Verdict:
        """Decide what to do with ``data`` received at Unix time ``now``."""
        try:
            envelope = decode(data)
        except OversizeError as exc:
            return Rejected(RejectReason.OVERSIZE, str(exc))
        except DecodeError as exc:
            return Rejected(RejectReason.UNDECODABLE, str(exc))
        return await self.validate_envelope(envelope, now)

    async def validate_envelope(self, envelope: Envelope, now: int) -> Verdict:
        """Like ``validate`` for an already decoded record (sync, local publishing)."""
        authenticated = self.authenticate(envelope)
        if isinstance(authenticated, Rejected):
            return authenticated
        return await self.check(envelope, authenticated, now)

    def authenticate(self, envelope: Envelope) -> bytes | Rejected:
        """Field rules and signature (no I/O): the record id, or why it is rejected."""
        record = envelope.record
        problem = field_problem(record)
        if problem is not None:
            return Rejected(*problem)
        record_id = digest(record, self._domain)
        try:
            signer = recover_signer(record_id, envelope.signature)
        except SignatureError as exc:
            return Rejected(RejectReason.BAD_SIGNATURE, str(exc))
        if signer != signer_of(record):
            return Rejected(RejectReason.BAD_SIGNATURE, f"signed by {signer}, not the author")
        return record_id

    async def check(self, envelope: Envelope, record_id: bytes, now: int) -> Verdict:
        """The remaining rules for a record ``authenticate`` passed with id ``record_id``."""
        record = envelope.record
        control = first_control(text_fields(record))
        if control is not None:  # signed by its author, but not shown or passed on by us
            return Ignored(IgnoreReason.CONTROL_CHARACTERS, f"a text field holds {control}")
        if record.created_at > now + MAX_CLOCK_SKEW_S:
            return Rejected(RejectReason.FUTURE, f"createdAt {record.created_at} > now {now} + 300")
        if await self._view.has_record(record_id):
            return Ignored(IgnoreReason.DUPLICATE, "record already stored")
        if isinstance(record, Tombstone):
            owner = await self._view.post_creator(record.post)
            if owner is not None and owner != record.creator:
                return Rejected(RejectReason.NOT_OWN_POST, "tombstone for another creator's post")
        if isinstance(record, Profile):
            stored = await self._view.profile_version(record.creator)
            if stored is not None and record.version <= stored:
                return Ignored(IgnoreReason.STALE, f"profile version {record.version} <= {stored}")
        if isinstance(record, CommentRecord):
            refusal = await self.comments.check(record)
            if refusal is None:
                return Accepted(envelope, record_id)
            if refusal.reject:
                return Rejected(RejectReason(refusal.reason), refusal.detail)
            return Ignored(IgnoreReason(refusal.reason), refusal.detail)
        if isinstance(record, Post | Profile) and not _free_before_token(record):
            verdict = await self._check_token(record)
            if verdict is not None:
                return verdict
        if isinstance(record, Post):
            others = await self._view.post_ids_at(record.creator, record.seq)
            if any(other != record_id for other in others):
                return Accepted(envelope, record_id, fork=True)
        return Accepted(envelope, record_id)

    async def _check_token(self, record: Post | Profile) -> Verdict | None:
        try:
            registered = await self._registry.token_of(record.creator)
        except RegistryUnavailable as exc:
            return Ignored(IgnoreReason.CHAIN_UNAVAILABLE, str(exc))
        stale_possible = registered is None and record.token != ZERO_ADDRESS
        if stale_possible and isinstance(self._registry, FreshLookup):
            try:  # a cached "no token": the creator may have registered one since
                registered = await self._registry.token_of_fresh(record.creator)
            except RegistryUnavailable as exc:
                return Ignored(IgnoreReason.CHAIN_UNAVAILABLE, str(exc))
        expected = registered or ZERO_ADDRESS
        if record.token != expected:
            return Rejected(
                RejectReason.WRONG_TOKEN, f"token {record.token} but registry says {expected}"
            )
        return None
