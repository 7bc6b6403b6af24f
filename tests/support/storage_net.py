"""Helpers shared by the storage-network tests (integration and interop)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from peer.p2p import P2PHost
from storage.bitswap import Bitswap
from storage.local import LocalStore


@dataclass
class Node:
    """A real libp2p host with a local store and a running bitswap service."""

    host: P2PHost
    local: LocalStore
    bitswap: Bitswap


NodeFactory = Callable[..., Awaitable[Node]]


def pattern(size: int, seed: str = "a") -> bytes:
    """Non-repeating bytes (every 256 KiB chunk distinct)."""
    count = (size + 31) // 32
    return b"".join(hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(count))[:size]
