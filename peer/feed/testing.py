"""In-memory fakes of the feed's ports (public product code: tests and demos use them).

- ``FakeTokenRegistry``: a chain with a settable head and creator -> token table.
- ``MemoryFeedView``: a ``FeedView`` over dicts, filled with ``add``.
- ``FakeHoldings``: a ``Holdings`` over a table of effective balances (what the holding rule
  would compute), with a settable ``down``.
"""

from __future__ import annotations

from peer.feed.errors import RegistryUnavailable
from peer.feed.records import (
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Post,
    Profile,
    Record,
    Tombstone,
)


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
        self.tombstones: dict[bytes, str] = {}
        self.comments: dict[bytes, tuple[bytes, str, int, bytes]] = {}
        self.policies: dict[bytes, tuple[int, bytes, str, int]] = {}

    def add(self, record: Record, record_id: bytes, wire: bytes | None = None) -> None:
        """Remember a stored record (``wire``: its signed bytes, which the budget counts)."""
        if record_id in self.ids:
            return
        self.ids.add(record_id)
        if isinstance(record, Post):
            self.slots.setdefault((record.creator, record.seq), []).append(record_id)
            self.creators[record_id] = record.creator
        if isinstance(record, Profile):
            known = self.profiles.get(record.creator, -1)
            self.profiles[record.creator] = max(known, record.version)
        if isinstance(record, Tombstone):
            self.tombstones.setdefault(record.post, record.creator)
            if self.creators.get(record.post) == record.creator:  # its comments go with it
                self.comments = {cid: c for cid, c in self.comments.items() if c[0] != record.post}
                self.policies.pop(record.post, None)
        if isinstance(record, Comment):
            size = len(wire) if wire is not None else len(record.text.encode()) + 400
            self.comments[record_id] = (record.post, record.author, size, record.parent)
        if isinstance(record, CommentWithdrawal):  # the comment and its replies go
            gone = {record.target} | {
                cid for cid, c in self.comments.items() if c[3] == record.target
            }
            self.comments = {cid: c for cid, c in self.comments.items() if cid not in gone}
        if isinstance(record, CommentPolicy):
            latest = (record.created_at, record_id, record.creator, record.min_balance)
            if latest[:2] > self.policies.get(record.post, (-1, b"", "", 0))[:2]:
                self.policies[record.post] = latest

    async def has_record(self, record_id: bytes) -> bool:
        return record_id in self.ids

    async def post_ids_at(self, creator: str, seq: int) -> tuple[bytes, ...]:
        return tuple(self.slots.get((creator, seq), ()))

    async def post_creator(self, post_id: bytes) -> str | None:
        return self.creators.get(post_id)

    async def profile_version(self, creator: str) -> int | None:
        return self.profiles.get(creator)

    async def withdrawn(self, post_id: bytes) -> bool:
        if post_id not in self.tombstones:
            return False
        return self.creators.get(post_id, self.tombstones[post_id]) == self.tombstones[post_id]

    async def comment_info(self, comment_id: bytes) -> tuple[bytes, str] | None:
        found = self.comments.get(comment_id)
        return None if found is None else (found[0], found[1])

    async def comment_policy(self, post_id: bytes) -> int:
        _at, _id, creator, min_balance = self.policies.get(post_id, (0, b"", "", 0))
        return min_balance if creator == self.creators.get(post_id) else 0

    async def comment_count(self, post_id: bytes) -> int:
        return sum(1 for c in self.comments.values() if c[0] == post_id)

    async def comment_bytes(self) -> int:
        return sum(c[2] for c in self.comments.values())


class FakeHoldings:
    """A ``Holdings`` over ``balances[(token, holder)]``: the balance the holding rule would
    find over the whole window (so a fresh buy counts as soon as it is set here)."""

    def __init__(self) -> None:
        self.balances: dict[tuple[str, str], int] = {}
        self.down = False
        self.calls = 0

    def set(self, token: str, holder: str, amount: int) -> None:
        """``holder`` has held ``amount`` of ``token`` for the whole window."""
        self.balances[(token.lower(), holder.lower())] = amount

    async def holds(self, token: str, holder: str, min_balance: int) -> bool:
        self.calls += 1
        if self.down:
            raise RegistryUnavailable("fake chain is down")
        return self.balances.get((token.lower(), holder.lower()), 0) >= min_balance
