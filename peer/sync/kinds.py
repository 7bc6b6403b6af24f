"""Sync 1.1's part of a round: every kind of ``SYNCED_KINDS`` by (kind, author) group.

For each kind, in registry order: ask the peer's kind-heads; a group whose ``(count, digest)``
differs from ours is a candidate, unless we already fetched all of it from this peer at the
same digest (the memo: two peers that disagree on a group for good, e.g. because we refuse
some of its records, would otherwise refetch it every round). Candidates are shuffled (a
hostile peer cannot pin which groups we spend on), blocked authors skipped, and at most
``max_groups_per_round`` groups are fetched per round, page by page with ascending ids.

Every record of a page must decode (else it is dropped and counted), be of the asked kind
and signed by the asked author, and come in ascending id order after the cursor (else the
round ends: a protocol breach). Then it passes the feed ``Validator`` (the object gossip uses)
and is stored. A group cut short by the round's budget is resumed from its cursor next round
while the peer's digest is unchanged.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from peer.feed import validation as v
from peer.feed.errors import DecodeError, UnknownKindError
from peer.feed.records import signer_of
from peer.feed.synckinds import SYNCED_KINDS
from peer.feed.wire import Envelope, decode
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11
from peer.sync.ports import SyncIndex
from peer.sync.rounds import Budget, RoundReport, RoundStop

Ask = Callable[[p11.Request, int], Awaitable[bytes]]
"""Send one request to the round's peer; the int is the largest answer accepted."""


class PageSink(Protocol):
    """Where checked records go (the round runner)."""

    async def take_checked(
        self, items: list[tuple[Envelope, bytes]], report: RoundReport, budget: Budget
    ) -> bool: ...

    def refuse(self, reason: str, detail: str, report: RoundReport, budget: Budget) -> None: ...


class KindOptions(Protocol):
    """The settings this part of a round reads (``SyncOptions``)."""

    @property
    def page_size(self) -> int: ...
    @property
    def limits(self) -> sp.Limits: ...
    @property
    def max_groups_per_round(self) -> int: ...
    @property
    def max_memo_groups(self) -> int: ...


_Key = tuple[str, str, str]  # (peer, kind, author)


class KindRounds:
    """Fetches the synced kinds from one peer within a round's budget."""

    def __init__(
        self,
        index: SyncIndex,
        validator: v.Validator,
        options: KindOptions,
        rng: random.Random,
        sink: PageSink,
    ) -> None:
        self._index = index
        self._validator = validator
        self._options = options
        self._rng = rng
        self._sink = sink
        self._memo: OrderedDict[_Key, tuple[bytes, bytes | None]] = OrderedDict()
        """(peer, kind, author) -> (the peer's digest, resume cursor or None when complete)."""

    async def run(self, peer: str, ask: Ask, budget: Budget, report: RoundReport) -> None:
        limits = self._options.limits
        groups_left = self._options.max_groups_per_round
        for kind in SYNCED_KINDS:
            if budget.spent or groups_left <= 0:
                return
            data = await ask(p11.KindHeadsRequest(kind), limits.max_kind_heads_bytes)
            budget.pages -= 1  # a request like a page, though not a page of records
            heads = p11.decode_kind_heads(data, kind, limits)
            local = await self._index.kind_heads(kind)
            wanted = [
                (author, digest)
                for author, (count, digest) in heads.authors.items()
                if local.get(author) != (count, digest)
                and self._memo.get((peer, kind, author)) != (digest, None)
            ]
            self._rng.shuffle(wanted)
            for author, digest in wanted:
                if budget.spent or groups_left <= 0:
                    return
                if await self._index.is_blocked(author):
                    continue
                groups_left -= 1
                report.groups += 1
                await self._group(peer, ask, kind, author, digest, budget, report)

    async def _group(
        self,
        peer: str,
        ask: Ask,
        kind: str,
        author: str,
        digest: bytes,
        budget: Budget,
        report: RoundReport,
    ) -> None:
        limits = self._options.limits
        key = (peer, kind, author)
        memo = self._memo.pop(key, None)
        after = memo[1] if memo is not None and memo[0] == digest and memo[1] else p11.START
        settled = True
        while True:
            if budget.spent:
                self._remember(key, digest, after)  # resumed next round
                return
            limit = min(self._options.page_size, limits.max_page, budget.records)
            request = p11.KindRangeRequest(kind, author, after, limit)
            data = await ask(request, limits.records_bytes(limit))
            page = sp.decode_records(data, limit, limits).records
            budget.pages -= 1
            budget.records -= len(page)
            report.pages += 1
            items, last = self._check_page(page, kind, author, after, budget, report)
            settled = await self._sink.take_checked(items, report, budget) and settled
            if len(page) < limit or last == after:
                break  # the group's end, or a full page of nothing usable: no way forward
            after = last
        if settled:
            self._remember(key, digest, None)

    def _check_page(
        self,
        page: tuple[bytes, ...],
        kind: str,
        author: str,
        after: bytes,
        budget: Budget,
        report: RoundReport,
    ) -> tuple[list[tuple[Envelope, bytes]], bytes]:
        """The page's authenticated records with their ids, and the last id seen."""
        items: list[tuple[Envelope, bytes]] = []
        last = after
        for raw in page:
            try:
                envelope = decode(raw)
            except UnknownKindError:  # a newer peer's kind: not a fault (ARCHITECTURE)
                report.ignored += 1
                continue
            except DecodeError as exc:
                self._sink.refuse("undecodable", str(exc), report, budget)
                continue
            if envelope.kind != kind or signer_of(envelope.record) != author:
                raise RoundStop(f"kind-range response holds a record outside ({kind}, {author})")
            record_id = self._validator.authenticate(envelope)
            if isinstance(record_id, v.Rejected):
                self._sink.refuse(str(record_id.reason), record_id.detail, report, budget)
                continue
            if record_id <= last:
                raise RoundStop("kind-range response not in ascending id order after the cursor")
            last = record_id
            items.append((envelope, record_id))
        return items, last

    def _remember(self, key: _Key, digest: bytes, after: bytes | None) -> None:
        self._memo[key] = (digest, after)
        while len(self._memo) > self._options.max_memo_groups:
            self._memo.popitem(last=False)
