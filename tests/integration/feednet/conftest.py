"""Three real daemons on one devnet, shared by the tests of this folder.

Topology (all 127.0.0.1)::

    A (creator, runs the devnet)  <->  B  <->  C        (C never connects to A)
                                       ^
                                       M (raw libp2p host: publishes whatever bytes it is given)

A has a creator token, so its posts go on the global posts topic as well as its creator
topic. B and C join A's chain over RPC with imported anvil dev keys. The tests also sign
records for creator X (anvil dev key 7, with a registered token), whose key they know.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.feednet import (
    Net,
    Processes,
    RawPeer,
    api,
    base_env,
    connect,
    create_token,
    daemon_addr,
    daemon_peer_id,
    deployment_domain,
    eventually,
    import_key,
    started,
    tiny_clip,
)

from peer.feed.gossip import TOPIC_POSTS
from peer.feed.signatures import address_of
from tokens.devnet import DEV_PRIVATE_KEYS

PASSPHRASE = "feednet passphrase"


@pytest.fixture(scope="package")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("feednet")
    with started(Processes()) as procs, ThreadPoolExecutor(4) as pool:
        env = base_env(root)
        clip = pool.submit(tiny_clip, root / "clips")
        import_key(root / "b", DEV_PRIVATE_KEYS[5], PASSPHRASE)
        import_key(root / "c", DEV_PRIVATE_KEYS[6], PASSPHRASE)
        a = procs.daemon(root / "a", {**env, "TOKTOK_CHAIN_MODE": "devnet"})
        rpc_url = api(a).get("/api/v1/status")["chain"]["rpc_url"]
        deployment = root / "a" / "devnet" / "deployment.json"
        rpc_env = {
            **env,
            "TOKTOK_CHAIN_MODE": "rpc",
            "TOKTOK_CHAIN_RPC_URL": rpc_url,
            "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(deployment),
            "TOKTOK_PASSPHRASE": PASSPHRASE,
        }
        x_key = DEV_PRIVATE_KEYS[7]
        x_token = pool.submit(create_token, rpc_url, deployment, x_key, "Creator X", "XX")
        b = pool.submit(procs.daemon, root / "b", rpc_env)
        c = pool.submit(procs.daemon, root / "c", rpc_env)
        m = RawPeer(procs, root / "m" / "identity.key", {"gossip": {"max_message_size": 65536}})
        a_token = api(a).post("/api/v1/token", {"name": "Ana", "symbol": "ANA"})["address"]
        a_creator = api(a).get("/api/v1/profile")["address"]
        connect(b.result(), daemon_addr(a))
        connect(c.result(), daemon_addr(b.result()))
        connect(b.result(), m.addrs[0])
        key = bytes.fromhex(x_key.removeprefix("0x"))
        network = Net(
            root, procs, a, b.result(), c.result(), m, rpc_env, deployment_domain(deployment),
            clip.result(), a_creator, a_token, key, address_of(key), x_token.result(),
        )  # fmt: skip
        b_id = daemon_peer_id(network.b)
        eventually(lambda: b_id in m.call("topic_peers", topic=TOPIC_POSTS))
        yield network
