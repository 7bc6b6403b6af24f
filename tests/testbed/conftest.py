"""Tests on the test bed (netbed): separate network hosts in network namespaces.

They need root (network namespaces) and iproute2. Where that is missing they are skipped with
the reason, except in CI (``CI=true``, which runs as root): there they fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbed import Bed, netns, registry
from testbed.scenarios_support import World, world_on_a_bed

REPO = Path(__file__).resolve().parents[2]


def require_bed() -> None:
    reason = netns.available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"the test bed cannot run in CI: {reason}")
    pytest.skip(f"the test bed cannot run here: {reason}")


@pytest.fixture(autouse=True)
def _bed_allowed() -> None:
    require_bed()


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    """A fresh bed of no hosts (seeded: loss and jitter repeat from run to run)."""
    with Bed(tmp_path / "bed", seed=19) as fresh:
        yield fresh


def probe(*args: str) -> list[str]:
    return [sys.executable, "-m", "netbed.probe", *args]


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The bed of the scenario and network-profile tests, shared by them (see
    ``scenarios_support``): built at its first use, removed after the last test of this
    package."""
    require_bed()
    with world_on_a_bed(tmp_path_factory.mktemp("world")) as built:
        bed = built.bed
        yield built
    # every daemon, the chain, the delay line and the namespaces are gone
    assert registry.namespaces_of(bed.run_id) == []
    assert all(proc.poll() is not None for proc in bed.processes)


@pytest.fixture(autouse=True)
def _netbed_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes started in the bed import netbed from the repository."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{path}" if path else str(REPO))
