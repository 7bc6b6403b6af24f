"""The composition-root wrapper: switched off, or unable to run, it says so in the status."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from peer.bus import EventBus
from peer.config import StorageSection
from peer.daemon.replication import ReplicationRunner, replication_options
from peer.daemon.store import StoreService
from peer.daemon.wallet import WalletService


def runner(tmp_path: Path, settings: StorageSection) -> ReplicationRunner:
    store = StoreService(tmp_path / "store", settings, cast(Any, None))  # never started
    return ReplicationRunner(
        settings,
        store,
        cast(WalletService, None),
        EventBus(),
        tmp_path / "index" / "feed.sqlite",
        tmp_path / "store" / "replication.sqlite",
    )


async def test_switched_off_replication_reports_null(tmp_path: Path) -> None:
    off = runner(tmp_path, replace(StorageSection(), replicate=False))
    await off.start()
    assert off.status() is None
    assert off.service is None
    await off.stop()


async def test_without_the_embedded_store_replication_says_why_it_is_not_running(
    tmp_path: Path,
) -> None:
    on = runner(tmp_path, StorageSection())
    await on.start()  # the store has no bitswap (Kubo backend, or not started)
    status = on.status()
    assert status is not None
    assert status["enabled"] is False
    assert "embedded" in status["last_error"]
    await on.stop()
    assert not (tmp_path / "store" / "replication.sqlite").exists()


def test_options_come_from_the_storage_settings() -> None:
    options = replication_options(
        replace(StorageSection(), disk_budget_mb=0.5, replication_rate_kbps=8000)
    )
    assert options.budget_bytes == 512 * 1024
    assert options.rate_bytes_s == 1_000_000
