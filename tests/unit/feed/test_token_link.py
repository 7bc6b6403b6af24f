"""The token cache: positive answers forever, negative ones for a block range, single flight."""

from __future__ import annotations

import asyncio

import pytest

from peer.feed.errors import RegistryUnavailable
from peer.feed.ports import FreshLookup
from peer.feed.testing import FakeTokenRegistry
from peer.feed.token_link import CachedTokenRegistry, TokenCacheOptions

CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(
    chain: FakeTokenRegistry, clock: _Clock, negative_blocks: int = 3, max_entries: int = 10
) -> CachedTokenRegistry:
    options = TokenCacheOptions(
        negative_blocks=negative_blocks, head_ttl_s=1.0, max_entries=max_entries
    )
    return CachedTokenRegistry(chain, options, clock=clock)


async def test_registered_token_is_read_from_chain_once() -> None:
    chain = FakeTokenRegistry({CREATOR: TOKEN})
    cache = _cache(chain, _Clock())
    assert [await cache.token_of(CREATOR) for _ in range(5)] == [TOKEN] * 5
    assert chain.calls == 1


async def test_missing_token_is_rechecked_after_the_block_range() -> None:
    chain = FakeTokenRegistry()
    clock = _Clock()
    cache = _cache(chain, clock, negative_blocks=3)
    assert await cache.token_of(CREATOR) is None
    chain.register(CREATOR, TOKEN)
    chain.mine(2)
    clock.now += 5
    assert await cache.token_of(CREATOR) is None  # 2 blocks later: still cached
    assert chain.calls == 1
    chain.mine(1)
    clock.now += 5
    assert await cache.token_of(CREATOR) == TOKEN  # 3 blocks later: asked again
    assert chain.calls == 2


async def test_head_is_reread_at_most_once_per_ttl() -> None:
    chain = FakeTokenRegistry()
    clock = _Clock()
    cache = _cache(chain, clock, negative_blocks=1)
    assert await cache.token_of(CREATOR) is None
    chain.register(CREATOR, TOKEN)
    chain.mine(5)
    assert await cache.token_of(CREATOR) is None  # head still cached
    clock.now += 1.5
    assert await cache.token_of(CREATOR) == TOKEN


async def test_concurrent_lookups_share_one_chain_call() -> None:
    chain = FakeTokenRegistry({CREATOR: TOKEN})
    cache = _cache(chain, _Clock())
    results = await asyncio.gather(*(cache.token_of(CREATOR) for _ in range(10)))
    assert results == [TOKEN] * 10
    assert chain.calls == 1


async def test_unreachable_chain_raises_and_is_not_cached() -> None:
    chain = FakeTokenRegistry({CREATOR: TOKEN})
    cache = _cache(chain, _Clock())
    chain.down = True
    with pytest.raises(RegistryUnavailable):
        await cache.token_of(CREATOR)
    chain.down = False
    assert await cache.token_of(CREATOR) == TOKEN


async def test_transport_errors_become_registry_unavailable() -> None:
    class Broken(FakeTokenRegistry):
        async def token_of(self, creator: str) -> str | None:
            raise ConnectionRefusedError("connection refused")

    cache = _cache(Broken(), _Clock())
    with pytest.raises(RegistryUnavailable, match="connection refused"):
        await cache.token_of(CREATOR)


async def test_cache_is_bounded_and_drops_least_recently_used() -> None:
    chain = FakeTokenRegistry({CREATOR: TOKEN, OTHER: TOKEN})
    cache = _cache(chain, _Clock(), max_entries=1)
    await cache.token_of(CREATOR)
    await cache.token_of(OTHER)
    await cache.token_of(CREATOR)
    assert chain.calls == 3


async def test_a_stale_no_token_answer_is_rechecked_before_rejecting() -> None:
    """A creator who registers a token right after a lookup is not rejected for 5 blocks."""
    inner = FakeTokenRegistry()
    cache = CachedTokenRegistry(inner)
    creator = "0x" + "11" * 20
    assert await cache.token_of(creator) is None
    inner.register(creator, "0x" + "22" * 20)
    assert await cache.token_of(creator) is None  # still the cached negative answer
    assert isinstance(cache, FreshLookup)
    assert await cache.token_of_fresh(creator) == "0x" + "22" * 20
