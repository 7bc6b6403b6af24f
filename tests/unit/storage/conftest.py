"""Fixtures for the storage unit tests."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata"


@functools.cache
def vector_bytes(size: int) -> bytes:
    """The vector generator of unixfs_vectors.json: sha256(b'toktok-vector-<i>') concatenated."""
    sha = hashlib.sha256
    count = (size + 31) // 32
    return b"".join(sha(b"toktok-vector-%d" % i).digest() for i in range(count))[:size]


@pytest.fixture(scope="session")
def unixfs_vectors() -> list[dict[str, Any]]:
    data = json.loads((TESTDATA / "unixfs_vectors.json").read_text())
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


@pytest.fixture(scope="session")
def make_bytes() -> Callable[[int], bytes]:
    return vector_bytes
