"""Backend fixture of the p2p conformance suite: ``fake`` (in-memory) and ``real``
(py-libp2p hosts; the local one in this process, every remote in its own process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peer.p2p.testing import PeerFactory


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PeerFactory]:
    factory = PeerFactory(request.param, tmp_path)
    try:
        yield factory
    finally:
        await factory.close()
