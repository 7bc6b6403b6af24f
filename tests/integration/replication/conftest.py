"""Fixtures of the replication integration tests: real daemons, one devnet, tiny clips."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import Daemon, StartDaemon, spawn_daemon

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def start_daemon() -> Iterator[StartDaemon]:
    """Start daemons; every one still running at teardown is stopped."""
    daemons: list[Daemon] = []

    def start(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Daemon:
        daemon = spawn_daemon(data_dir, *args, env=env)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()


@pytest.fixture(scope="package")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Distinct one-second 180x320 clips (portrait, landscape, rotated, no-audio, webm)."""
    out = tmp_path_factory.mktemp("clips")
    subprocess.run(
        [str(REPO / "scripts" / "sample-media"), "--duration", "1", str(out)],
        check=True,
        capture_output=True,
    )
    return {p.stem: p for p in out.iterdir()}
