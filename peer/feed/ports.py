"""Ports the feed needs from the rest of the peer (implemented elsewhere, faked for tests).

- ``TokenRegistry``: the chain side (``tokens``' chain client implements it): which creator
  token the factory registered for an address, and the current block number.
- ``FeedView``: the read side of the local feed state the validator consults (the index's
  ``view`` implements it).
- ``Holdings``: the holding rule of key release, for holders-only comments
  (``peer.feed.holdings.ChainHoldings`` implements it on the chain).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from peer.feed.ingest import StoreResult
from peer.feed.wire import Envelope


class TokenRegistry(Protocol):
    """Chain lookups the validator needs; raise ``RegistryUnavailable`` when unreachable."""

    async def token_of(self, creator: str) -> str | None:
        """The checksummed token address registered for ``creator``, or None if it has none."""
        ...

    async def block_number(self) -> int:
        """The current head block number."""
        ...


@runtime_checkable
class FreshLookup(Protocol):
    """A cached registry that can bypass its cache (``CachedTokenRegistry``).

    Registrations are permanent, so only a cached "no token" can be stale: the validator asks
    again, bypassing the cache, before rejecting a post whose creator registered a token since.
    """

    async def token_of_fresh(self, creator: str) -> str | None:
        """The registered token, read from the chain now."""
        ...


class FeedView(Protocol):
    """What the validator reads from the local index."""

    async def has_record(self, record_id: bytes) -> bool:
        """True if a record with this id (EIP-712 digest) is stored."""
        ...

    async def post_ids_at(self, creator: str, seq: int) -> tuple[bytes, ...]:
        """Ids of stored posts of ``creator`` at ``seq`` (more than one after a fork)."""
        ...

    async def post_creator(self, post_id: bytes) -> str | None:
        """The creator of a stored post, or None if the post is unknown."""
        ...

    async def profile_version(self, creator: str) -> int | None:
        """The version of the stored profile of ``creator``, or None."""
        ...

    async def withdrawn(self, post_id: bytes) -> bool:
        """True if the post's creator withdrew it (its tombstone is stored)."""
        ...

    async def comment_info(self, comment_id: bytes) -> tuple[bytes, str] | None:
        """(post id, author) of a stored comment, or None."""
        ...

    async def comment_policy(self, post_id: bytes) -> int:
        """The minimum balance the post's creator requires of commenters (0: everyone)."""
        ...

    async def comment_count(self, post_id: bytes) -> int:
        """How many comments of the post are stored."""
        ...

    async def comment_bytes(self) -> int:
        """Bytes of signed comments stored in all (what the disk budget counts)."""
        ...


class Holdings(Protocol):
    """The key-release holding rule (ARCHITECTURE "Token-gated playback") at the lagged block;
    raises ``RegistryUnavailable`` when the chain cannot answer."""

    async def holds(self, token: str, holder: str, min_balance: int) -> bool:
        """True when ``holder`` held at least ``min_balance`` base units over the window."""
        ...


class RecordStore(Protocol):
    """Where accepted records go (``FeedIndex.writes`` implements it)."""

    async def store(self, envelope: Envelope, record_id: bytes) -> StoreResult: ...

    async def is_blocked(self, address: str) -> bool: ...
