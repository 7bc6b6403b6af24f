"""Fixtures of the daemon integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import Daemon, StartDaemon, spawn_daemon


@pytest.fixture
def start_daemon() -> Iterator[StartDaemon]:
    """Start daemons; every one still running at teardown is killed."""
    daemons: list[Daemon] = []

    def start(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Daemon:
        daemon = spawn_daemon(data_dir, *args, env=env)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()
