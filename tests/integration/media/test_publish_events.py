"""A publish job on the event bus: its stages in order (the pipeline's media stages, then sign
and gossip), then ``publish.done``; nothing claims ``done`` before the post is signed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

from peer.bus import EventBus
from peer.daemon.feed import FeedService
from peer.daemon.publish import PublishRequest, PublishService
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


async def test_a_publish_job_reports_every_stage_in_order_then_done(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    host = FakeNetwork().host()
    await host.start()
    bus = EventBus()
    events = bus.subscribe()
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
    )
    await feed.start()
    await publish.start()
    try:
        job = publish.submit(PublishRequest.checked(samples["portrait"], "a clip"))
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
