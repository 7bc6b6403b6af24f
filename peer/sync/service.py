"""``SyncService``: serves ``/toktok/sync/1.0.0`` and ``/toktok/sync/1.1.0`` (unless
``SyncOptions.v1_1`` is off) and catches up with connected peers.

``start()`` registers the protocol handler, then runs three owned background tasks: one reacts
to ``watch_connections()`` (a round with every newly connected peer), one runs a round with every
connected peer each ``interval_s``, and, with a peer book, one redials remembered peers (at start
and with exponential backoff). ``stop()`` cancels them, unregisters the handler and saves the
book. One round per peer at a time; at most ``max_parallel_peers`` peers at once.

Serving: heads come from ``index.heads()`` / ``index.profile_heads()`` (a random subset of
``limits.max_creators`` when there are more, with ``more: true``) and ``index.fork_heads()``
(for the creators listed), ranges from
``index.log_range`` (both sides of forks), profiles from ``index.profile_wire``, and (1.1)
kind heads and ranges from ``index.kind_heads`` / ``index.kind_range``. Both versions answer
the 1.0 messages the same way and share one rate limit per requesting peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from peer.feed import validation as v
from peer.feed.ratelimit import RateLimiter
from peer.p2p.errors import P2PError
from peer.p2p.ports import EventStream, Network
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11
from peer.sync.errors import PeerBookError, SyncError
from peer.sync.fetch import RoundRunner, StoredCallback, SyncOptions
from peer.sync.peerbook import PeerBook
from peer.sync.ports import SyncIndex
from peer.sync.rounds import RoundReport

logger = logging.getLogger(__name__)


class SyncService:
    """Catch-up sync of posts and profiles with connected peers, and the peer book."""

    name = "sync"

    def __init__(
        self,
        network: Network,
        index: SyncIndex,
        validator: v.Validator,
        options: SyncOptions | None = None,
        *,
        peer_book: PeerBook | None = None,
        on_stored: StoredCallback | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._network = network
        self._index = index
        self._options = options or SyncOptions()
        if not 1 <= self._options.page_size <= self._options.limits.max_page:
            raise ValueError(f"page_size must be 1..{self._options.limits.max_page}")
        self._book = peer_book
        self._clock = clock
        self._rng = rng or random.Random()  # load spreading, not security
        self._runner = RoundRunner(
            network, index, validator, self._options, clock, on_stored, self._rng
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: dict[str, asyncio.Task[RoundReport]] = {}
        self._slots = asyncio.Semaphore(self._options.max_parallel_peers)
        self._started = False
        self._followups: dict[str, int] = {}
        self._serve_limits = RateLimiter(self._options.serve_rate)
        self.reports: dict[str, RoundReport] = {}
        """The last round's report per peer."""

    @property
    def stats(self) -> Counter[str]:
        """Counts: ``stored``, ``fork``, ``reject``, ``reject:<reason>``, ``ignore:<reason>``,
        ``error``, ``rounds``, ``served:<op>``, ``serve-error``, ``serve-limited``."""
        return self._runner.stats

    @property
    def peer_book(self) -> PeerBook | None:
        return self._book

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the protocol and start the background tasks; returns when serving."""
        if self._book is not None:
            try:
                await asyncio.to_thread(self._book.load)
            except PeerBookError:  # a cache: run without it rather than not at all
                logger.warning("peer book unusable; starting without it", exc_info=True)
        await self._network.serve(sp.PROTOCOL_ID, self._handle)
        if self._options.v1_1:
            await self._network.serve(p11.PROTOCOL_ID, self._handle11)
        events = self._network.watch_connections()
        self._started = True
        self._spawn(self._watch(events), "sync-watch")
        self._spawn(self._periodic(), "sync-periodic")
        if self._book is not None:
            self._spawn(self._redial(), "sync-redial")
        for info in self._network.peers():  # peers connected before we started watching
            self.schedule(info.peer_id)

    async def stop(self) -> None:
        """Cancel every task, stop serving, save the peer book. Idempotent."""
        if not self._started:
            return
        self._started = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for protocol in (
            (sp.PROTOCOL_ID, p11.PROTOCOL_ID) if self._options.v1_1 else (sp.PROTOCOL_ID,)
        ):
            with contextlib.suppress(P2PError):
                await self._network.unserve(protocol)
        if self._book is not None:
            try:
                await asyncio.to_thread(self._book.save)
            except PeerBookError:
                logger.warning("could not save the peer book", exc_info=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- rounds ---------------------------------------------------------------------------

    def schedule(self, peer: str) -> None:
        """Start a round with ``peer`` in the background unless one is running."""
        if self._started and peer not in self._running:
            self._spawn(self.sync_peer(peer), f"sync {peer[:16]}")

    async def sync_peer(self, peer: str) -> RoundReport:
        """One round with ``peer`` (joins the running one if there is one)."""
        running = self._running.get(peer)
        if running is not None:
            return await asyncio.shield(running)
        task: asyncio.Task[RoundReport] = self._spawn(self._round(peer), f"round {peer[:16]}")
        self._running[peer] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._running.pop(peer, None)

    async def sync_all(self) -> list[RoundReport]:
        """One round with every connected peer (at most ``max_parallel_peers`` at once)."""
        peers = [info.peer_id for info in self._network.peers()]
        return list(await asyncio.gather(*(self.sync_peer(p) for p in peers)))

    async def _round(self, peer: str) -> RoundReport:
        report = RoundReport(peer)
        try:
            async with self._slots:
                self.stats["rounds"] += 1
                try:
                    await self._runner.run(peer, report)
                except P2PError as exc:
                    report.error = str(exc)
                    self.stats["error"] += 1
                    logger.debug("sync with %s failed: %s", peer, exc)
            if report.rejected:
                logger.info("sync with %s stopped: %s", peer, report.rejected)
            if report.answered and self._book is not None:
                await self._note_good(peer)
            more = report.capped and not report.rejected and not report.error
            done = self._followups.get(peer, 0)
            if more and self._started and done < self._options.max_followups:
                self._followups[peer] = done + 1
                self._spawn(self._followup(peer), f"sync-followup {peer[:16]}")
            elif not more:
                self._followups.pop(peer, None)
        finally:
            self._running.pop(peer, None)
            self.reports[peer] = report
        return report

    async def _followup(self, peer: str) -> None:
        await asyncio.sleep(self._options.followup_delay_s)
        if any(info.peer_id == peer for info in self._network.peers()):
            self.schedule(peer)

    async def _note_good(self, peer: str) -> None:
        assert self._book is not None
        addrs = next((i.addrs for i in self._network.peers() if i.peer_id == peer), ())
        if self._book.note_good(peer, addrs, self._clock()):
            try:
                await asyncio.to_thread(self._book.save)
            except PeerBookError:
                logger.warning("could not save the peer book", exc_info=True)

    async def _watch(self, events: EventStream) -> None:
        try:
            async for event in events:
                if event.kind == "connected":
                    self.schedule(event.peer)
        finally:
            await events.close()

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._options.interval_s)
            self._followups.clear()  # a new period: each peer may be followed up again
            for info in self._network.peers():
                self.schedule(info.peer_id)

    async def _redial(self) -> None:
        assert self._book is not None
        book = self._book
        while True:
            connected = {info.peer_id for info in self._network.peers()}
            changed = False
            for entry in book.due(self._clock(), connected):
                for addr in entry.addrs:
                    try:
                        await self._network.connect(addr)
                        book.note_addr_ok(entry.peer, addr)
                        break
                    except P2PError as exc:
                        logger.debug("redial %s at %s failed: %s", entry.peer, addr, exc)
                        book.note_addr_failure(entry.peer, addr)
                else:
                    book.note_failure(entry.peer, self._clock())
                changed = True
            if changed:
                try:
                    await asyncio.to_thread(book.save)
                except PeerBookError:
                    logger.warning("could not save the peer book", exc_info=True)
            await asyncio.sleep(self._options.redial_check_s)

    # ---- serving --------------------------------------------------------------------------

    async def _handle(self, peer: str, data: bytes) -> bytes:
        return await self._serve(peer, data, sp.decode_request)

    async def _handle11(self, peer: str, data: bytes) -> bytes:
        return await self._serve(peer, data, p11.decode_request)

    async def _serve(
        self, peer: str, data: bytes, decoder: Callable[[bytes, sp.Limits], p11.Request]
    ) -> bytes:
        """Answer one request; 1.0 and 1.1 share the rate limit of the requesting peer."""
        limits = self._options.limits
        if not self._serve_limits.allow(peer, time.monotonic()):
            self.stats["serve-limited"] += 1
            raise SyncError("rate limited: too many sync requests; retry later")
        try:
            request = decoder(data, limits)
        except Exception:
            self.stats["serve-error"] += 1
            raise
        if isinstance(request, p11.KindHeadsRequest):
            self.stats["served:kind-heads"] += 1
            return p11.encode_kind_heads(await self._local_kind_heads(request.kind))
        if isinstance(request, p11.KindRangeRequest):
            self.stats["served:kind-range"] += 1
            records = await self._index.kind_range(
                request.kind, request.author, request.after, request.limit
            )
            return sp.encode_records(sp.Records(tuple(records[: request.limit])))
        if isinstance(request, sp.HeadsRequest):
            self.stats["served:heads"] += 1
            return sp.encode_heads(await self._local_heads())
        if isinstance(request, sp.RangeRequest):
            self.stats["served:range"] += 1
            records = await self._index.log_range(request.creator, request.from_seq, request.limit)
            return sp.encode_records(sp.Records(tuple(records[: request.limit])))
        self.stats["served:profiles"] += 1
        found = [await self._index.profile_wire(c) for c in request.creators]
        return sp.encode_records(sp.Records(tuple(r for r in found if r is not None)))

    async def _local_heads(self) -> sp.Heads:
        cap = self._options.limits.max_creators
        posts = await self._index.heads()
        profiles = await self._index.profile_heads()
        forks = await self._index.fork_heads()
        more = len(posts) > cap or len(profiles) > cap
        if len(posts) > cap:
            posts = {c: posts[c] for c in self._rng.sample(sorted(posts), cap)}
        if len(profiles) > cap:
            profiles = {c: profiles[c] for c in self._rng.sample(sorted(profiles), cap)}
        forks = {c: seq for c, seq in forks.items() if c in posts and seq <= posts[c][0]}
        return sp.Heads(posts, profiles, more, forks)

    async def _local_kind_heads(self, kind: str) -> p11.KindHeads:
        cap = self._options.limits.max_authors
        authors = await self._index.kind_heads(kind)
        more = len(authors) > cap
        if more:
            authors = {a: authors[a] for a in self._rng.sample(sorted(authors), cap)}
        return p11.KindHeads(kind, authors, more)
