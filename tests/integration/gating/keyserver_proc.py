"""A key-server peer in its own process (test harness): a real libp2p host serving
/toktok/keys/1.0.0 and the delegation protocol, over its own clip-key store.

Usage: python keyserver_proc.py CONFIG_JSON. Prints one JSON line {"addr": ...} when ready,
then a JSON line of counters and exits when stdin closes."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from peer.gating.delegation import DelegateReceiver
from peer.gating.ports import GatedPost, MemoryPosts
from peer.gating.server import KeyServer
from peer.p2p import HostOptions, P2PHost
from storage.clipkeys import ClipKeyStore, ScryptParams
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import Deployment
from tokens.ownership import OwnershipChecker


async def main(config: dict[str, object]) -> None:
    data = Path(str(config["data_dir"]))
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    host = P2PHost(HostOptions(identity_path=data / "p2p" / "identity.key"))
    await host.start()
    keys = ClipKeyStore(data / "keys", str(config["passphrase"]), kdf=ScryptParams(2**4, 1, 1))
    posts = MemoryPosts()
    p = config["post"]
    assert isinstance(p, dict)
    posts.add(GatedPost(bytes.fromhex(p["id"]), p["creator"], p["token"], p["manifest"], True,
                        int(p["minBalance"]), ()))  # fmt: skip
    deployment = Deployment.from_json(config["deployment"])
    chain = ChainClient(ClientOptions(rpc_url=str(config["rpc_url"]), deployment=deployment))
    server = KeyServer(
        host, keys, posts, OwnershipChecker(chain, lag=2), int(str(config["chain_id"]))
    )
    receiver = DelegateReceiver(host, keys, str(p["creator"]))
    await server.start()
    await receiver.start()
    print(json.dumps({"addr": host.addrs[0]}), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    print(json.dumps({"released": server.released, "refused": dict(server.refused)}), flush=True)
    await server.stop()
    await host.stop()
    await chain.close()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
