"""A publish job on the event bus: its stages in order (the pipeline's media stages, then sign
and gossip), then ``publish.done``; nothing claims ``done`` before the post is signed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from peer.bus import EventBus
from peer.daemon.feed import FeedService
from peer.daemon.publish import PublishRequest, PublishService
from peer.daemon.publish_queue import QueuedPost, enqueue, pending, queue_dir
from peer.errors import PremiumNeedsTokenError
from peer.events import PUBLISH_STAGES, PublishDone, PublishProgress
from peer.p2p.testing import FakeNetwork
from storage.embedded import EmbeddedContentStore
from storage.media.pipeline import MediaSettings


@dataclass(frozen=True)
class _Deployment:
    chain_id: int = 31337
    factory: str = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


class _ChainClient:
    async def token_of(self, creator: str) -> str | None:
        return None

    async def block_number(self) -> int:
        return 1


@dataclass
class _Chain:
    deployment: _Deployment
    client: _ChainClient


@dataclass
class _Wallet:
    account: Any
    clip_keys: None = None

    @property
    def address(self) -> str:
        return str(self.account.address)


@dataclass
class _Store:
    store: EmbeddedContentStore


def _services(
    tmp_path: Path, bus: EventBus, queue_root: Path | None = None
) -> tuple[Any, FeedService, PublishService]:
    host = FakeNetwork().host()
    wallet = _Wallet(Account.from_key(keccak(b"publish events")))
    feed = FeedService(tmp_path / "index", host, _Chain(_Deployment(), _ChainClient()), wallet, bus)  # type: ignore[arg-type]
    publish = PublishService(
        _Store(EmbeddedContentStore.memory()),  # type: ignore[arg-type]
        wallet,  # type: ignore[arg-type]
        feed,
        MediaSettings(work_dir=tmp_path / "work"),
        bus,
        tmp_path / "publish-journal.sqlite",
        explain=lambda exc: ("internal", str(exc)),
        queue_root=queue_root,
    )
    return host, feed, publish


async def test_a_premium_clip_without_a_creator_token_is_refused_before_any_media_work(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    bus = EventBus()
    events = bus.subscribe()
    host, feed, publish = _services(tmp_path, bus)
    await host.start()
    await feed.start()
    await publish.start()
    try:
        request = PublishRequest.checked(samples["portrait"], "paid", premium=True, min_balance=1)
        with pytest.raises(PremiumNeedsTokenError, match="create your token first"):
            await publish.submit(request)
        assert events.get_nowait() is None  # no stage started: nothing was probed or converted
        assert not list((tmp_path / "work").iterdir())
    finally:
        await publish.stop()
        await feed.stop()
        await host.stop()


async def test_a_publish_job_reports_every_stage_in_order_then_done(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    bus = EventBus()
    events = bus.subscribe()
    host, feed, publish = _services(tmp_path, bus)
    await host.start()
    await feed.start()
    await publish.start()
    try:
        job = await publish.submit(PublishRequest.checked(samples["portrait"], "a clip"))
        assert job.task is not None
        await job.task
        seen = []
        while (event := events.get_nowait()) is not None:
            seen.append(event)
        stages = [e.stage for e in seen if isinstance(e, PublishProgress)]
        ordered = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
        assert ordered == [s for s in PUBLISH_STAGES if s != "encrypt"]  # a free clip
        assert isinstance(seen[-1], PublishDone)
        assert seen[-1].post_id == job.post_id
        assert job.state == "done"
    finally:
        await publish.stop()
        await feed.stop()
        await host.stop()


async def test_posts_queued_while_no_daemon_ran_are_announced_at_start(tmp_path: Path) -> None:
    manifest = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
    free = QueuedPost(manifest, "made offline", ("cats",), False, 0, 2000, 1.0)
    paid = QueuedPost(manifest, "paid offline", (), True, 3, 2000, 2.0)
    enqueue(tmp_path, free)
    enqueue(tmp_path, paid)
    bus = EventBus()
    events = bus.subscribe()
    host, feed, publish = _services(tmp_path, bus, queue_root=tmp_path)
    await host.start()
    await feed.start()
    await publish.start()  # announces the queue
    try:
        done = []
        while (event := events.get_nowait()) is not None:
            if isinstance(event, PublishDone):
                done.append(event)
        assert len(done) == 1
        post = await feed.index.queries.post(bytes.fromhex(done[0].post_id[2:]))
        assert post is not None
        assert (post.title, post.tags) == ("made offline", ("cats",))
        assert pending(tmp_path) == []
        # the premium one cannot be announced (no creator token): kept, with the reason
        failed = list((queue_dir(tmp_path) / "failed").glob("*.reason.txt"))
        assert len(failed) == 1
        assert "create your token first" in failed[0].read_text()
    finally:
        await publish.stop()
        await feed.stop()
        await host.stop()
