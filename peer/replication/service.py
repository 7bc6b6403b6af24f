"""The replication worker: keeps the wanted posts of others pinned within the disk budget.

One background task runs *steps*. A step reads the wanted posts (the ``Wants`` port), releases
pinned posts no longer wanted (unfollowed, unliked, withdrawn by a tombstone, muted, blocked),
evicts what exceeds the budget, reads the manifests of wanted posts that may fit (caps checked
before anything else of the clip is fetched), then fetches and pins the posts the policy keeps,
newest first. Right before pinning a fetched post it evicts just enough older posts
(:func:`.policy.make_room`), so a failed fetch never costs an eviction. Failures are retried
with exponential backoff; cap violations are permanent. After evictions the store is garbage
collected so the space is really freed. The next step runs when woken (a new post), when the
feed index changed, when a retry is due, or after ``rescan_s``.

Pins are shared by CID: replication unpins only pins it made (``pinned_cids`` in the state),
never a CID another replicated post still uses, and never a CID of the user's own posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peer.bus import Event
from peer.events import ReplicationEvicted, ReplicationFailed, ReplicationPinned
from peer.replication import policy
from peer.replication.bucket import TokenBucket
from peer.replication.errors import PERMANENT, ReplicationError
from peer.replication.fetcher import FetchOptions, fetch_dag, read_manifest
from peer.replication.policy import Item
from peer.replication.ports import BlockSource, Pins, Wants
from peer.replication.state import Record, ReplicationState
from storage.errors import NotPinnedError, StorageError
from storage.media.manifest import MAX_MANIFEST_BYTES, decode_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplicationOptions:
    """Settings of the worker (the composition root fills them from ``[storage]``)."""

    budget_bytes: int
    rate_bytes_s: int = 0
    """Fetch bandwidth; 0 = unlimited."""
    burst_bytes: int = 4 * 1024 * 1024
    max_wanted: int = 1000
    """Newest wanted posts considered per step."""
    probes_per_step: int = 16
    poll_s: float = 1.0
    """How often the feed index is checked for changes."""
    rescan_s: float = 60.0
    retry_base_s: float = 5.0
    retry_cap_s: float = 600.0
    gc_after_evict: bool = True
    fetch: FetchOptions = field(default_factory=FetchOptions)


class ReplicationService:
    """Owns the worker task; ``status()`` is the ``replication`` object of the storage API."""

    def __init__(
        self,
        options: ReplicationOptions,
        state: ReplicationState,
        wants: Wants,
        blocks: BlockSource,
        pins: Pins,
        me: Callable[[], str | None],
        publish: Callable[[Event], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self._state, self._wants, self._blocks, self._pins = state, wants, blocks, pins
        self._me, self._publish, self._clock = me, publish, clock
        self._bucket = TokenBucket(options.rate_bytes_s, options.burst_bytes)
        self._wake = asyncio.Event()
        # Held while pins and the state change together; stop() waits for it, so a shutdown
        # never leaves a pin the state does not know about.
        self._critical = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._own_cids: dict[str, tuple[str, ...]] = {}
        self._queued = 0
        self._last_error: str | None = None
        self._snapshot: dict[str, Any] = self._status_of([], 0)
        self.steps = 0

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        records = await asyncio.to_thread(self._state.all)
        self._snapshot = self._status_of(records, await self._evicted())
        self._task = asyncio.get_running_loop().create_task(self._run(), name="replication")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            async with self._critical:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Run a step soon (e.g. a new post arrived)."""
        self._wake.set()

    def status(self) -> dict[str, Any]:
        return dict(self._snapshot)

    # ---- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        seen_version = -1
        while True:
            self._wake.clear()
            try:
                seen_version = await asyncio.to_thread(self._wants.data_version)
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep replicating; say what went wrong
                log.exception("replication step failed")
                self._last_error = f"replication step failed: {exc}"
            seen_version = await self._wait(seen_version)

    async def _wait(self, seen_version: int) -> int:
        deadline = time.monotonic() + self.options.rescan_s
        due = await asyncio.to_thread(self._next_due)
        while time.monotonic() < deadline and (due is None or self._clock() < due):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.poll_s)
            if self._wake.is_set():
                break
            version = await asyncio.to_thread(self._wants.data_version)
            if version != seen_version:
                return version
        return seen_version

    def _next_due(self) -> float | None:
        """The next retry time still ahead (one already past was handled, or is not wanted
        by the plan, and must not make the loop spin)."""
        now = self._clock()
        times = [
            r.next_try
            for r in self._state.all()
            if r.wanted and r.state in ("new", "sized") and r.next_try > now
        ]
        return min(times) if times else None

    async def step(self) -> None:
        """One reconciliation of the pins with what is wanted (see the module docstring)."""
        self.steps += 1
        me = self._me()
        wanted = (
            []
            if me is None
            else await asyncio.to_thread(self._wants.wanted, me, self.options.max_wanted)
        )
        await asyncio.to_thread(self._state.sync_wanted, wanted)
        evicted = 0
        for record in await asyncio.to_thread(self._state.all):
            if record.state == "pinned" and not record.wanted:
                withdrawn = await asyncio.to_thread(self._wants.withdrawn, record.post_id)
                async with self._critical:
                    await self._evict(record, "withdrawn" if withdrawn else "unwanted")
                evicted += 1
        await asyncio.to_thread(self._state.forget_unwanted)
        records = await asyncio.to_thread(self._state.all)
        for key in policy.plan(self.options.budget_bytes, _held(records), []).evict:
            async with self._critical:
                await self._evict(_by_key(records, key), "budget")
            evicted += 1
        for _ in range(1000):  # probing may reveal more that fits; bounded in any case
            records = await asyncio.to_thread(self._state.all)
            current = policy.plan(self.options.budget_bytes, _held(records), self._due(records))
            self._queued = len(current.fetch) + len(current.probe)
            await self._refresh(records)
            for key in current.too_large:
                record = _by_key(records, key)
                if record.error is None:
                    await asyncio.to_thread(
                        self._state.note, key, f"clip of {record.size} bytes exceeds the budget"
                    )
            if current.probe:
                for key in current.probe[: self.options.probes_per_step]:
                    await self._probe(_by_key(records, key))
                continue
            for key in current.fetch:
                evicted += await self._replicate(key)
            break
        if evicted and self.options.gc_after_evict:
            try:
                await self._pins.gc()
            except StorageError as exc:
                self._last_error = f"garbage collection after eviction failed: {exc}"
        self._queued = 0
        await self._refresh(await asyncio.to_thread(self._state.all))

    def _due(self, records: list[Record]) -> list[Item]:
        now = self._clock()
        return [
            Item(r.post_id, r.created_at, r.size if r.state == "sized" else None)
            for r in records
            if r.wanted and r.state in ("new", "sized") and r.next_try <= now
        ]

    # ---- one post -----------------------------------------------------------------------

    async def _probe(self, record: Record) -> None:
        try:
            content = await read_manifest(
                self._blocks,
                record.manifest,
                record.creator,
                bucket=self._bucket,
                options=self.options.fetch,
            )
        except ReplicationError as exc:
            await self._failed(record, exc)
            return
        await asyncio.to_thread(self._state.set_sized, record.post_id, content.cids, content.sizes)

    async def _replicate(self, key: str) -> int:
        """Fetch, make room, pin; returns how many posts were evicted for it."""
        record = await asyncio.to_thread(self._state.get, key)
        if record is None or record.state != "sized" or record.size is None:
            return 0
        try:
            for index, (cid, size) in enumerate(zip(record.cids, record.sizes, strict=True)):
                cap = MAX_MANIFEST_BYTES if index == 0 else size
                await fetch_dag(
                    self._blocks, cid, size=size, cap=cap, bucket=self._bucket,
                    options=self.options.fetch,
                )  # fmt: skip
        except ReplicationError as exc:
            await self._failed(record, exc)
            return 0
        async with self._critical:
            return await self._pin(record)

    async def _pin(self, record: Record) -> int:
        """Make room and pin a fetched post (with ``_critical`` held)."""
        assert record.size is not None
        key = record.post_id
        records = await asyncio.to_thread(self._state.all)
        incoming = Item(record.post_id, record.created_at, record.size)
        victims = policy.make_room(self.options.budget_bytes, _held(records), incoming)
        if victims is None:
            return 0  # newer posts fill the budget meanwhile; the next plan decides
        for victim in victims:
            await self._evict(_by_key(records, victim), "budget")
        records = await asyncio.to_thread(self._state.all)
        ours = _our_pins(records, exclude=key)
        made: list[str] = []
        try:
            for cid in record.cids:
                if cid in ours:
                    made.append(cid)  # our pin exists for another post
                elif not await self._pins.is_pinned(cid):
                    await self._pins.pin(cid)
                    made.append(cid)
        except StorageError as exc:
            for cid in made:
                if cid not in ours:
                    with contextlib.suppress(StorageError):
                        await self._pins.unpin(cid)
            await self._failed(record, exc)
            return len(victims)
        await asyncio.to_thread(self._state.set_pinned, key, tuple(made), int(self._clock()))
        self._publish(ReplicationPinned(key, record.creator, record.size))
        await self._refresh(await asyncio.to_thread(self._state.all))
        return len(victims)

    async def _evict(self, record: Record, reason: str) -> None:
        """Release the pins replication made for ``record`` (with ``_critical`` held)."""
        records = await asyncio.to_thread(self._state.all)
        keep = _our_pins(records, exclude=record.post_id) | await self._protected()
        for cid in record.pinned_cids:
            if cid not in keep:
                with contextlib.suppress(NotPinnedError):
                    await self._pins.unpin(cid)
        await asyncio.to_thread(self._state.set_evicted, record.post_id)
        self._publish(ReplicationEvicted(record.post_id, reason, record.size or 0))

    async def _failed(self, record: Record, exc: Exception) -> None:
        permanent = isinstance(exc, PERMANENT)
        delay = policy.retry_delay(
            record.attempts + 1, self.options.retry_base_s, self.options.retry_cap_s
        )
        message = str(exc) or type(exc).__name__
        next_try = 0.0 if permanent else self._clock() + delay
        await asyncio.to_thread(
            self._state.set_failed, record.post_id, message, next_try, permanent=permanent
        )
        self._last_error = f"{record.post_id}: {message}"
        self._publish(ReplicationFailed(record.post_id, message, permanent))

    async def _protected(self) -> set[str]:
        """CIDs of the user's own posts (manifest, poster, renditions): never unpinned."""
        me = self._me()
        if me is None:
            return set()
        out: set[str] = set()
        for manifest in await asyncio.to_thread(self._wants.own_manifests, me):
            if manifest not in self._own_cids:
                self._own_cids[manifest] = await self._own_content(manifest)
            out.update(self._own_cids[manifest])
        return out

    async def _own_content(self, manifest: str) -> tuple[str, ...]:
        try:
            data = await self._pins.read_range(manifest, 0, MAX_MANIFEST_BYTES + 1)
            decoded = decode_manifest(data)
        except (StorageError, ValueError):
            return (manifest,)
        return (manifest, decoded.poster.cid, *(r.cid for r in decoded.renditions))

    # ---- status -------------------------------------------------------------------------

    async def _evicted(self) -> int:
        return await asyncio.to_thread(self._state.counter, "evicted")

    async def _refresh(self, records: list[Record]) -> None:
        self._snapshot = self._status_of(records, await self._evicted())

    def _status_of(self, records: list[Record], evicted: int) -> dict[str, Any]:
        pinned = [r for r in records if r.state == "pinned"]
        return {
            "enabled": True,
            "budget_bytes": self.options.budget_bytes,
            "used_bytes": sum(r.size or 0 for r in pinned),
            "pinned_posts": len(pinned),
            "queued": self._queued,
            "failed": sum(
                1 for r in records if r.wanted and r.state != "pinned" and r.error is not None
            ),
            "evicted": evicted,
            "last_error": self._last_error,
        }


def _held(records: list[Record]) -> list[Item]:
    return [Item(r.post_id, r.created_at, r.size or 0) for r in records if r.state == "pinned"]


def _by_key(records: list[Record], key: str) -> Record:
    for record in records:
        if record.post_id == key:
            return record
    raise KeyError(key)


def _our_pins(records: list[Record], exclude: str) -> set[str]:
    return {
        cid
        for r in records
        if r.state == "pinned" and r.post_id != exclude
        for cid in r.pinned_cids
    }
