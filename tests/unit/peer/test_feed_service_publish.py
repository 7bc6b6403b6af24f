"""The user's own records: concurrent publishes extend the log one after the other, never fork
it; following oneself is refused; a follow change wins even within the same second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from peer.bus import EventBus
from peer.daemon.feed import FeedService
from peer.errors import SelfFollowError
from peer.p2p.testing import FakeHost, FakeNetwork

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"


@dataclass(frozen=True)
class _Deployment:
    chain_id: int = 31337
    factory: str = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


class _SlowChainClient:
    """Token lookups that yield to the event loop, as a real RPC round trip does."""

    async def token_of(self, creator: str) -> str | None:
        await asyncio.sleep(0.01)
        return None

    async def block_number(self) -> int:
        return 1


@dataclass
class _Chain:
    deployment: _Deployment
    client: _SlowChainClient


@dataclass
class _Wallet:
    account: Any

    @property
    def address(self) -> str:
        return str(self.account.address)


async def _started(
    tmp_path: Path, seed: bytes, clock: Callable[[], float] = time.time
) -> tuple[FakeHost, _Wallet, FeedService]:
    """A started fake host and a started FeedService of the wallet made from ``seed``."""
    host = FakeNetwork().host()
    await host.start()
    wallet = _Wallet(Account.from_key(keccak(seed)))
    service = FeedService(
        tmp_path,
        host,
        _Chain(_Deployment(), _SlowChainClient()),  # type: ignore[arg-type]
        wallet,  # type: ignore[arg-type]
        EventBus(),
        clock,
    )
    await service.start()
    return host, wallet, service


async def test_concurrent_publishes_extend_the_log_in_order(tmp_path: Path) -> None:
    host, wallet, service = await _started(tmp_path, b"publishing creator")
    try:
        ids = await asyncio.gather(*(service.publish_post(MANIFEST, f"clip {n}") for n in range(5)))
        assert len(set(ids)) == 5
        info = await service.index.queries.creator_info(wallet.address)
        assert info is not None
        assert info.head_seq == 5
        assert not info.forked
    finally:
        await service.stop()
        await host.stop()


async def test_following_oneself_is_refused_and_signs_nothing(tmp_path: Path) -> None:
    host, wallet, service = await _started(tmp_path, b"self follower")
    try:
        with pytest.raises(SelfFollowError, match="cannot follow yourself"):
            await service.follow(wallet.address.lower(), True)
        assert await service.index.queries.followed(wallet.address) == []
        await service.follow(wallet.address, False)  # unfollowing oneself stays allowed (repair)
    finally:
        await service.stop()
        await host.stop()


async def test_a_follow_change_within_the_same_second_wins(tmp_path: Path) -> None:
    """Each follow record is dated after the current one: with a clock stuck on one second,
    follow, unfollow, follow, unfollow end unfollowed (by id alone, half would not)."""
    host, wallet, service = await _started(tmp_path, b"quick follower", lambda: 1_700_000_000.0)
    creators = [str(Account.from_key(keccak(b"creator %d" % n)).address) for n in range(4)]
    try:
        for on in (True, False, True, False, True):
            for creator in creators:
                await service.follow(creator, on)
            followed = await service.index.queries.followed(wallet.address)
            assert followed == (sorted(creators) if on else []), on
        state = await service.index.queries.follow_state(wallet.address, creators[0])
        assert state == (True, 1_700_000_000 + 4)
    finally:
        await service.stop()
        await host.stop()
