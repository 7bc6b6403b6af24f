"""A serving peer for the storage-net benchmark and tests, in its own process.

Starts a libp2p host on 127.0.0.1 with an in-memory store and bitswap, adds ``--size`` bytes of
non-repeating data (or nothing), prints one JSON line ``{"addr": ..., "root": ...}`` and serves
until its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from peer.p2p import HostOptions, P2PHost
from storage.bitswap import Bitswap
from storage.local import LocalStore


def pattern(size: int, seed: str = "a") -> bytes:
    """Non-repeating bytes: sha256 digests of a counter."""
    count = (size + 31) // 32
    return b"".join(hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(count))[:size]


async def serve(size: int, seed: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        host = P2PHost(HostOptions(identity_path=Path(tmp) / "identity.key"))
        await host.start()
        local = LocalStore.memory()
        bitswap = Bitswap(host, local)
        await bitswap.start()
        root = local.import_chunks([pattern(size, seed)]) if size else None
        print(json.dumps({"addr": host.addrs[0], "root": str(root) if root else None}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        await bitswap.stop()
        await host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--seed", default="a")
    args = parser.parse_args()
    asyncio.run(serve(args.size, args.seed))


if __name__ == "__main__":
    main()
