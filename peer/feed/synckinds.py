"""Which record kinds sync 1.1 carries per author, and where the index keeps them.

Sync 1.1 (``peer.sync``) reconciles every kind here by *group* = (kind, author), author being
the record's signer. The index serves a group from one table: ``SyncTable.table`` must have
the columns ``id`` (record id, BLOB), ``wire`` (canonical wire bytes) and the author column,
and hold exactly the records of the kind it serves (e.g. only the latest follow per (actor,
creator)); an index on ``(author column, id)`` keeps ranges cheap. Posts and profiles are not
here: sync keeps their own messages (heads by log seq, profiles by version).

The order is the order a round fetches kinds in (a kind that others depend on comes first:
tombstones before the comments they remove, a post's policy before its comments, comments
before the moderations that target them, withdrawals last). The comment kinds are served from
views over ``comment_log`` (``(id, wire, author)``, the author being the signer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

DIGEST_BYTES: Final = 16


@dataclass(frozen=True, slots=True)
class SyncTable:
    """The index table serving one synced kind."""

    table: str
    author: str
    """The column holding the signer's checksummed address."""


SYNCED_KINDS: Final[dict[str, SyncTable]] = {
    "tombstone": SyncTable("tombstones", "creator"),
    "follow": SyncTable("follows", "actor"),
    "like": SyncTable("likes", "actor"),
    "likeV2": SyncTable("likes2", "actor"),
    "commentPolicy": SyncTable("comment_policy_sync", "author"),
    "comment": SyncTable("comment_sync", "author"),
    "moderation": SyncTable("moderation_sync", "author"),
    "commentWithdrawal": SyncTable("comment_withdrawal_sync", "author"),
}


def group_digest(ids: list[bytes]) -> bytes:
    """The digest of a group in sync 1.1 heads: the first 16 bytes of sha256 over the group's
    record ids, sorted ascending and concatenated."""
    return hashlib.sha256(b"".join(sorted(ids))).digest()[:DIGEST_BYTES]


def group_heads(rows: Iterable[tuple[Any, ...]]) -> dict[str, tuple[int, bytes]]:
    """``{author: (count, digest)}`` from ``(author, id)`` rows sorted by author, then id."""
    heads: dict[str, tuple[int, bytes]] = {}
    author, count, hasher = None, 0, hashlib.sha256()
    for row_author, record_id in rows:
        if row_author != author:
            if author is not None:
                heads[str(author)] = (count, hasher.digest()[:DIGEST_BYTES])
            author, count, hasher = row_author, 0, hashlib.sha256()
        count += 1
        hasher.update(record_id)
    if author is not None:
        heads[str(author)] = (count, hasher.digest()[:DIGEST_BYTES])
    return heads
