"""Fixtures for storage integration tests.

``content_store`` is parametrised over every ``ContentStore`` implementation; the Kubo-RPC
backend (next issue) adds its own parameter here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from support import vectors

from storage.embedded import EmbeddedContentStore
from storage.ports import ContentStore


@pytest.fixture(scope="session")
def unixfs_vectors() -> list[dict[str, Any]]:
    return vectors.unixfs_vectors()


@pytest.fixture(scope="session")
def make_bytes() -> Callable[[int], bytes]:
    return vectors.vector_bytes


@pytest.fixture(params=["embedded-disk", "embedded-memory"])
async def content_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ContentStore]:
    if request.param == "embedded-disk":
        yield EmbeddedContentStore.at(tmp_path / "store")
    else:
        yield EmbeddedContentStore.memory()
