"""In-memory fakes of the feed's ports (public product code: tests and demos use them).

- ``FakeTokenRegistry``: a chain with a settable head and creator -> token table.
- ``MemoryFeedView``: a ``FeedView`` over dicts, filled with ``add``.
"""

from __future__ import annotations

from peer.feed.errors import RegistryUnavailable
from peer.feed.records import Post, Profile, Record


class FakeTokenRegistry:
    """A ``TokenRegistry`` in memory. Set ``down = True`` to simulate an unreachable chain."""

    def __init__(self, tokens: dict[str, str] | None = None, head: int = 1) -> None:
        self.tokens: dict[str, str] = dict(tokens or {})
        self.head = head
        self.down = False
        self.calls = 0

    def register(self, creator: str, token: str) -> None:
        """Register ``token`` for ``creator`` (the factory's createToken)."""
        self.tokens[creator] = token

    def mine(self, blocks: int = 1) -> None:
        """Advance the head."""
        self.head += blocks

    async def token_of(self, creator: str) -> str | None:
        self.calls += 1
        if self.down:
            raise RegistryUnavailable("fake chain is down")
        return self.tokens.get(creator)

    async def block_number(self) -> int:
        if self.down:
            raise RegistryUnavailable("fake chain is down")
        return self.head


class MemoryFeedView:
    """A ``FeedView`` over dictionaries."""

    def __init__(self) -> None:
        self.ids: set[bytes] = set()
        self.slots: dict[tuple[str, int], list[bytes]] = {}
        self.creators: dict[bytes, str] = {}
        self.profiles: dict[str, int] = {}

    def add(self, record: Record, record_id: bytes) -> None:
        """Remember a stored record."""
        self.ids.add(record_id)
        if isinstance(record, Post):
            self.slots.setdefault((record.creator, record.seq), []).append(record_id)
            self.creators[record_id] = record.creator
        if isinstance(record, Profile):
            known = self.profiles.get(record.creator, -1)
            self.profiles[record.creator] = max(known, record.version)

    async def has_record(self, record_id: bytes) -> bool:
        return record_id in self.ids

    async def post_ids_at(self, creator: str, seq: int) -> tuple[bytes, ...]:
        return tuple(self.slots.get((creator, seq), ()))

    async def post_creator(self, post_id: bytes) -> str | None:
        return self.creators.get(post_id)

    async def profile_version(self, creator: str) -> int | None:
        return self.profiles.get(creator)
