"""Delegation over the p2p fake: keys reach the delegate sealed and signed, nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from eth_account import Account
from support.gating_world import FAST_KDF, HOLDER_KEY, OTHER_KEY

from peer.gating.delegation import PROTOCOL, DelegateReceiver, DelegationError, delegate_keys
from peer.p2p.testing import FakeHost, FakeNetwork
from storage.clipkeys import ClipKeyStore
from storage.crypto import ClipKey

Pair = tuple[FakeHost, FakeHost, ClipKeyStore, DelegateReceiver]


@pytest_asyncio.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    net = FakeNetwork()
    creator, delegate = net.host(), net.host()
    await creator.start()
    await delegate.start()
    store = ClipKeyStore(tmp_path / "delegate" / "keys", "pw", kdf=FAST_KDF)
    receiver = DelegateReceiver(delegate, store, Account.from_key(HOLDER_KEY).address)
    await receiver.start()
    yield creator, delegate, store, receiver
    await receiver.stop()
    await delegate.stop()
    await creator.stop()


async def test_keys_reach_the_delegate_store(pair: Pair) -> None:
    creator, delegate, store, _ = pair
    keys = {"bafkreione1": ClipKey.generate(), "bafkreitwo2": ClipKey.generate()}
    account = Account.from_key(HOLDER_KEY)
    assert await delegate_keys(creator, delegate.addrs[0], keys, account) == 2
    assert {cid: store.get(cid) for cid in store.ids()} == keys
    assert await delegate_keys(creator, delegate.addrs[0], keys, account) == 0


async def test_a_push_signed_by_another_wallet_is_refused(pair: Pair) -> None:
    creator, delegate, store, _ = pair
    with pytest.raises(DelegationError, match="trusts"):
        await delegate_keys(
            creator, delegate.addrs[0], {"bafkreione1": ClipKey.generate()},
            Account.from_key(OTHER_KEY),
        )  # fmt: skip
    assert store.ids() == []


async def test_an_offer_is_single_use_and_a_tampered_bundle_is_refused(pair: Pair) -> None:
    creator, delegate, store, _ = pair
    peer = await creator.connect(delegate.addrs[0])
    offer = json.loads(await creator.request(peer, PROTOCOL, b'{"v":1,"op":"offer"}'))
    push = {
        "v": 1, "op": "push", "nonce": offer["nonce"], "epk": offer["epk"],
        "bundle": "AAAA" * 12, "sig": "0x" + "11" * 65,
    }  # fmt: skip
    first = json.loads(await creator.request(peer, PROTOCOL, json.dumps(push).encode()))
    assert first["ok"] is False
    again = json.loads(await creator.request(peer, PROTOCOL, json.dumps(push).encode()))
    assert again == {"v": 1, "ok": False, "error": "unknown, used or expired offer"}
    assert store.ids() == []
