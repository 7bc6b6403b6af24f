"""Helpers of the sync tests: keys, records, and a Node (fake host + real index + SyncService)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils.crypto import keccak

from peer.feed import validation as v
from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain
from peer.feed.index import FeedIndex
from peer.feed.records import Post, Profile
from peer.feed.signatures import address_of
from peer.feed.testing import FakeTokenRegistry
from peer.feed.wire import Envelope
from peer.p2p.testing import FakeHost
from peer.sync import SyncOptions, SyncService

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
KEY = keccak(b"sync creator")
OTHER_KEY = keccak(b"sync other creator")
CREATOR = address_of(KEY)
OTHER = address_of(OTHER_KEY)
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
NOW = 1_764_460_800
QUIET = SyncOptions(interval_s=3600.0, redial_check_s=3600.0)
"""No periodic rounds or redials unless a test asks for them."""


def make_log(key: bytes = KEY, token: str = TOKEN) -> CreatorLog:
    return CreatorLog(DOMAIN, key, token)


def posts(log: CreatorLog, count: int) -> list[Envelope]:
    return [log.next_post(MANIFEST, f"clip {log.seq + 1}", NOW)[0] for _ in range(count)]


def profile(key: bytes, name: str, version: int, token: str = TOKEN) -> Envelope:
    record = Profile(address_of(key), name, "", token, (), version, NOW)
    return sign_record(record, DOMAIN, key)


@dataclass
class Node:
    host: FakeHost
    index: FeedIndex
    validator: v.Validator
    registry: FakeTokenRegistry
    sync: SyncService
    data: Path
    stored: list[Envelope] = field(default_factory=list)

    async def add(self, *envelopes: Envelope) -> None:
        """Store records the way any received record is stored (validated first)."""
        for envelope in envelopes:
            verdict = await self.validator.validate_envelope(envelope, NOW)
            assert isinstance(verdict, v.Accepted), verdict
            await self.index.writes.store(envelope, verdict.record_id)

    async def seqs(self, creator: str = CREATOR) -> list[int]:
        from peer.feed.wire import decode

        rows = await self.index.sync.log_range(creator, 1, 1000)
        return [r.seq for r in (decode(w).record for w in rows) if isinstance(r, Post)]

    async def connect(self, other: Node) -> None:
        await self.host.connect(other.host.addrs[0])


NodeFactory = Callable[..., Awaitable[Node]]
