"""A sync peer in its own process, for the multi-peer sync tests (real P2PHost on loopback).

``python sync_helper.py DATA_DIR OPTIONS_JSON``; OPTIONS: ``chain_id``, ``factory`` (the
EIP-712 domain), ``mode``:

- ``honest``: a real ``SyncService`` over a ``FeedIndex`` pre-filled with ``count`` free posts
  signed with ``key`` (hex; a creator without a token), all naming ``manifest`` (a CID). It
  pulls too, through a validator that knows no tokens, so it stores nothing of the daemons'
  token-holding creators.
- ``hostile``: answers ``/toktok/sync/1.0.0`` itself: heads name ``creators`` unknown
  creators at an absurd seq (2^53) with an absurd profile version, ranges and profiles
  answer with nothing. It counts every request.

Prints ``{"peer_id", "addrs"}`` as its first line, then answers one JSON line per command:
``{"id", "cmd": "connect", "args": {"addr"}}``, ``served`` (request counts), ``peers``,
``stop``; replies ``{"id", "ok": true, "result"}``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from peer.feed import validation as v
from peer.feed.builders import CreatorLog
from peer.feed.eip712 import Domain
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.testing import FakeTokenRegistry
from peer.feed.wire import MAX_JSON_NUMBER, checksum_address
from peer.p2p import HostOptions, P2PHost
from peer.sync import SyncOptions, SyncService
from peer.sync import protocol as sp

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"


async def fill(
    index: FeedIndex, validator: v.Validator, log: CreatorLog, count: int, manifest: str
) -> None:
    for _ in range(count):
        envelope, _ = log.next_post(manifest, f"synced {log.seq + 1}", 1_764_460_800 + log.seq)
        verdict = await validator.validate_envelope(envelope, 1_764_460_800 + count)
        assert isinstance(verdict, v.Accepted), verdict
        await index.writes.store(envelope, verdict.record_id)


def bogus_heads(creators: int) -> bytes:
    addrs = [checksum_address(secrets.token_bytes(20)) for _ in range(creators)]
    heads = sp.Heads(
        {a: (MAX_JSON_NUMBER, secrets.token_bytes(32)) for a in addrs},
        {a: MAX_JSON_NUMBER for a in addrs},
    )
    return sp.encode_heads(heads)


class Hostile:
    def __init__(self, creators: int) -> None:
        self.served: Counter[str] = Counter()
        self._heads = bogus_heads(creators)

    async def handle(self, peer: str, data: bytes) -> bytes:
        request = sp.decode_request(data, sp.Limits())
        if isinstance(request, sp.HeadsRequest):
            self.served["heads"] += 1
            return self._heads
        self.served["range" if isinstance(request, sp.RangeRequest) else "profiles"] += 1
        return sp.encode_records(sp.Records(()))


async def main(data: Path, options: dict[str, Any]) -> None:
    domain = Domain(int(options["chain_id"]), str(options["factory"]))
    quiet: dict[str, Any] = {"dht": "off"} if "dht" in HostOptions.__dataclass_fields__ else {}
    host = P2PHost(replace(HostOptions(identity_path=data / "p2p" / "identity.key"), **quiet))
    await host.start()
    index: FeedIndex | None = None
    sync: SyncService | None = None
    hostile: Hostile | None = None
    try:
        if options["mode"] == "hostile":
            hostile = Hostile(int(options.get("creators", 1000)))
            await host.serve(sp.PROTOCOL_ID, hostile.handle)
        else:
            index = FeedIndex(IndexOptions(data / "index" / "feed.sqlite"))
            await index.start()
            validator = v.Validator(domain, FakeTokenRegistry({}), index.view)
            log = CreatorLog(domain, bytes.fromhex(str(options["key"])))
            manifest = str(options.get("manifest", MANIFEST))
            await fill(index, validator, log, int(options["count"]), manifest)
            sync = SyncService(host, index.sync, validator, SyncOptions(interval_s=3600.0))
            await sync.start()
        print(json.dumps({"peer_id": host.peer_id, "addrs": host.addrs}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            request = json.loads(line)
            cmd, args = request["cmd"], request.get("args", {})
            result: Any = None
            if cmd == "stop":
                print(json.dumps({"id": request["id"], "ok": True}), flush=True)
                break
            if cmd == "connect":
                result = await host.connect(args["addr"])
            elif cmd == "served":
                result = dict(hostile.served) if hostile else dict(sync.stats if sync else {})
            elif cmd == "peers":
                result = [p.peer_id for p in host.peers()]
            print(json.dumps({"id": request["id"], "ok": True, "result": result}), flush=True)
    finally:
        if sync is not None:
            await sync.stop()
        await host.stop()
        if index is not None:
            await index.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), json.loads(sys.argv[2])))
