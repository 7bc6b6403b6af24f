"""Key release between real libp2p hosts on loopback with a real anvil; decrypted playback
over HTTP Range reads; delegation; no clip key at rest or in logs in any data dir."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from peer.gating import protocol as proto
from peer.gating.buy import buy_and_wait, plan_buy
from peer.gating.delegation import DelegateReceiver, delegate_keys
from peer.gating.errors import KeyRefusedError, LockedError, UnlockFailedError
from peer.gating.http import media_response
from peer.gating.playback import decrypted_media
from peer.gating.ports import GatedPost, MemoryPosts
from peer.gating.server import KeyServer
from peer.gating.testing import PremiumClip, store_premium_clip
from peer.gating.unlocker import Unlocker
from peer.p2p import HostOptions, P2PHost
from storage.clipkeys import ClipKeyStore, ScryptParams
from storage.crypto import ClipKey
from storage.embedded import EmbeddedContentStore
from tokens import siwe
from tokens.client import ChainClient, ClientOptions
from tokens.devnet import DEV_PRIVATE_KEYS, DevnetInfo
from tokens.ownership import OwnershipChecker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
ONE = 10**18
KDF = ScryptParams(n=2**4, r=1, p=1)
CHAIN = 31337


def account(i: int) -> LocalAccount:
    acct: LocalAccount = Account.from_key(DEV_PRIVATE_KEYS[i])
    return acct


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class Net:
    devnet: DevnetInfo
    tmp: Path
    creator_host: P2PHost
    holder_host: P2PHost
    server: KeyServer
    creator_keys: ClipKeyStore
    store: EmbeddedContentStore
    posts: MemoryPosts
    post: GatedPost
    clip: PremiumClip
    clients: list[ChainClient]
    hosts: list[P2PHost]

    def client(self, i: int | None, **kw: Any) -> ChainClient:
        options = ClientOptions(
            rpc_url=self.devnet.rpc_url, deployment=self.devnet.deployment, **kw
        )
        c = ChainClient(options, account(i) if i is not None else None)
        self.clients.append(c)
        return c

    async def host(self, name: str) -> P2PHost:
        h = P2PHost(HostOptions(identity_path=self.tmp / name / "p2p" / "identity.key"))
        await h.start()
        self.hosts.append(h)
        return h

    def unlocker(self, i: int, name: str, host: P2PHost | None = None) -> Unlocker:
        cache = ClipKeyStore(self.tmp / name / "keys" / "released", "holder pass", kdf=KDF)
        return Unlocker(host or self.holder_host, account(i), CHAIN, cache, self.store, self.posts)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(devnet: DevnetInfo, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    tmp = tmp_path_factory.mktemp("gating")
    n = Net(devnet, tmp, None, None, None, None, None, MemoryPosts(), None, None, [], [])  # type: ignore[arg-type]
    creator_chain = n.client(1)
    token = await creator_chain.create_token("Gated", "GTD")
    n.creator_host = await n.host("creator")
    n.holder_host = await n.host("holder")
    n.store = EmbeddedContentStore.memory()
    n.clip = await store_premium_clip(n.store, account(1).address)
    n.creator_keys = ClipKeyStore(tmp / "creator" / "keys", "creator pass", kdf=KDF)
    await asyncio.to_thread(n.creator_keys.put, n.clip.manifest_cid, n.clip.key)
    n.post = GatedPost(
        b"\x42" * 32, account(1).address, token, n.clip.manifest_cid, True, 2 * ONE,
        (n.creator_host.addrs[0],),
    )  # fmt: skip
    n.posts.add(n.post)
    reader = n.client(None)
    n.server = KeyServer(
        n.creator_host, n.creator_keys, n.posts, OwnershipChecker(reader, lag=2), CHAIN,
        signatures=reader,
    )  # fmt: skip
    await n.server.start()
    yield n
    for h in n.hosts:
        await h.stop()
    for c in n.clients:
        await c.close()


async def wait_holding(net: Net, i: int, amount: int) -> None:
    checker = OwnershipChecker(net.client(None), lag=2)
    for _ in range(100):
        if await checker.holds(net.post.token, account(i).address, amount):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the holding rule was not met within 20 s")


async def buy(n: Net, i: int, amount: int) -> None:
    await n.client(i).buy(n.post.token, amount)


async def test_non_holder_refused_then_buyer_unlocks_after_the_lag_and_plays(net: Net) -> None:
    unlocker = net.unlocker(2, "holder")
    with pytest.raises(UnlockFailedError) as info:
        await unlocker.unlock(net.post)
    assert info.value.code == "not_holder"

    await buy(net, 2, 2 * ONE)  # within the lag: still refused
    with pytest.raises(UnlockFailedError) as info:
        await unlocker.unlock(net.post)
    assert info.value.code == "not_holder"

    await wait_holding(net, 2, net.post.min_balance)
    assert await unlocker.unlock(net.post) == net.clip.key

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            media = await decrypted_media(
                net.post,
                request.match_info["r"],
                net.store,
                [unlocker._cache],
            )
        except LockedError as exc:
            return web.json_response(exc.requirements.to_json(), status=402)
        return await media_response(request, media)

    app = web.Application()
    app.router.add_get("/media/{r}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    plain = net.clip.plaintexts["720p"]
    try:
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{port}/media/720p"
            got = bytearray()
            for start in range(0, len(plain), 50_000):
                hdr = {"Range": f"bytes={start}-{start + 49_999}"}
                async with http.get(url, headers=hdr) as resp:
                    assert resp.status == 206
                    got += await resp.read()
            assert bytes(got) == plain
            async with http.get(url) as resp:
                assert resp.status == 200
                assert await resp.read() == plain
            async with http.get(url, headers={"Range": f"bytes={len(plain)}-"}) as resp:
                assert resp.status == 416
    finally:
        await runner.cleanup()


async def test_playback_without_key_answers_402_with_requirements(net: Net) -> None:
    viewer = account(5).address
    with pytest.raises(LockedError) as info:
        await decrypted_media(
            net.post, "720p", net.store, [ClipKeyStore(net.tmp / "v5", "x", kdf=KDF)],
            viewer=viewer, checker=OwnershipChecker(net.client(None)), quoter=net.client(None),
        )  # fmt: skip
    req = info.value.requirements
    assert (req.balance, req.missing) == (0, net.post.min_balance)
    assert req.quote_buy is not None
    assert req.quote_buy > 0


async def test_a_holder_who_sold_is_refused_at_once(net: Net) -> None:
    seller = net.client(3)
    await seller.buy(net.post.token, 2 * ONE)
    await wait_holding(net, 3, 2 * ONE)
    await seller.sell(net.post.token, ONE)
    with pytest.raises(UnlockFailedError) as info:
        await net.unlocker(3, "seller").unlock(net.post)
    assert info.value.code == "not_holder"


async def test_unlock_with_buy_quotes_buys_waits_and_unlocks(net: Net) -> None:
    buyer = net.client(6, spend_limit=10**6 * ONE)
    checker = OwnershipChecker(net.client(None), lag=2)
    plan = await plan_buy(net.post, account(6).address, checker, buyer, slippage_bps=100)
    assert plan is not None
    assert plan.amount == net.post.min_balance

    async def yes(p: Any) -> bool:
        return True

    await buy_and_wait(net.post, account(6).address, checker, buyer, plan, yes, timeout=30)
    assert await net.unlocker(6, "buyer").unlock(net.post) == net.clip.key


async def raw_key_request(
    net: Net, text_for: Any, key: str | None = None, post: bytes | None = None
) -> str:
    server = net.creator_host.peer_id
    await net.holder_host.connect(net.creator_host.addrs[0])
    raw = await net.holder_host.request(server, proto.PROTOCOL, proto.encode_nonce_request())
    grant = proto.decode_response(raw)
    assert isinstance(grant, proto.NonceGrant)
    text = text_for(grant.nonce)
    sig = siwe.sign(text, key or account(4).key)
    req = proto.KeyRequest(post or net.post.post_id, text, sig)
    raw = await net.holder_host.request(server, proto.PROTOCOL, proto.encode_key_request(req))
    resp = proto.decode_response(raw)
    assert isinstance(resp, KeyRefusedError), resp
    return resp.code


def msg(net: Net, nonce: str, **changes: Any) -> str:
    now = datetime.now(UTC)
    epk = proto.public_bytes(X25519PrivateKey.generate())
    res = proto.Resources(net.post.post_id, net.creator_host.peer_id, epk).to_tuple()
    fields: dict[str, Any] = {
        "domain": "toktok", "address": account(4).address, "uri": "toktok:x", "chain_id": CHAIN,
        "nonce": nonce, "issued_at": siwe.format_time(now),
        "expiration_time": siwe.format_time(now + timedelta(minutes=5)), "resources": res,
    }  # fmt: skip
    fields.update(changes)
    return siwe.SiweMessage(**fields).to_text()


async def test_refusals_over_real_hosts(net: Net) -> None:
    old = datetime.now(UTC) - timedelta(minutes=20)
    other_post = dataclasses.replace(net.post, post_id=b"\x43" * 32)
    net.posts.add(other_post)
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (lambda n: msg(net, n, domain="evil.example"), {}, "domain"),
        (lambda n: msg(net, n, chain_id=1), {}, "chain"),
        (lambda n: msg(net, n, issued_at=siwe.format_time(old),
                       expiration_time=siwe.format_time(old + timedelta(minutes=5))),
         {}, "expired"),
        (lambda n: msg(net, n, resources=()), {}, "resources"),
        (lambda n: msg(net, n, resources=("toktok:post:0x1",)), {}, "resources"),
        (lambda n: msg(net, n), {"post": other_post.post_id}, "wrong_post"),
        (lambda n: msg(net, n), {"key": DEV_PRIVATE_KEYS[7]}, "signature"),
        (lambda n: msg(net, n), {}, "not_holder"),
    ]  # fmt: skip
    for text_for, kw, code in cases:
        assert await raw_key_request(net, text_for, **kw) == code
    # a reused nonce
    texts: list[str] = []

    def remember(n: str) -> str:
        texts.append(msg(net, n))
        return texts[-1]

    await raw_key_request(net, remember)
    assert await raw_key_request(net, lambda n: texts[0]) == "nonce"


async def test_chain_unreachable_fails_closed(net: Net) -> None:
    host = await net.host("deadchain")
    dead = ChainClient(
        ClientOptions(
            rpc_url=f"http://127.0.0.1:{free_port()}", deployment=net.devnet.deployment, timeout=2
        ),
        None,
    )
    net.clients.append(dead)
    server = KeyServer(host, net.creator_keys, net.posts, OwnershipChecker(dead), CHAIN)
    await server.start()
    post = dataclasses.replace(net.post, key_servers=(host.addrs[0],))
    with pytest.raises(UnlockFailedError) as info:
        await net.unlocker(2, "deadchain-holder").unlock(post)
    assert info.value.code == "chain_unavailable"
    assert server.released == 0


async def test_delegate_serves_keys_with_the_creator_stopped(net: Net) -> None:
    host = await net.host("delegate")
    delegate_keys_store = ClipKeyStore(net.tmp / "delegate" / "keys", "delegate pass", kdf=KDF)
    receiver = DelegateReceiver(host, delegate_keys_store, account(1).address)
    await receiver.start()
    ids = await asyncio.to_thread(net.creator_keys.ids)
    keys = {cid: await asyncio.to_thread(net.creator_keys.get, cid) for cid in ids}
    assert await delegate_keys(net.creator_host, host.addrs[0], keys, account(1)) == len(ids)
    delegate = KeyServer(
        host, delegate_keys_store, net.posts, OwnershipChecker(net.client(None), lag=2), CHAIN
    )
    await delegate.start()
    net.posts.profiles[net.post.creator.lower()] = (host.addrs[0],)
    await net.creator_host.stop()
    fresh = net.unlocker(2, "holder-again")
    assert await fresh.unlock(net.post) == net.clip.key
    assert delegate.released == 1


async def test_key_server_in_its_own_process(net: Net) -> None:
    """The creator's second peer runs in a separate process; the creator delegates to it and
    a holder unlocks from it."""
    config = {
        "data_dir": str(net.tmp / "proc"), "passphrase": "proc pass",
        "rpc_url": net.devnet.rpc_url, "chain_id": CHAIN,
        "deployment": net.devnet.deployment.to_json(),
        "post": {"id": net.post.post_id.hex(), "creator": net.post.creator,
                 "token": net.post.token, "manifest": net.post.manifest,
                 "minBalance": str(net.post.min_balance)},
    }  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("keyserver_proc.py")), json.dumps(config),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
        keys = {net.post.manifest: net.clip.key}
        sender = await net.host("creator-2")
        assert await delegate_keys(sender, ready["addr"], keys, account(1)) == 1
        post = dataclasses.replace(net.post, key_servers=(ready["addr"],))
        assert await net.unlocker(2, "proc-holder").unlock(post) == net.clip.key
        proc.stdin.close()
        counters = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        assert counters["released"] == 1
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    (net.tmp / "proc" / "log.txt").write_bytes(stderr)  # scanned for keys below


def forms(key: bytes) -> list[bytes]:
    out = [key, key.hex().encode(), key.hex().upper().encode()]
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(key)
        out += [full, full.rstrip(b"=")]
    return out


def leaks(root: Path, key: bytes) -> list[Path]:
    needles = forms(key)
    return [p for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]


async def test_no_clip_key_in_any_file_or_log(net: Net, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    unlocker = net.unlocker(2, "scan-holder")
    post = dataclasses.replace(net.post, key_servers=(net.hosts[-1].addrs[0],))
    assert await unlocker.unlock(post) == net.clip.key
    files = [p for p in net.tmp.rglob("*") if p.is_file()]
    assert len(files) > 5
    assert leaks(net.tmp, net.clip.key.reveal()) == []
    for needle in forms(net.clip.key.reveal())[1:]:  # text forms (raw bytes are not text)
        assert needle.decode() not in caplog.text
    # the scanner itself finds a key written in any of the forms
    canary = ClipKey.generate().reveal()
    for i, form in enumerate(forms(canary)):
        (net.tmp / "canary" / str(i)).parent.mkdir(exist_ok=True)
        (net.tmp / "canary" / str(i)).write_bytes(b"x" + form + b"y")
    assert len(leaks(net.tmp, canary)) == len(forms(canary))
