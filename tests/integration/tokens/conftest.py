"""A real anvil devnet per test module (started and stopped by the fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from tokens.devnet import Devnet, DevnetInfo, DevnetOptions, find_anvil

ROOT = Path(__file__).resolve().parents[3]
ANVIL = find_anvil(ROOT)


def devnet_options(state_dir: Path, block_time: float = 0.5) -> DevnetOptions:
    return DevnetOptions(state_dir=state_dir, anvil=ANVIL, block_time=block_time)


@pytest.fixture
def make_options() -> Callable[..., DevnetOptions]:
    return devnet_options


@pytest.fixture
def anvil_path() -> Path:
    return ANVIL


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def devnet(tmp_path_factory: object) -> AsyncIterator[DevnetInfo]:
    state_dir = tmp_path_factory.mktemp("devnet")  # type: ignore[attr-defined]
    async with Devnet(devnet_options(state_dir)) as info:
        yield info
