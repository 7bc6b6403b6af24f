"""One sync round against one peer: heads, then missing post ranges and profiles, in pages,
then (sync 1.1) the other record kinds by (kind, author) group (``peer.sync.kinds``).

Protocol: 1.1 is asked first; a peer that does not serve it (``ProtocolNotSupportedError``)
is asked the same in 1.0 at once and spoken to in 1.0 for ``v1_0_retry_s``. Neither is a
fault of the peer: nothing is counted against it.

Every record goes through the feed ``Validator``; Accept -> ``index.store``; Ignore (already
stored, stale profile, chain down) -> counted; Reject or undecodable -> that record is dropped
and counted, the rest of the page and the round go on (a peer that sends more than
``max_rejects_per_round`` such records loses the rest of the round); a response that breaks the
protocol (wrong creator, seq below the asked range, a non-post in a range) -> the round with
this peer stops and the reason is counted. Work is bounded by ``SyncOptions`` caps whatever the peer
advertises: creators per round, pages per round, records per round.

Paging: the next page starts at the last seq of a full page (not after it), so a fork whose two
sides straddle a page boundary is still fetched; the one record seen twice is a cheap duplicate.
A page made of one seq only moves on past it, so the loop always progresses.

Forks: the peer's heads name, per forked creator, the lowest seq where it holds two posts.
Forks are not forwarded on gossip, so a peer with the same head as ours may hold a side we
lack; when we hold no fork at that seq, the range is fetched from it (both sides come back).

Gaps: posts ahead of our head are accepted (gossip delivers them), so our log can have holes
below the head. For creators whose head equals the peer's, a hole is detected cheaply (fewer
stored posts than the head seq), located by scanning our log, and fetched from the first
missing seq; if the peer's page brings nothing new below our head, the hole is theirs too and
we move on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from peer.feed import validation as v
from peer.feed.errors import DecodeError
from peer.feed.ingest import StoreResult
from peer.feed.ratelimit import Rate
from peer.feed.records import Post, Profile
from peer.feed.wire import Envelope, decode
from peer.p2p.errors import ProtocolNotSupportedError, ResponseTooLargeError
from peer.p2p.ports import Network
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11
from peer.sync.errors import SyncProtocolError
from peer.sync.kinds import KindRounds
from peer.sync.ports import SyncIndex
from peer.sync.rounds import Budget, RoundReport, RoundStop

logger = logging.getLogger(__name__)

_SETTLED: Final = frozenset(
    {v.IgnoreReason.DUPLICATE, v.IgnoreReason.STALE, v.IgnoreReason.CONTROL_CHARACTERS}
)
"""Ignore reasons that stay true: a group holding only such records need not be refetched."""

GAP_SCAN_PAGES = 10
"""Pages of 1,000 of our own log scanned to find a gap (beyond that the gap is left alone)."""


StoredCallback = Callable[[Envelope, bytes, StoreResult], None]


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """Settings of catch-up sync."""

    interval_s: float = 30.0
    """Seconds between periodic rounds with every connected peer."""
    page_size: int = 50
    """Records asked for per range/profiles request (at most ``limits.max_page``)."""
    max_creators_per_round: int = 100
    """Most creators whose logs (and, separately, profiles) are fetched from one peer per round."""
    max_pages_per_round: int = 50
    """Most range/profiles requests to one peer per round."""
    max_records_per_round: int = 500
    """Most records received from one peer per round (duplicates included)."""
    max_rejects_per_round: int = 20
    """Records breaking the feed rules tolerated from one peer per round: each costs only
    itself (a creator's older records may follow rules that changed since); one more ends the
    round."""
    request_timeout_s: float = 10.0
    """Timeout of one sync request."""
    max_parallel_peers: int = 4
    """Peers synced at the same time."""
    parallel_creators: int = 4
    """Creators' logs fetched from one peer at the same time (within the round's caps)."""
    followup_delay_s: float = 1.0
    """A round that used up its budget is followed by another one this many seconds later
    (so catching up a long log does not wait for the periodic round)."""
    max_followups: int = 4
    """Most follow-up rounds in a row with one peer; then it waits for the periodic round. So
    one peer can push at most ``(1 + max_followups) * max_records_per_round`` records into
    us per ``interval_s``, whatever it advertises."""
    redial_check_s: float = 5.0
    """How often the peer book is checked for peers due a redial (seconds)."""
    serve_rate: Rate = field(default_factory=lambda: Rate(rate=10.0, burst=200.0))
    """Requests per second (sustained, burst) we answer per requesting peer; a catch-up round
    of 500 records is ~27 requests, so honest peers stay far below it."""
    limits: sp.Limits = field(default_factory=sp.Limits)
    """Protocol caps (both directions)."""
    v1_1: bool = True
    """Speak ``/toktok/sync/1.1.0`` (serve it beside 1.0.0, ask it first); off: a 1.0-only
    peer (posts and profiles only)."""
    v1_0_retry_s: float = 3600.0
    """A peer that does not serve 1.1 is spoken to in 1.0 for this long before 1.1 is tried
    again (seconds)."""
    max_groups_per_round: int = 100
    """Most (kind, author) groups fetched from one peer per round (sync 1.1). The kinds beside
    posts and profiles have their own page and record budget of the same size."""
    max_memo_groups: int = 100_000
    """Groups remembered as fetched per (peer, kind, author, digest): a group whose digest is
    unchanged since we fetched all of it from that peer is not fetched again."""


class RoundRunner:
    """Runs rounds; shared state is only the counters."""

    def __init__(
        self,
        network: Network,
        index: SyncIndex,
        validator: v.Validator,
        options: SyncOptions,
        clock: Callable[[], float],
        on_stored: StoredCallback | None,
        rng: random.Random,
    ) -> None:
        self._network = network
        self._index = index
        self._validator = validator
        self._options = options
        self._clock = clock
        self._on_stored = on_stored
        self._rng = rng
        self.stats: Counter[str] = Counter()
        self._protocols: dict[str, str] = {}
        """The protocol of the current (or last) round with each peer."""
        self._old_peers: dict[str, float] = {}
        """Peers that do not serve 1.1, until when we stop asking (clock time)."""
        self._kinds = KindRounds(index, validator, options, rng, self)

    async def _ask(self, peer: str, request: p11.Request, max_response: int) -> bytes:
        return await self._network.request(
            peer,
            self._protocols.get(peer, sp.PROTOCOL_ID),
            p11.encode_request(request),
            timeout=self._options.request_timeout_s,
            max_response=max_response,
        )

    async def heads(self, peer: str) -> sp.Heads:
        """The peer's post and profile heads, asked in 1.1 first (then 1.0 if it does not
        serve 1.1; remembered for ``v1_0_retry_s``). The protocol is kept for the round."""
        limits = self._options.limits
        now = self._clock()
        old = self._old_peers.get(peer)
        if old is not None and old <= now:
            del self._old_peers[peer]
        new = self._options.v1_1 and peer not in self._old_peers
        self._protocols[peer] = p11.PROTOCOL_ID if new else sp.PROTOCOL_ID
        try:
            data = await self._ask(peer, sp.HeadsRequest(), limits.max_heads_bytes)
        except ProtocolNotSupportedError:
            if not new:
                raise
            self.stats["fallback-1.0"] += 1
            self._old_peers[peer] = now + self._options.v1_0_retry_s
            self._protocols[peer] = sp.PROTOCOL_ID
            data = await self._ask(peer, sp.HeadsRequest(), limits.max_heads_bytes)
        return sp.decode_heads(data, limits)

    async def run(self, peer: str, report: RoundReport) -> None:
        """Fetch what ``peer`` has and we lack; fills ``report``. Raises p2p errors."""
        options = self._options
        try:
            heads = await self.heads(peer)
            report.answered = True
            report.protocol = self._protocols[peer]
            budget = Budget(
                options.max_pages_per_round,
                options.max_records_per_round,
                options.max_rejects_per_round,
            )
            await self._posts(peer, heads, budget, report)
            await self._profiles(peer, heads, budget, report)
            report.capped = budget.spent
            if report.protocol == p11.PROTOCOL_ID:
                kinds = Budget(options.max_pages_per_round, options.max_records_per_round, 0)
                kinds.rejects = budget.rejects  # one allowance of bad records per round
                await self._kinds.run(peer, lambda r, n: self._ask(peer, r, n), kinds, report)
                report.capped = report.capped or kinds.spent
        except (RoundStop, SyncProtocolError, ResponseTooLargeError) as exc:
            # an answer over our caps is a protocol violation too, not a network failure
            report.rejected = str(exc)
            self.stats["reject"] += 1

    async def _wanted_posts(self, heads: sp.Heads) -> list[tuple[str, int, int]]:
        """``(creator, from seq, our head seq)`` to fetch, at most the per-round cap."""
        local = await self._index.heads()
        evidence = await self._fork_evidence(heads, local)
        ahead: list[tuple[str, int, int]] = []
        level: list[tuple[str, int]] = []
        for creator, (seq, head_id) in heads.posts.items():
            mine = local.get(creator)
            fork_seq = evidence.get(creator)
            if mine is None:
                ahead.append((creator, 1, 0))
                continue
            if fork_seq is not None:
                ahead.append((creator, fork_seq, mine[0]))  # fork evidence we lack
            if seq > mine[0]:
                ahead.append((creator, mine[0] + 1, mine[0]))
            elif seq == mine[0] and head_id != mine[1]:
                ahead.append((creator, seq, seq))  # the other side of a fork at the head
            elif seq == mine[0] and fork_seq is None:
                level.append((creator, seq))  # same head: maybe we have a gap they fill
        self._rng.shuffle(ahead)  # a hostile peer cannot pin which creators we spend on
        self._rng.shuffle(level)
        cap = self._options.max_creators_per_round
        chosen: list[tuple[str, int, int]] = []
        for creator, from_seq, head in ahead:
            if len(chosen) >= cap:
                return chosen
            if not await self._index.is_blocked(creator):
                chosen.append((creator, from_seq, head))
        for creator, head in level[: cap - len(chosen)]:
            gap = await self._first_gap(creator, head)
            if gap is not None and not await self._index.is_blocked(creator):
                chosen.append((creator, gap, head))
        return chosen

    async def _fork_evidence(
        self, heads: sp.Heads, local: dict[str, tuple[int, bytes]]
    ) -> dict[str, int]:
        """``{creator: seq}`` of the peer's advertised forks we do not hold ourselves."""
        if not heads.forks:
            return {}
        ours = await self._index.fork_heads()
        wanted: dict[str, int] = {}
        for creator, seq in heads.forks.items():
            if creator not in local or ours.get(creator) == seq:
                continue  # a creator new to us is fetched from seq 1 anyway
            if creator in ours and seq in {s for s, _ in await self._index.forks(creator)}:
                continue
            wanted[creator] = seq
        return wanted

    async def _first_gap(self, creator: str, head: int) -> int | None:
        """The lowest seq below ``head`` we lack (None if none, or not found cheaply)."""
        info = await self._index.creator_info(creator)
        if info is None or info.posts >= head:
            return None  # every seq up to the head is present (forks only add rows)
        expected = 1
        for _ in range(GAP_SCAN_PAGES):
            rows = await self._index.log_range(creator, expected, 1000)
            for raw in rows:
                record = decode(raw).record
                seq = record.seq if isinstance(record, Post) else expected
                if seq > expected:
                    return expected
                expected = seq + 1
            if len(rows) < 1000:
                return expected if expected < head else None
        return None

    async def _posts(self, peer: str, heads: sp.Heads, budget: Budget, report: RoundReport) -> None:
        """Fetch the wanted logs, ``parallel_creators`` of them at a time (one budget)."""
        wanted = iter(await self._wanted_posts(heads))

        async def worker() -> None:
            for creator, start, local_head in wanted:  # the workers share one iterator
                report.creators += 1
                await self._log(peer, creator, start, local_head, budget, report)

        await _all_or_first_error([worker() for _ in range(self._options.parallel_creators)])

    async def _log(
        self,
        peer: str,
        creator: str,
        from_seq: int,
        local_head: int,
        budget: Budget,
        report: RoundReport,
    ) -> None:
        """One creator's log from ``from_seq`` on, page by page. While a page is validated
        and stored, the next one is already being fetched, when the page cannot be the last
        (it was full and ends above our head)."""
        pending: asyncio.Future[_Page | None] | None = asyncio.ensure_future(
            self._fetch_page(peer, creator, from_seq, budget, report)
        )
        try:
            while pending is not None:
                fetched = await pending
                pending = None
                if fetched is None:
                    return
                from_seq, limit, page = fetched
                checked = [self._check_post(raw, creator, from_seq) for raw in page]
                envelopes = [envelope for envelope, _seq in checked if envelope is not None]
                seqs = [seq for envelope, seq in checked if envelope is not None]
                if seqs != sorted(seqs):
                    raise RoundStop("range response not in seq order")
                for _ in range(len(checked) - len(envelopes)):
                    self.refuse("undecodable", "a record of a range page", report, budget)
                if not seqs or len(page) < limit:
                    await self._take(envelopes, report, budget)
                    return
                # every seq >= from_seq, so either choice moves forward
                next_seq = seqs[-1] if seqs[0] != seqs[-1] else seqs[-1] + 1
                if seqs[-1] > local_head and budget.rejects >= 0:
                    pending = asyncio.ensure_future(
                        self._fetch_page(peer, creator, next_seq, budget, report)
                    )
                before = report.stored
                await self._take(envelopes, report, budget)
                if pending is None:
                    if report.stored == before and seqs[-1] <= local_head:
                        return  # nothing new below our head: the gap is theirs too
                    pending = asyncio.ensure_future(
                        self._fetch_page(peer, creator, next_seq, budget, report)
                    )
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending

    async def _fetch_page(
        self, peer: str, creator: str, from_seq: int, budget: Budget, report: RoundReport
    ) -> _Page | None:
        """Ask for one range page; None when the round's budget is used up. The page and
        its records are reserved before asking (fetches in flight at once stay within the
        caps) and what the answer did not use is given back."""
        if budget.pages <= 0 or budget.records <= 0:
            return None
        limits = self._options.limits
        limit = min(self._options.page_size, limits.max_page, budget.records)
        budget.pages -= 1
        budget.records -= limit
        try:
            request = sp.RangeRequest(creator, from_seq, limit)
            data = await self._ask(peer, request, limits.records_bytes(limit))
            page = sp.decode_records(data, limit, limits).records
        except BaseException:
            budget.pages += 1
            budget.records += limit
            raise
        budget.records += limit - len(page)
        report.pages += 1
        return from_seq, limit, page

    def _check_post(self, raw: bytes, creator: str, from_seq: int) -> tuple[Envelope | None, int]:
        """The record and its seq; an undecodable record is (None, 0) and costs only itself. A
        decodable record outside the asked range stops the round."""
        try:
            envelope = decode(raw)
        except DecodeError:
            return None, 0
        record = envelope.record
        if not isinstance(record, Post) or record.creator != creator or record.seq < from_seq:
            raise RoundStop(f"range response holds a record outside {creator} seq >= {from_seq}")
        return envelope, record.seq

    async def _profiles(
        self, peer: str, heads: sp.Heads, budget: Budget, report: RoundReport
    ) -> None:
        limits = self._options.limits
        local = await self._index.profile_heads()
        wanted = [c for c, ver in heads.profiles.items() if ver > local.get(c, -1)]
        self._rng.shuffle(wanted)
        wanted = wanted[: self._options.max_creators_per_round]
        wanted = [c for c in wanted if not await self._index.is_blocked(c)]
        size = min(self._options.page_size, limits.max_profiles)
        for start in range(0, len(wanted), size):
            if budget.pages <= 0 or budget.records <= 0:
                return
            batch = wanted[start : start + size][: budget.records]
            data = await self._ask(
                peer, sp.ProfilesRequest(tuple(batch)), limits.records_bytes(len(batch))
            )
            page = sp.decode_records(data, len(batch), limits).records
            budget.pages -= 1
            budget.records -= len(page)
            report.pages += 1
            envelopes = []
            for raw in page:
                try:
                    envelope = decode(raw)
                except DecodeError as exc:
                    self.refuse("undecodable", str(exc), report, budget)
                    continue
                record = envelope.record
                if not isinstance(record, Profile) or record.creator not in batch:
                    raise RoundStop("profiles response holds a record we did not ask for")
                envelopes.append(envelope)
            await self._take(envelopes, report, budget)

    async def _take(self, envelopes: list[Envelope], report: RoundReport, budget: Budget) -> None:
        """Validate a page concurrently and store what passes (one batch for the index's
        writer, in order). A rejected record costs that record only; the round stops once the
        peer has sent ``max_rejects_per_round`` of them."""
        now = int(self._clock())
        verdicts = await asyncio.gather(
            *(self._validator.validate_envelope(e, now) for e in envelopes)
        )
        await self._settle(envelopes, verdicts, report, budget)

    async def take_checked(
        self, items: list[tuple[Envelope, bytes]], report: RoundReport, budget: Budget
    ) -> bool:
        """Like ``_take`` for records ``Validator.authenticate`` passed (``(envelope, id)``).
        True when every record is settled for good: stored, or ignored for a reason that
        cannot change (duplicate, stale, control characters)."""
        now = int(self._clock())
        verdicts = await asyncio.gather(
            *(self._validator.check(e, record_id, now) for e, record_id in items)
        )
        await self._settle([e for e, _ in items], verdicts, report, budget)
        return all(
            not isinstance(verdict, v.Ignored) or verdict.reason in _SETTLED for verdict in verdicts
        )

    async def _settle(
        self,
        envelopes: list[Envelope],
        verdicts: Sequence[v.Verdict],
        report: RoundReport,
        budget: Budget,
    ) -> None:
        accepted: list[tuple[Envelope, bytes]] = []
        for envelope, verdict in zip(envelopes, verdicts, strict=True):
            if isinstance(verdict, v.Ignored):
                report.ignored += 1
                self.stats[f"ignore:{verdict.reason}"] += 1
            elif isinstance(verdict, v.Rejected):
                self.refuse(f"{verdict.reason}", verdict.detail, report, budget)
            else:
                accepted.append((envelope, verdict.record_id))
        results = await asyncio.gather(*(self._index.store(e, rid) for e, rid in accepted))
        for (envelope, record_id), result in zip(accepted, results, strict=True):
            self._count(envelope, record_id, result, report)
        if budget.rejects < 0:
            raise RoundStop(f"{report.refused} bad records, the last one {report.last_refused}")

    def refuse(self, reason: str, detail: str, report: RoundReport, budget: Budget) -> None:
        """Count one bad record (it is dropped; the rest of the page still counts)."""
        report.refused += 1
        report.last_refused = f"{reason}: {detail}"
        budget.rejects -= 1
        self.stats[f"reject:{reason}"] += 1
        logger.debug("sync: dropped a record from %s: %s: %s", report.peer, reason, detail)

    def _count(
        self, envelope: Envelope, record_id: bytes, result: StoreResult, report: RoundReport
    ) -> None:
        if result is StoreResult.DUPLICATE:
            report.ignored += 1
            self.stats["ignore:duplicate"] += 1
            return
        report.stored += 1
        self.stats["stored"] += 1
        if result is StoreResult.FORK:
            report.forks += 1
            self.stats["fork"] += 1
        if self._on_stored is not None:
            try:
                self._on_stored(envelope, record_id, result)
            except Exception:
                logger.exception("on_stored callback failed")


_Page = tuple[int, int, tuple[bytes, ...]]
"""A fetched range page: (from seq, limit asked, wire records)."""


async def _all_or_first_error(jobs: list[Coroutine[Any, Any, None]]) -> None:
    """Run ``jobs`` concurrently; the first one to fail cancels the others and its error is
    raised as it is (not wrapped in an exception group)."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
