"""Ports the feed needs from the rest of the peer (implemented elsewhere, faked for tests).

- ``TokenRegistry``: the chain side (``tokens``' chain client implements it): which creator
  token the factory registered for an address, and the current block number.
- ``FeedView``: the read side of the local feed state the validator consults (the index
  implements it).
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


class RecordStore(Protocol):
    """Where accepted records go (``FeedIndex`` implements it)."""

    async def store(self, envelope: Envelope, record_id: bytes) -> StoreResult: ...

    async def is_blocked(self, address: str) -> bool: ...
