"""Fixtures of the replication unit tests (builders in tests/support/replication_rig.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.replication_rig import Rig

from peer.replication.testing import MemoryWants, NetworkBlocks
from storage.embedded import EmbeddedContentStore


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    local, remote = EmbeddedContentStore.memory(), EmbeddedContentStore.memory()
    made = Rig(tmp_path, local, remote, NetworkBlocks(local, [remote]), MemoryWants(), [], [1e6])
    yield made
    if made.state is not None:
        made.state.close()
