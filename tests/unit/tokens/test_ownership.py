"""OwnershipChecker against the in-memory fake: the holding rule, cache, fail-closed."""

from __future__ import annotations

import pytest

from tokens.conformance import check_holding_rule
from tokens.errors import ChainError, ChainUnavailableError
from tokens.ownership import OwnershipChecker
from tokens.testing import FakeChain

TOKEN = "0x" + "11" * 20
HOLDER = "0x" + "22" * 20


class FakeWorld:
    def __init__(self) -> None:
        self.chain = FakeChain()
        self.source = self.chain
        self.token = TOKEN

    async def acquire(self, holder: str, amount: int) -> None:
        self.chain.add(self.token, holder, amount)

    async def release(self, holder: str, amount: int) -> None:
        self.chain.add(self.token, holder, -amount)

    async def advance(self, blocks: int) -> None:
        self.chain.mine(blocks)


@pytest.mark.parametrize("lag", [1, 2, 5])
async def test_fake_chain_passes_the_holding_conformance_suite(lag: int) -> None:
    await check_holding_rule(FakeWorld(), HOLDER, 10**18, lag=lag)


async def test_buy_counts_exactly_after_lag_blocks() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain, lag=2)
    chain.set_balance(TOKEN, HOLDER, 5)
    assert not await checker.holds(TOKEN, HOLDER, 5)
    chain.mine(1)
    assert not await checker.holds(TOKEN, HOLDER, 5)
    chain.mine(1)
    assert await checker.holds(TOKEN, HOLDER, 5)


async def test_lag_zero_uses_the_head_only() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain, lag=0)
    chain.set_balance(TOKEN, HOLDER, 5)
    assert await checker.holds(TOKEN, HOLDER, 5)


async def test_addresses_are_case_insensitive() -> None:
    chain = FakeChain()
    chain.set_balance(TOKEN, HOLDER.upper().replace("0X", "0x"), 3)
    chain.mine(3)
    assert await OwnershipChecker(chain).holds(TOKEN.upper().replace("0X", "0x"), HOLDER, 3)


async def test_cache_serves_repeated_checks_in_one_block() -> None:
    chain = FakeChain()
    chain.set_balance(TOKEN, HOLDER, 7)
    chain.mine(5)
    cached, uncached = OwnershipChecker(chain), OwnershipChecker(chain, cache=False)
    for _ in range(10):
        assert await cached.holds(TOKEN, HOLDER, 7)
        assert await uncached.holds(TOKEN, HOLDER, 7)
    assert cached.reads == 2
    assert uncached.reads == 20


async def test_cache_is_keyed_by_block_so_a_sale_is_seen_at_once() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain)
    chain.set_balance(TOKEN, HOLDER, 7)
    chain.mine(5)
    assert await checker.holds(TOKEN, HOLDER, 7)
    chain.set_balance(TOKEN, HOLDER, 0)
    assert not await checker.holds(TOKEN, HOLDER, 7)


async def test_cache_stays_bounded() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain, max_entries=4)
    for _ in range(10):
        chain.mine()
        await checker.holds(TOKEN, HOLDER, 0)
    assert len(checker._cache) <= 4


async def test_unreachable_chain_fails_closed_with_a_typed_error() -> None:
    chain = FakeChain()
    chain.set_balance(TOKEN, HOLDER, 7)
    chain.mine(5)
    checker = OwnershipChecker(chain)
    assert await checker.holds(TOKEN, HOLDER, 7)
    chain.mine()
    chain.down = True
    with pytest.raises(ChainUnavailableError):
        await checker.holds(TOKEN, HOLDER, 7)


class BrokenSource:
    async def block_number(self) -> int:
        return 10

    async def balance_of(self, token: str, holder: str, block: int) -> int:
        raise RuntimeError("boom")


async def test_foreign_source_errors_become_chain_errors() -> None:
    with pytest.raises(ChainError):
        await OwnershipChecker(BrokenSource()).holds(TOKEN, HOLDER, 1)


def test_negative_lag_is_refused() -> None:
    with pytest.raises(ValueError, match="lag"):
        OwnershipChecker(FakeChain(), lag=-1)
