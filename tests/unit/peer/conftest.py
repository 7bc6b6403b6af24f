"""Fixtures of the HTTP-layer unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.http import Servers, serve_api


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    async with serve_api() as running:
        yield running
