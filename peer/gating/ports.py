"""What the gating services need from the rest of the peer (the composition root adapts the
feed index, the clip-key stores and the chain client to these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from peer.feed.queries import FeedItem, Page
from storage.crypto import ClipKey
from tokens.client import Trade
from tokens.curve import Quote


@dataclass(frozen=True, slots=True)
class GatedPost:
    """The fields of a signed post that gating uses (``peer.feed`` FeedItem / Post)."""

    post_id: bytes
    creator: str
    token: str
    manifest: str
    premium: bool
    min_balance: int
    key_servers: tuple[str, ...] = ()


class PostSource(Protocol):
    """Looks up posts by id (the feed index); ``None`` when unknown or withdrawn."""

    async def gated_post(self, post_id: bytes) -> GatedPost | None: ...


class ProfileKeyServers(Protocol):
    """The ``keyServers`` of a creator's latest profile (empty when there is none)."""

    async def profile_key_servers(self, creator: str) -> tuple[str, ...]: ...


class KeySource(Protocol):
    """Clip keys by manifest CID (``storage.clipkeys.ClipKeyStore`` implements it; blocking:
    the services call it in a worker thread)."""

    def get(self, clip_id: str) -> ClipKey: ...

    def has(self, clip_id: str) -> bool: ...


class KeyCache(KeySource, Protocol):
    """Where the holder keeps released keys (a ``ClipKeyStore`` under ``<data>/keys/released``)."""

    def put(self, clip_id: str, key: ClipKey) -> None: ...


class SignatureChain(Protocol):
    """EIP-1271 checks for contract wallets (``tokens.client.ChainClient``)."""

    async def block_number(self) -> int: ...

    async def is_valid_signature(
        self, account: str, digest: bytes, signature: bytes, block: int
    ) -> bool: ...


class MemoryPosts:
    """In-memory :class:`PostSource` and :class:`ProfileKeyServers` (fake; product code)."""

    def __init__(self) -> None:
        self.posts: dict[bytes, GatedPost] = {}
        self.profiles: dict[str, tuple[str, ...]] = {}

    def add(self, post: GatedPost) -> None:
        self.posts[post.post_id] = post

    async def gated_post(self, post_id: bytes) -> GatedPost | None:
        return self.posts.get(post_id)

    async def profile_key_servers(self, creator: str) -> tuple[str, ...]:
        return self.profiles.get(creator.lower(), ())

    async def premium_posts(self, creator: str, max_posts: int = 1000) -> list[GatedPost]:
        found = [p for p in self.posts.values() if p.creator.lower() == creator.lower()]
        return [p for p in found if p.premium][:max_posts]


class FeedReader(Protocol):
    """The part of the feed index's queries used here (``FeedIndex.queries``)."""

    async def post(self, post_id: bytes) -> FeedItem | None: ...

    async def profile_wire(self, creator: str) -> bytes | None: ...

    async def creator(self, creator: str, cursor: str | None = None, limit: int = ...) -> Page: ...


class Trader(Protocol):
    """The part of ``tokens.client.ChainClient`` a buy needs."""

    async def quote_buy(self, token: str, amount: int) -> Quote: ...

    async def buy(
        self, token: str, amount: int, max_cost: int | None = None, deadline: int | None = None
    ) -> Trade: ...


class Quoter(Protocol):
    """``tokens.client.ChainClient.quote_buy``."""

    async def quote_buy(self, token: str, amount: int) -> Quote: ...
