"""The rules of the comment records (ARCHITECTURE "Comments"): Comment, Moderation, CommentPolicy,
CommentWithdrawal.

Pure apart from the awaited ports: the local state (``FeedView``), the token registry and the
holdings check (``Holdings``). ``CommentRules.check`` runs after the checks every record passes
(fields, signature, control characters, clock, duplicates) and answers ``None`` (accept) or a
``Refusal`` the validator turns into Rejected or Ignored. Order:

- Comment: post known (else Ignore ``unknown-post``), post not withdrawn (Ignore), parent known
  (Ignore ``unknown-parent``) and on the same post (Reject ``invalid-field``), per-post cap and
  disk budget (Ignore), holders-only (Ignore ``not-holder``; the post's creator is exempt).
- Moderation: target comment known (Ignore ``unknown-target``), and on a post of the signer
  (Reject ``moderation-not-own-post``).
- CommentPolicy: post known (Ignore ``unknown-post``) and the signer's (Reject
  ``policy-not-own-post``).
- CommentWithdrawal: target comment known (Ignore ``unknown-target``: never stored, already
  withdrawn, or gone with its post), and written by the signer (Reject
  ``withdrawal-not-own-comment``).

A failed holding check is Ignore, never Reject: the commenter may have sold since signing, and
the peer that relayed the comment is not at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from peer.feed.errors import RegistryUnavailable
from peer.feed.ports import FeedView, Holdings, TokenRegistry
from peer.feed.records import (
    ZERO_ID,
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Moderation,
    Record,
)

CommentRecord = Comment | Moderation | CommentPolicy | CommentWithdrawal
"""The records the comment rules decide on (carried on the comment topics only)."""

MAX_COMMENT_CHARS: Final = 500
"""Most Unicode code points in a comment's text (at least one is required)."""


@dataclass(frozen=True, slots=True)
class CommentLimits:
    """Storage limits of comments (settings of the peer, not of the protocol)."""

    per_post: int = 1000
    """Most comments stored per post; more are Ignored (``comment-cap``)."""
    budget_bytes: int = 64 * 1024 * 1024
    """Most bytes of signed comments stored in all; more are Ignored (``comment-budget``), except
    comments by the local user or on the local user's posts."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a comment record is not stored: ``reject`` penalises the sender, else it is ignored."""

    reject: bool
    reason: str
    detail: str


def comment_field_problem(record: Record) -> str | None:
    """Rules a comment record satisfies on its own: the text is 1 to 500 code points."""
    if isinstance(record, Comment):
        if not record.text:
            return "comment text is empty"
        if len(record.text) > MAX_COMMENT_CHARS:
            return f"comment text has {len(record.text)} characters; at most {MAX_COMMENT_CHARS}"
    return None


class CommentRules:
    """The comment rules over the local state, the token registry and the holdings check."""

    def __init__(
        self,
        view: FeedView,
        registry: TokenRegistry,
        holdings: Holdings | None,
        limits: CommentLimits | None = None,
        me: str | None = None,
    ) -> None:
        self._view = view
        self._registry = registry
        self._holdings = holdings
        self.limits = limits or CommentLimits()
        self.me = me
        """The local user's address (its comments and comments on its posts skip the budget)."""

    async def check(self, record: CommentRecord) -> Refusal | None:
        """None if the record may be stored, else why not."""
        if isinstance(record, Comment):
            return await self._comment(record)
        if isinstance(record, Moderation):
            return await self._moderation(record)
        if isinstance(record, CommentWithdrawal):
            return await self._withdrawal(record)
        return await self._policy(record)

    async def _comment(self, comment: Comment) -> Refusal | None:
        creator = await self._view.post_creator(comment.post)
        if creator is None:
            return Refusal(False, "unknown-post", "comment on a post this peer does not hold")
        if await self._view.withdrawn(comment.post):
            return Refusal(False, "withdrawn-post", "comment on a withdrawn post")
        if comment.parent != ZERO_ID:
            parent = await self._view.comment_info(comment.parent)
            if parent is None:
                return Refusal(False, "unknown-parent", "answer to a comment this peer lacks")
            if parent[0] != comment.post:
                return Refusal(True, "invalid-field", "the parent comment is on another post")
        if await self._view.comment_count(comment.post) >= self.limits.per_post:
            return Refusal(False, "comment-cap", f"the post has {self.limits.per_post} comments")
        own = self.me is not None and self.me in (comment.author, creator)
        if not own and await self._view.comment_bytes() >= self.limits.budget_bytes:
            return Refusal(False, "comment-budget", "the comment disk budget is used up")
        if comment.author == creator:
            return None
        min_balance = await self._view.comment_policy(comment.post)
        if min_balance == 0:
            return None
        return await self._holder(creator, comment.author, min_balance)

    async def _holder(self, creator: str, author: str, min_balance: int) -> Refusal | None:
        if self._holdings is None:
            return Refusal(False, "chain-unavailable", "no holdings check configured")
        try:
            token = await self._registry.token_of(creator)
            if token is None:
                return Refusal(False, "not-holder", "holders-only post of a creator with no token")
            if await self._holdings.holds(token, author, min_balance):
                return None
        except RegistryUnavailable as exc:
            return Refusal(False, "chain-unavailable", str(exc))
        return Refusal(False, "not-holder", f"{author} holds less than {min_balance} of {token}")

    async def _moderation(self, moderation: Moderation) -> Refusal | None:
        target = await self._view.comment_info(moderation.target)
        if target is None:
            return Refusal(False, "unknown-target", "moderation of a comment this peer lacks")
        owner = await self._view.post_creator(target[0])
        if owner != moderation.creator:
            return Refusal(True, "moderation-not-own-post", "only the post's creator moderates")
        return None

    async def _withdrawal(self, withdrawal: CommentWithdrawal) -> Refusal | None:
        target = await self._view.comment_info(withdrawal.target)
        if target is None:
            return Refusal(False, "unknown-target", "withdrawal of a comment this peer lacks")
        if target[1] != withdrawal.author:
            return Refusal(
                True, "withdrawal-not-own-comment", "only its author withdraws a comment"
            )
        return None

    async def _policy(self, policy: CommentPolicy) -> Refusal | None:
        owner = await self._view.post_creator(policy.post)
        if owner is None:
            return Refusal(False, "unknown-post", "policy for a post this peer does not hold")
        if owner != policy.creator:
            return Refusal(True, "policy-not-own-post", "only the post's creator sets its policy")
        return None
