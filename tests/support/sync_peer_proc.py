"""A real Toktok sync peer in its own process (P2PHost on loopback + FeedIndex + SyncService).

Usage (in ``tests/``): ``python -m support.sync_peer_proc DATA_DIR POSTS [INTERVAL_S]``: fills
a fresh index with ``POSTS`` signed posts of the test creator, starts, prints
``{"peer_id", "addrs"}`` as one JSON line, then answers one JSON line per command read from stdin:
``{"cmd": "connect", "addr": A}``, ``{"cmd": "seqs"}`` (the creator's stored seqs),
``{"cmd": "quit"}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from peer.feed import validation as v
from peer.feed.builders import CreatorLog
from peer.feed.eip712 import Domain
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.records import Post
from peer.feed.signatures import address_of
from peer.feed.testing import FakeTokenRegistry
from peer.feed.wire import decode
from peer.p2p import HostOptions, P2PHost
from peer.sync import PeerBook, PeerBookOptions, SyncOptions, SyncService

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
KEY = keccak(b"sync integration creator")
CREATOR = address_of(KEY)
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
NOW = 1_764_460_800


def registry() -> FakeTokenRegistry:
    return FakeTokenRegistry({CREATOR: TOKEN})


async def fill(index: FeedIndex, validator: v.Validator, count: int) -> None:
    log = CreatorLog(DOMAIN, KEY, TOKEN)
    for _ in range(count):
        envelope, _ = log.next_post(MANIFEST, f"clip {log.seq + 1}", NOW)
        verdict = await validator.validate_envelope(envelope, NOW)
        assert isinstance(verdict, v.Accepted)
        await index.writes.store(envelope, verdict.record_id)


async def seqs(index: FeedIndex) -> list[int]:
    rows = await index.sync.log_range(CREATOR, 1, 1000)
    records = [decode(w).record for w in rows]
    return [r.seq for r in records if isinstance(r, Post)]


async def main(data: Path, count: int, interval: float) -> None:
    index = FeedIndex(IndexOptions(data / "index" / "feed.sqlite"))
    await index.start()
    validator = v.Validator(DOMAIN, registry(), index.view)
    await fill(index, validator, count)
    host = P2PHost(HostOptions(identity_path=data / "p2p" / "identity.key"))
    await host.start()
    book = PeerBook(PeerBookOptions(data / "p2p" / "peers.json"))
    # pages of 10: the tests' catch-ups of 25 posts take several pages
    options = SyncOptions(interval_s=interval, page_size=10)
    sync = SyncService(host, index.sync, validator, options, peer_book=book)
    await sync.start()
    loop = asyncio.get_running_loop()
    try:
        print(json.dumps({"peer_id": host.peer_id, "addrs": host.addrs}), flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command: dict[str, Any] = json.loads(line)
            if command["cmd"] == "quit":
                break
            if command["cmd"] == "connect":
                result: Any = await host.connect(command["addr"])
            else:
                result = await seqs(index)
            print(json.dumps({"result": result}), flush=True)
    finally:
        await sync.stop()
        await host.stop()
        await index.close()


if __name__ == "__main__":
    interval_arg = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), interval_arg))
