"""One anvil devnet per test module, and helpers for gating integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tokens.devnet import Devnet, DevnetInfo, DevnetOptions, find_anvil

ROOT = Path(__file__).resolve().parents[3]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def devnet(tmp_path_factory: object) -> AsyncIterator[DevnetInfo]:
    state_dir = tmp_path_factory.mktemp("devnet")  # type: ignore[attr-defined]
    options = DevnetOptions(state_dir=state_dir, anvil=find_anvil(ROOT), block_time=0.5)
    async with Devnet(options) as info:
        yield info
