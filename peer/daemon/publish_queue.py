"""Posts published while no daemon ran: the CLI converts and stores the clip in-process, then
queues the post here (``<data>/publish-queue/<id>.json``); the daemon signs and announces every
queued post when it next starts, in the order they were queued.

A queued post that cannot be announced (e.g. a premium clip whose creator has no token) moves
to ``publish-queue/failed/`` with the reason, and the daemon logs it: nothing is dropped
silently.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from storage import untrusted

MAX_ENTRY_BYTES = 16 * 1024


@dataclass(frozen=True)
class QueuedPost:
    """A post whose media is stored and pinned, waiting to be signed and announced."""

    manifest: str
    title: str
    tags: tuple[str, ...]
    premium: bool
    min_balance: int  # whole tokens
    duration_ms: int
    queued_at: float


def queue_dir(data_root: Path) -> Path:
    return data_root / "publish-queue"


def enqueue(data_root: Path, post: QueuedPost) -> Path:
    """Write ``post`` to the queue (atomically, 0600); returns its file."""
    folder = queue_dir(data_root)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({**asdict(post), "tags": list(post.tags)}, out)
    target = folder / name
    tmp.replace(target)
    return target


def pending(data_root: Path) -> list[tuple[Path, QueuedPost]]:
    """Queued posts, oldest first; an unreadable entry is moved to ``failed/``."""
    folder = queue_dir(data_root)
    if not folder.is_dir():
        return []
    entries: list[tuple[Path, QueuedPost]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            entries.append((path, _decode(path.read_bytes())))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            fail(path, f"unreadable queue entry: {exc}")
    return entries


def done(path: Path) -> None:
    path.unlink(missing_ok=True)


def fail(path: Path, reason: str) -> Path:
    """Move a queue entry that cannot be announced to ``failed/``, with the reason beside it."""
    failed = path.parent / "failed"
    failed.mkdir(mode=0o700, exist_ok=True)
    target = failed / path.name
    path.replace(target)
    target.with_suffix(".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _decode(raw: bytes) -> QueuedPost:
    doc = untrusted.loads(raw, max_bytes=MAX_ENTRY_BYTES)
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    tags = doc["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be strings")
    post = QueuedPost(
        manifest=str(doc["manifest"]),
        title=str(doc["title"]),
        tags=tuple(tags),
        premium=bool(doc["premium"]),
        min_balance=int(doc["min_balance"]),
        duration_ms=int(doc["duration_ms"]),
        queued_at=float(doc["queued_at"]),
    )
    return post
