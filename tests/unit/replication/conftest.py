"""Fixtures of the replication unit tests (builders in replication_rig.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replication_rig import Rig

from peer.replication.fakes import MemoryWants, NetworkBlocks
from storage.embedded import EmbeddedContentStore


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    local, remote = EmbeddedContentStore.memory(), EmbeddedContentStore.memory()
    made = Rig(tmp_path, local, remote, NetworkBlocks(local, [remote]), MemoryWants(), [], [1e6])
    yield made
    if made.state is not None:
        made.state.close()
