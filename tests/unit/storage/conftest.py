"""Fixtures for the storage unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support import vectors


@pytest.fixture(scope="session")
def unixfs_vectors() -> list[dict[str, Any]]:
    return vectors.unixfs_vectors()


@pytest.fixture(scope="session")
def make_bytes() -> Callable[[int], bytes]:
    return vectors.vector_bytes
