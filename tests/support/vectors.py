"""The test vectors in ``tests/vectors/`` and the generator of the UnixFS vector files."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS_DIR / name).read_text())
    return data


def unixfs_vectors() -> list[dict[str, Any]]:
    """The entries of ``unixfs_vectors.json``: ``size``, ``v0`` and ``v1`` CIDs of that file."""
    vectors: list[dict[str, Any]] = _load("unixfs_vectors.json")["vectors"]
    return vectors


def post_vectors() -> dict[str, Any]:
    """``post_vectors.json``: the EIP-712 domain, types, signer and signed posts."""
    return _load("post_vectors.json")


def feed_rule_vectors() -> dict[str, Any]:
    """``feed_rules.json``: signed records, what the registry says now, the expected verdict
    and gossip topics (docs/ARCHITECTURE.md, Feed rules)."""
    return _load("feed_rules.json")


def comment_vectors() -> dict[str, Any]:
    """``comment_vectors.json``: the comment record types, signed records with their ids, and
    rule cases (state stored first, holdings, expected verdict)."""
    return _load("comment_vectors.json")


def like_vectors() -> dict[str, Any]:
    """Like and LikeV2 records in order, with the like state after each (docs/ARCHITECTURE.md)."""
    return _load("like_vectors.json")


def key_request_vectors() -> dict[str, Any]:
    """Key-request messages with each accepted and refused ``domain`` (docs/ARCHITECTURE.md,
    Token-gated playback)."""
    return _load("key_request_vectors.json")


def sync11_vectors() -> dict[str, Any]:
    """Sync 1.1 messages byte for byte (docs/ARCHITECTURE.md, Sync 1.1)."""
    return _load("sync11_vectors.json")


@functools.cache
def vector_bytes(size: int) -> bytes:
    """The first ``size`` bytes of sha256(b'toktok-vector-0') || sha256(b'toktok-vector-1') || …"""
    count = (size + 31) // 32
    return b"".join(hashlib.sha256(b"toktok-vector-%d" % i).digest() for i in range(count))[:size]
