"""The token link and the validator against a real chain: anvil with the deployed factory.

The TokenRegistry conformance checks run against the fake, the cache over the fake, and the
real ``tokens`` chain client (and the cache over it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from eth_account import Account

from peer.feed.builders import CreatorLog
from peer.feed.eip712 import Domain
from peer.feed.errors import RegistryUnavailable
from peer.feed.ports import TokenRegistry
from peer.feed.records import ZERO_ADDRESS
from peer.feed.testing import FakeTokenRegistry, MemoryFeedView
from peer.feed.token_link import CachedTokenRegistry
from peer.feed.validation import Accepted, Rejected, RejectReason, Validator
from peer.feed.wire import encode
from tokens.client import ChainClient, ClientOptions
from tokens.devnet import DEV_PRIVATE_KEYS, Devnet, DevnetInfo, DevnetOptions, find_anvil
from tokens.errors import ChainUnavailableError

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
CREATOR_KEY = bytes.fromhex(DEV_PRIVATE_KEYS[3].removeprefix("0x"))
PLAIN_KEY = bytes.fromhex(DEV_PRIVATE_KEYS[4].removeprefix("0x"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetInfo, str]]:
    state_dir = tmp_path_factory.mktemp("feed-devnet")
    options = DevnetOptions(state_dir=state_dir, anvil=find_anvil(ROOT), block_time=0.5)
    async with Devnet(options) as info:
        account = Account.from_key(CREATOR_KEY)
        client_options = ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment)
        async with ChainClient(client_options, account) as client:
            token = await client.create_token("Feed Creator", "FEED")
        yield info, token


def _client(info: DevnetInfo) -> ChainClient:
    return ChainClient(ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment), None)


async def _conformance(registry: TokenRegistry, creator: str, token: str, plain: str) -> None:
    assert await registry.token_of(creator) == token
    assert await registry.token_of(plain) is None
    first = await registry.block_number()
    assert first >= 1
    assert await registry.block_number() >= first


async def test_registry_conformance_on_fake_and_real_chain(
    chain: tuple[DevnetInfo, str],
) -> None:
    info, token = chain
    creator = Account.from_key(CREATOR_KEY).address
    plain = Account.from_key(PLAIN_KEY).address
    fake = FakeTokenRegistry({creator: token})
    await _conformance(fake, creator, token, plain)
    await _conformance(CachedTokenRegistry(fake), creator, token, plain)
    async with _client(info) as client:
        await _conformance(client, creator, token, plain)
        await _conformance(
            CachedTokenRegistry(client, unavailable=(ChainUnavailableError,)),
            creator,
            token,
            plain,
        )


async def test_validator_checks_posts_against_the_factory(chain: tuple[DevnetInfo, str]) -> None:
    info, token = chain
    domain = Domain(info.chain_id, info.deployment.factory)
    now = int(time.time())
    async with _client(info) as client:
        registry = CachedTokenRegistry(client, unavailable=(ChainUnavailableError,))
        validator = Validator(domain, registry, MemoryFeedView())
        good, _ = CreatorLog(domain, CREATOR_KEY, token).next_post(MANIFEST, "real", now)
        assert isinstance(await validator.validate(encode(good), now), Accepted)
        claimed, _ = CreatorLog(domain, PLAIN_KEY, token).next_post(MANIFEST, "x", now)
        verdict = await validator.validate(encode(claimed), now)
        assert isinstance(verdict, Rejected)
        assert verdict.reason is RejectReason.WRONG_TOKEN
        # A free post with the zero token is valid whatever the registry says now (feed rules:
        # the creator may have posted it before creating a token).
        early, _ = CreatorLog(domain, CREATOR_KEY, ZERO_ADDRESS).next_post(MANIFEST, "x", now)
        assert isinstance(await validator.validate(encode(early), now), Accepted)
        plain, _ = CreatorLog(domain, PLAIN_KEY, ZERO_ADDRESS).next_post(MANIFEST, "free", now)
        assert isinstance(await validator.validate(encode(plain), now), Accepted)


async def test_unreachable_chain_is_registry_unavailable(chain: tuple[DevnetInfo, str]) -> None:
    info, _token = chain
    options = ClientOptions(rpc_url="http://127.0.0.1:9", deployment=info.deployment, timeout=2)
    async with ChainClient(options, None) as client:
        registry = CachedTokenRegistry(client, unavailable=(ChainUnavailableError,))
        with pytest.raises(RegistryUnavailable):
            await registry.token_of(Account.from_key(PLAIN_KEY).address)
