"""The feed as a service of the composition root: index + gossip + the user's own log.

Built when a chain is configured (the EIP-712 domain names the chain and the factory, and the
validator checks creator tokens on it). The user's own records are signed with the wallet's key,
validated and stored like any other record, then gossiped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from peer.bus import EventBus
from peer.daemon.chain import ChainService
from peer.daemon.wallet import WalletService
from peer.errors import NoWalletError, SelfFollowError
from peer.events import (
    CommentModerated,
    CommentPolicySet,
    CommentStored,
    CommentWithdrawn,
    FollowStored,
    LikeRemoved,
    LikeStored,
    PostStored,
)
from peer.feed.builders import CreatorLog, sign_record
from peer.feed.comment_queries import logged_post
from peer.feed.comments import CommentRecord
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import CommentRefused, NotHolderError, RegistryUnavailable
from peer.feed.gossip import FeedGossip
from peer.feed.holdings import ChainHoldings
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ingest import StoreResult
from peer.feed.records import (
    ZERO_ADDRESS,
    ZERO_ID,
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
)
from peer.feed.token_link import CachedTokenRegistry
from peer.feed.validation import Accepted, IgnoreReason, Validator
from peer.feed.wire import Envelope, decode
from peer.p2p import Network
from tokens.client import TokenInfo
from tokens.errors import ChainUnavailableError
from tokens.ownership import OwnershipChecker


class UnavailableManifests:
    """Manifests this peer recently failed to get from anyone (for ``ttl_s`` seconds): their
    posts are shown as unavailable instead of as cards that never play."""

    def __init__(self, ttl_s: float = 300.0, limit: int = 4096) -> None:
        self._ttl_s = ttl_s
        self._limit = limit
        self._until: dict[str, float] = {}

    def mark(self, manifest: str, now: float | None = None) -> None:
        if len(self._until) >= self._limit:
            self._until.pop(next(iter(self._until)))
        self._until[manifest] = (time.monotonic() if now is None else now) + self._ttl_s

    def clear(self, manifest: str) -> None:
        self._until.pop(manifest, None)

    def __contains__(self, manifest: object) -> bool:
        until = self._until.get(manifest) if isinstance(manifest, str) else None
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[manifest]  # type: ignore[arg-type]
            return False
        return True


class FeedService:
    """Owns the feed index and the gossip service; signs the user's own records."""

    name = "feed"

    def __init__(
        self,
        index_dir: Path,
        network: Network,
        chain: ChainService,
        wallet: WalletService,
        bus: EventBus,
        clock: Callable[[], float] = time.time,
        *,
        holding_lag: int = 2,
    ) -> None:
        self._index_path = index_dir / "feed.sqlite"
        self._network = network
        self._chain = chain
        self._wallet = wallet
        self._bus = bus
        self._clock = clock
        self._holding_lag = holding_lag
        self._tasks: set[asyncio.Future[None]] = set()
        self._index: FeedIndex | None = None
        self._gossip: FeedGossip | None = None
        self._domain: Domain | None = None
        self._validator: Validator | None = None
        self._registry: CachedTokenRegistry | None = None
        # one post at a time: each continues the log from the head the previous one stored
        self._publishing = asyncio.Lock()
        self.unavailable = UnavailableManifests()

    @property
    def index(self) -> FeedIndex:
        if self._index is None:
            raise RuntimeError("the feed is not started")
        return self._index

    @property
    def gossip(self) -> FeedGossip:
        if self._gossip is None:
            raise RuntimeError("the feed is not started")
        return self._gossip

    async def start(self) -> None:
        deployment = self._chain.deployment
        if deployment is None:
            raise RuntimeError("the chain must be started before the feed")
        self._domain = Domain(deployment.chain_id, deployment.factory)
        index = FeedIndex(IndexOptions(path=self._index_path))
        await index.start()
        self._index = index
        registry = CachedTokenRegistry(self._chain.client, unavailable=(ChainUnavailableError,))
        self._registry = registry
        holdings = ChainHoldings(OwnershipChecker(self._chain.client, lag=self._holding_lag))
        me = self._wallet.address
        self._validator = Validator(self._domain, registry, index.view, holdings=holdings, me=me)
        self._gossip = FeedGossip(
            self._network, self._validator, index.writes, on_stored=self.on_stored
        )
        await self._gossip.start()
        if me is not None:
            await self._gossip.watch_comments(me)  # comments on the user's own posts
            for creator in await index.queries.followed(me):
                await self._gossip.follow_creator(creator)

    async def stop(self) -> None:
        gossip, self._gossip = self._gossip, None
        index, self._index = self._index, None
        try:
            if gossip is not None:
                await gossip.close()
        finally:
            if index is not None:
                await index.close()

    @property
    def validator(self) -> Validator:
        """The feed rules, shared by gossip and sync."""
        if self._validator is None:
            raise RuntimeError("the feed is not started")
        return self._validator

    def on_stored(self, envelope: Envelope, record_id: bytes, result: StoreResult) -> None:
        """Hook of gossip and sync: a stored post, comment record, like or follow becomes a bus
        event."""
        if result is StoreResult.DUPLICATE:
            return
        record, rid = envelope.record, "0x" + record_id.hex()
        if isinstance(record, Post):
            self._bus.publish(PostStored(rid, record.creator, result is StoreResult.FORK))
        elif isinstance(record, Comment):
            parent = "0x" + record.parent.hex()
            self._bus.publish(CommentStored(rid, "0x" + record.post.hex(), record.author, parent))
        elif isinstance(record, Moderation):
            task = asyncio.ensure_future(self._moderated(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(record, CommentWithdrawal):
            task = asyncio.ensure_future(self._withdrawn(record, record_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(record, CommentPolicy):
            self._bus.publish(CommentPolicySet("0x" + record.post.hex(), str(record.min_balance)))
        elif isinstance(record, Like) or (isinstance(record, LikeV2) and record.on):
            self._bus.publish(LikeStored("0x" + record.post.hex(), record.actor))
        elif isinstance(record, LikeV2):
            self._bus.publish(LikeRemoved("0x" + record.post.hex(), record.actor))
        elif isinstance(record, Follow):
            self._bus.publish(FollowStored(record.actor, record.creator, record.on))

    async def _moderated(self, moderation: Moderation) -> None:
        index = self._index
        item = await index.queries.comment(moderation.target) if index is not None else None
        if item is not None:
            self._bus.publish(
                CommentModerated(
                    "0x" + moderation.target.hex(), "0x" + item.post.hex(), moderation.hidden
                )
            )

    async def _withdrawn(self, withdrawal: CommentWithdrawal, record_id: bytes) -> None:
        index = self._index
        post = await index.queries.read(lambda db: logged_post(db, record_id)) if index else None
        if post is not None:  # None: the comment was gone already, nothing changed
            self._bus.publish(CommentWithdrawn("0x" + withdrawal.target.hex(), "0x" + post.hex()))

    # ---- the user's own records ----------------------------------------------------------

    def _key(self) -> bytes:
        account = self._wallet.account
        if account is None:
            raise NoWalletError()
        return bytes(account.key)

    @property
    def has_wallet(self) -> bool:
        return self._wallet.account is not None

    async def token_of(self, creator: str) -> str | None:
        """The creator's registered token, or None."""
        return await self._chain.client.token_of(creator)

    async def last_known_token_of(self, creator: str) -> str | None:
        """The creator's token, also while the chain does not answer: a registration is never
        undone, so a cached one stays true, else the token the creator's signed profile names.
        """
        if self._registry is None:
            raise RuntimeError("the feed is not started")
        try:
            return await self._registry.token_of(creator)
        except RegistryUnavailable:
            wire = await self.index.queries.profile_wire(creator)
            record = decode(wire).record if wire is not None else None
            if isinstance(record, Profile) and record.token != ZERO_ADDRESS:
                return record.token
            return None

    async def token_info_of(self, creator: str) -> TokenInfo | None:
        """Facts of the creator's token, or None when the creator has none."""
        token = await self.token_of(creator)
        return None if token is None else await self._chain.client.token_info(token)

    @property
    def me(self) -> str:
        account = self._wallet.account
        if account is None:
            raise NoWalletError()
        return str(account.address)

    async def publish_post(
        self,
        manifest: str,
        title: str,
        *,
        tags: Sequence[str] = (),
        duration_ms: int = 0,
        premium: bool = False,
        min_balance: int = 0,
        key_servers: Sequence[str] = (),
        on_signed: Callable[[], None] | None = None,
    ) -> str:
        """Sign the next post of the user's log, store it and gossip it; returns its id.
        ``on_signed`` is called between signing and gossiping (the publish job's stages).

        Posts are signed one at a time, so two publish jobs finishing together extend the log
        one after the other instead of both claiming the same seq (a fork of our own log).
        """
        key = self._key()
        assert self._domain is not None
        async with self._publishing:
            token = await self._chain.client.token_of(self.me) or ZERO_ADDRESS
            info = await self.index.queries.creator_info(self.me)
            log = CreatorLog(self._domain, key, token=token)
            if info is not None and info.head_id is not None:
                log.seq, log.head = info.head_seq, info.head_id
            envelope, post_id = log.next_post(
                manifest,
                title,
                int(self._clock()),
                tags=tags,
                duration_ms=duration_ms,
                premium=premium,
                min_balance=min_balance,
                key_servers=key_servers,
            )
            if on_signed is not None:
                on_signed()
            await self.gossip.publish(envelope)
        return "0x" + post_id.hex()

    async def _sign_and_publish(self, record: Follow | Like | LikeV2 | Tombstone | Profile) -> None:
        assert self._domain is not None
        await self.gossip.publish(sign_record(record, self._domain, self._key()))

    async def follow(self, creator: str, on: bool) -> None:
        """Follow (``on``) or unfollow a creator, dated after the current follow record so it
        wins even within the same second (the latest ``(createdAt, id)`` wins)."""
        if on and creator.lower() == self.me.lower():
            raise SelfFollowError()
        now = int(self._clock())
        state = await self.index.queries.follow_state(self.me, creator)
        created_at = now if state is None else max(now, state[1] + 1)
        await self._sign_and_publish(Follow(self.me, creator, on, created_at))
        if on:
            await self.gossip.follow_creator(creator)
        else:
            await self.gossip.unfollow_creator(creator)

    async def like(self, post_id: bytes, on: bool = True) -> None:
        """Like (``on``) or unlike a post. A first like is a ``Like`` (today's peers count it
        too); later changes are ``LikeV2`` records dated after the current one, so they win.
        Nothing is signed when the post is already in the asked state."""
        now = int(self._clock())
        state = await self.index.queries.like_state(self.me, post_id)
        if state is None and on:
            await self._sign_and_publish(Like(self.me, post_id, now))
            return
        if state is not None and state[0] == on:
            return
        created_at = now if state is None else max(now, state[1] + 1)
        await self._sign_and_publish(LikeV2(self.me, post_id, on, created_at))

    async def delete(self, post_id: bytes) -> None:
        await self._sign_and_publish(Tombstone(self.me, post_id, int(self._clock())))

    async def _publish_comment_record(self, record: CommentRecord, post_creator: str) -> bytes:
        assert self._domain is not None
        envelope = sign_record(record, self._domain, self._key())
        verdict = await self.gossip.publish(envelope, post_creator=post_creator)
        if not isinstance(verdict, Accepted) and verdict.reason is not IgnoreReason.DUPLICATE:
            error = NotHolderError if verdict.reason is IgnoreReason.NOT_HOLDER else CommentRefused
            raise error(str(verdict.reason), f"{verdict.reason}: {verdict.detail}")
        return digest(record, self._domain)

    async def _post_creator(self, post_id: bytes) -> str:
        creator = await self.index.view.post_creator(post_id)
        if creator is None or await self.index.view.withdrawn(post_id):
            raise CommentRefused("unknown-post", "this peer holds no such post")
        return creator

    async def comment(self, post_id: bytes, text: str, parent: bytes = ZERO_ID) -> bytes:
        """Sign, store and gossip a comment on a post (an answer to ``parent``); returns its id.
        From then on the comments on that creator's posts reach this peer too (subscribed first,
        so that this peer's mesh of the topic carries the comment to the creator's followers)."""
        creator = await self._post_creator(post_id)
        await self.gossip.watch_comments(creator)
        record = Comment(self.me, post_id, parent, text, int(self._clock()))
        return await self._publish_comment_record(record, creator)

    async def moderate(self, comment_id: bytes, hidden: bool) -> bytes:
        """Hide (or show again) a comment on one of the user's posts; returns the post id."""
        item = await self.index.queries.comment(comment_id)
        if item is None:
            raise CommentRefused("unknown-target", "this peer holds no such comment")
        creator = await self._post_creator(item.post)
        if creator != self.me:
            raise CommentRefused("not-own-post", "only the post's creator hides its comments")
        record = Moderation(self.me, comment_id, hidden, int(self._clock()))
        await self._publish_comment_record(record, creator)
        return item.post

    async def withdraw_comment(self, comment_id: bytes) -> bytes:
        """Withdraw (delete) one of the user's own comments, with the replies to it, for every
        peer that honours withdrawals; returns the post id."""
        item = await self.index.queries.comment(comment_id)
        if item is None:
            raise CommentRefused("unknown-target", "this peer holds no such comment")
        if item.author != self.me:
            raise CommentRefused("not-own-comment", "only its author deletes a comment")
        creator = await self._post_creator(item.post)
        record = CommentWithdrawal(self.me, comment_id, int(self._clock()))
        await self._publish_comment_record(record, creator)
        return item.post

    async def set_comment_policy(self, post_id: bytes, min_balance: int) -> None:
        """Let only holders of ``min_balance`` base units of the user's token comment on one of
        the user's posts (0: everyone)."""
        creator = await self._post_creator(post_id)
        if creator != self.me:
            raise CommentRefused("not-own-post", "only the post's creator sets its policy")
        record = CommentPolicy(self.me, post_id, min_balance, int(self._clock()))
        await self._publish_comment_record(record, creator)

    async def current_profile(self) -> Profile | None:
        """The user's latest stored profile."""
        wire = await self.index.queries.profile_wire(self.me)
        if wire is None:
            return None
        record = decode(wire).record
        return record if isinstance(record, Profile) else None

    async def update_profile(
        self,
        *,
        name: str | None = None,
        avatar: str | None = None,
        add_key_server: str | None = None,
        remove_key_server: str | None = None,
    ) -> Profile:
        """Sign and publish the next version of the user's profile, changing only what is given."""
        current = await self.current_profile()
        servers = list(current.key_servers) if current else []
        if add_key_server is not None and add_key_server not in servers:
            servers.append(add_key_server)
        if remove_key_server is not None and remove_key_server in servers:
            servers.remove(remove_key_server)
        token = await self._chain.client.token_of(self.me) or ZERO_ADDRESS
        profile = Profile(
            self.me,
            name if name is not None else (current.name if current else ""),
            avatar if avatar is not None else (current.avatar if current else ""),
            token,
            tuple(servers),
            (current.version if current else 0) + 1,
            int(self._clock()),
        )
        await self._sign_and_publish(profile)
        return profile
