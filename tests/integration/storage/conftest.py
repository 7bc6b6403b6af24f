"""Fixtures for storage integration tests.

``content_store`` is parametrised over every ``ContentStore`` implementation; the Kubo-RPC
backend (next issue) adds its own parameter here.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.embedded import EmbeddedContentStore
from storage.ports import ContentStore

TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata"


@functools.cache
def vector_bytes(size: int) -> bytes:
    """The generator of unixfs_vectors.json: sha256(b'toktok-vector-<i>') digests concatenated."""
    count = (size + 31) // 32
    return b"".join(hashlib.sha256(b"toktok-vector-%d" % i).digest() for i in range(count))[:size]


@pytest.fixture(scope="session")
def unixfs_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((TESTDATA / "unixfs_vectors.json").read_text())[
        "vectors"
    ]
    return vectors


@pytest.fixture(scope="session")
def make_bytes() -> Callable[[int], bytes]:
    return vector_bytes


@pytest.fixture(params=["embedded-disk", "embedded-memory"])
async def content_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ContentStore]:
    if request.param == "embedded-disk":
        yield EmbeddedContentStore.at(tmp_path / "store")
    else:
        yield EmbeddedContentStore.memory()
