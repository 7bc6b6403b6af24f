"""Every event the daemon publishes on its bus (:mod:`peer.bus`), in one place.

The SSE stream (``GET /api/v1/events``) sends each as ``event: <kind>`` with the dataclass
fields as its JSON ``data``; docs/API.md lists them, and :data:`peer.api.schemas.EVENTS` holds
the JSON Schema of each payload (served in the OpenAPI document's ``x-events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from peer.bus import Event
from storage.media.progress import Stage

PUBLISH_STAGES: Final = (*(s.value for s in Stage if s is not Stage.DONE), "sign", "gossip")
"""The stages of ``publish.progress``, in order: the media pipeline's, then signing the post
and announcing it (the pipeline's own ``done`` is not a stage: ``publish.done`` ends a job)."""

WALLET_ACTIONS: Final = ("buy", "sell", "create_token")
"""What a ``wallet.tx`` reports."""

NOTIFICATION_TYPES: Final = ("follow", "like", "comment", "reply", "trade", "post")
"""What a notification is about: a new follower, a like or a comment on an own post, a reply to
an own comment, a trade of the user's creator token, a new clip of a followed creator."""


@dataclass(frozen=True)
class ServiceReady(Event):
    """A service finished starting."""

    kind: ClassVar[str] = "service.ready"
    service: str


@dataclass(frozen=True)
class ServiceStopped(Event):
    """A service stopped."""

    kind: ClassVar[str] = "service.stopped"
    service: str


@dataclass(frozen=True)
class PostStored(Event):
    """A post entered the index (ours or from the network)."""

    kind: ClassVar[str] = "post.new"
    post_id: str
    creator: str
    fork: bool


@dataclass(frozen=True)
class CommentStored(Event):
    """A comment entered the index (ours or from the network); ``parent`` is zero or the id of
    the comment it answers."""

    kind: ClassVar[str] = "comment.new"
    comment_id: str
    post_id: str
    author: str
    parent: str


@dataclass(frozen=True)
class CommentModerated(Event):
    """The post's creator hid (``hidden``) or showed again a comment."""

    kind: ClassVar[str] = "comment.hidden"
    comment_id: str
    post_id: str
    hidden: bool


@dataclass(frozen=True)
class CommentWithdrawn(Event):
    """A comment's author withdrew (deleted) it; its replies went with it."""

    kind: ClassVar[str] = "comment.deleted"
    comment_id: str
    post_id: str


@dataclass(frozen=True)
class CommentPolicySet(Event):
    """The post's creator set who may comment: holders of ``min_balance`` base units ('0':
    everyone)."""

    kind: ClassVar[str] = "comment.policy"
    post_id: str
    min_balance: str


@dataclass(frozen=True)
class PublishProgress(Event):
    """A publish job reached ``stage``; ``done`` of ``total`` units of it are finished."""

    kind: ClassVar[str] = "publish.progress"
    job: str
    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class PublishDone(Event):
    """A publish job ended: the post is signed, stored and gossiped."""

    kind: ClassVar[str] = "publish.done"
    job: str
    post_id: str
    manifest: str


@dataclass(frozen=True)
class PublishFailed(Event):
    """A publish job failed; ``code`` and ``message`` as in the API's error answers."""

    kind: ClassVar[str] = "publish.failed"
    job: str
    code: str
    message: str


@dataclass(frozen=True)
class WalletTx(Event):
    """A buy, sell or token creation this peer made (``action``: one of :data:`WALLET_ACTIONS`;
    ``tx`` is empty for a token creation); a buy made by an unlock is one too."""

    kind: ClassVar[str] = "wallet.tx"
    action: str
    tx: str
    token: str
    amount: str


@dataclass(frozen=True)
class TokenTrade(Event):
    """A buy or sell of a creator token by anyone, as the peer's trade index saw it on the
    chain (``kind``: ``buy`` or ``sell``; ``price`` and ``supply`` after the trade)."""

    kind: ClassVar[str] = "token.trade"
    token: str
    side: str
    trader: str
    amount: str
    price: str
    supply: str
    block: int


@dataclass(frozen=True)
class ReplicationPinned(Event):
    """Replication pinned another creator's post (manifest, poster and renditions)."""

    kind: ClassVar[str] = "replication.pinned"
    post_id: str
    creator: str
    bytes: int


@dataclass(frozen=True)
class ReplicationEvicted(Event):
    """Replication released a post: ``reason`` is 'budget', 'unwanted' or 'withdrawn'."""

    kind: ClassVar[str] = "replication.evicted"
    post_id: str
    reason: str
    bytes: int


@dataclass(frozen=True)
class ReplicationFailed(Event):
    """Replicating a post failed; ``permanent`` failures (caps, bad manifest) are not retried."""

    kind: ClassVar[str] = "replication.failed"
    post_id: str
    error: str
    permanent: bool


@dataclass(frozen=True)
class UnlockDone(Event):
    """This peer holds the key of a premium post now (it can play it)."""

    kind: ClassVar[str] = "unlock.done"
    post_id: str


@dataclass(frozen=True)
class LikeStored(Event):
    """A like entered the index (this user's or another's)."""

    kind: ClassVar[str] = "like.new"
    post_id: str
    actor: str


@dataclass(frozen=True)
class LikeRemoved(Event):
    """A like was taken back: a ``likeV2`` with ``on = false`` entered the index (this user's
    or another's)."""

    kind: ClassVar[str] = "like.removed"
    post_id: str
    actor: str


@dataclass(frozen=True)
class FollowStored(Event):
    """A follow or unfollow entered the index."""

    kind: ClassVar[str] = "follow.new"
    actor: str
    creator: str
    on: bool


@dataclass(frozen=True)
class PostCounts(Event):
    """A post's like count changed (sent at most once a second per post)."""

    kind: ClassVar[str] = "post.counts"
    post_id: str
    likes: int


@dataclass(frozen=True)
class NotificationNew(Event):
    """A notification was added or grew (a grouped one); ``unread`` counts unread groups."""

    kind: ClassVar[str] = "notification.new"
    id: int
    type: str
    unread: int


EVENTS: Final[tuple[type[Event], ...]] = (
    ServiceReady,
    ServiceStopped,
    PostStored,
    CommentStored,
    CommentModerated,
    CommentWithdrawn,
    CommentPolicySet,
    PublishProgress,
    PublishDone,
    PublishFailed,
    WalletTx,
    TokenTrade,
    UnlockDone,
    ReplicationPinned,
    ReplicationEvicted,
    ReplicationFailed,
    LikeStored,
    LikeRemoved,
    FollowStored,
    PostCounts,
    NotificationNew,
)
"""Every event type the bus carries (the SSE stream adds ``dropped`` of its own)."""
