"""Shared by the gating unit tests: a creator peer with a key server and a holder peer, on
the in-memory p2p fake and the fake chain; one premium clip in an in-memory content store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from peer.gating.ports import GatedPost, MemoryPosts
from peer.gating.server import KeyServer
from peer.gating.testing import PremiumClip, store_premium_clip
from peer.gating.unlocker import Unlocker
from peer.p2p.testing import FakeHost, FakeNetwork
from storage.clipkeys import ClipKeyStore, ScryptParams
from storage.embedded import EmbeddedContentStore
from tokens.ownership import OwnershipChecker
from tokens.testing import FakeChain

CHAIN_ID = 31337
TOKEN = "0x" + "12" * 20
MIN = 10 * 10**18
FAST_KDF = ScryptParams(n=2**4, r=1, p=1)
HOLDER_KEY = "0x" + "4c" * 32
OTHER_KEY = "0x" + "5d" * 32


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    network: FakeNetwork
    server_host: FakeHost
    holder_host: FakeHost
    server: KeyServer
    unlocker: Unlocker
    chain: FakeChain
    checker: OwnershipChecker
    posts: MemoryPosts
    store: EmbeddedContentStore
    creator_keys: ClipKeyStore
    released: ClipKeyStore
    clip: PremiumClip
    post: GatedPost
    holder: LocalAccount
    clock: Clock
    tmp: Path

    def give_threshold(self) -> None:
        """The holder buys the threshold and the lag passes."""
        self.chain.set_balance(TOKEN, self.holder.address, MIN)
        self.chain.mine(self.checker.lag)


async def make_world(tmp_path: Path) -> World:
    network = FakeNetwork()
    server_host, holder_host = network.host(), network.host()
    await server_host.start()
    await holder_host.start()
    await holder_host.connect(server_host.addrs[0])
    store = EmbeddedContentStore.memory()
    creator = Account.from_key("0x" + "11" * 32)
    clip = await store_premium_clip(store, creator.address)
    creator_keys = ClipKeyStore(tmp_path / "creator" / "keys", "pw", kdf=FAST_KDF)
    creator_keys.put(clip.manifest_cid, clip.key)
    released = ClipKeyStore(tmp_path / "holder" / "keys" / "released", "pw2", kdf=FAST_KDF)
    post = GatedPost(
        post_id=bytes(range(32)),
        creator=creator.address,
        token=TOKEN,
        manifest=clip.manifest_cid,
        premium=True,
        min_balance=MIN,
        key_servers=(server_host.peer_id,),
    )
    posts = MemoryPosts()
    posts.add(post)
    chain = FakeChain(head=10)
    checker = OwnershipChecker(chain, lag=2)
    clock = Clock()
    server = KeyServer(server_host, creator_keys, posts, checker, CHAIN_ID, clock=clock)
    await server.start()
    holder = Account.from_key(HOLDER_KEY)
    unlocker = Unlocker(holder_host, holder, CHAIN_ID, released, store, posts, clock=clock)
    return World(
        network, server_host, holder_host, server, unlocker, chain, checker, posts, store,
        creator_keys, released, clip, post, holder, clock, tmp_path,
    )  # fmt: skip


async def close_world(w: World) -> None:
    await w.server.stop()
    await w.holder_host.stop()
    await w.server_host.stop()
