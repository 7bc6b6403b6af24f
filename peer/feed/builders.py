"""Building and signing records on the author's side (publisher, CLI, demo data, tests).

``CreatorLog`` keeps a creator's log position (``seq``, ``prev``) and signs the next post;
``sign_record`` signs any other record. Pure: the private key is passed in by the caller
(the wallet), nothing is read from or written to disk here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from peer.feed.eip712 import Domain, digest
from peer.feed.records import ZERO_ADDRESS, ZERO_ID, Post, Record
from peer.feed.signatures import address_of, sign_digest
from peer.feed.wire import Envelope


def sign_record(record: Record, domain: Domain, private_key: bytes) -> Envelope:
    """Sign ``record`` with a raw 32-byte private key."""
    return Envelope(record, sign_digest(digest(record, domain), private_key))


@dataclass(slots=True)
class CreatorLog:
    """The author's view of their own log: the head and how to extend it."""

    domain: Domain
    private_key: bytes
    token: str = ZERO_ADDRESS
    seq: int = 0
    head: bytes = ZERO_ID
    creator: str = field(init=False)
    """The creator address of this log (derived from the key)."""

    def __post_init__(self) -> None:
        self.creator = address_of(self.private_key)

    def next_post(
        self,
        manifest: str,
        title: str,
        created_at: int,
        *,
        tags: Sequence[str] = (),
        duration_ms: int = 0,
        premium: bool = False,
        min_balance: int = 0,
        key_servers: Sequence[str] = (),
    ) -> tuple[Envelope, bytes]:
        """Sign the next post; returns ``(envelope, post id)`` and advances the head."""
        post = Post(
            creator=self.creator,
            token=self.token,
            seq=self.seq + 1,
            prev=self.head,
            manifest=manifest,
            title=title,
            tags=tuple(tags),
            duration_ms=duration_ms,
            created_at=created_at,
            premium=premium,
            min_balance=min_balance,
            key_servers=tuple(key_servers),
        )
        post_id = digest(post, self.domain)
        envelope = Envelope(post, sign_digest(post_id, self.private_key))
        self.seq, self.head = post.seq, post_id
        return envelope, post_id
