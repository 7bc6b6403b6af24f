"""Fixtures of the replication integration tests: real daemons, one devnet, tiny clips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.daemon import start_daemon  # noqa: F401 - the shared fixture

REPO = Path(__file__).resolve().parents[3]


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
