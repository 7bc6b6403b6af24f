"""OwnershipChecker against the in-memory fake: the holding rule, cache, fail-closed."""

from __future__ import annotations

import itertools

import pytest

from tokens.conformance import check_holding_rule, check_window_rule
from tokens.errors import ChainError, ChainUnavailableError
from tokens.ownership import OwnershipChecker, window_blocks
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

    async def send(self, src: str, dst: str, amount: int) -> None:
        self.chain.transfer(self.token, src, dst, amount)


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
    assert cached.reads == 3  # head balance, lagged balance, outgoing transfers
    assert uncached.reads == 30


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


class BrokenSource(FakeChain):
    async def balance_at(self, token: str, holder: str, block_hash: str) -> int:
        raise RuntimeError("boom")


async def test_foreign_source_errors_become_chain_errors() -> None:
    with pytest.raises(ChainError):
        await OwnershipChecker(BrokenSource()).holds(TOKEN, HOLDER, 1)


def test_negative_lag_is_refused() -> None:
    with pytest.raises(ValueError, match="lag"):
        OwnershipChecker(FakeChain(), lag=-1)


@pytest.mark.parametrize("lag", [1, 2, 5])
async def test_fake_chain_passes_the_window_conformance_suite(lag: int) -> None:
    world = FakeWorld()
    world.chain.set_balance(TOKEN, HOLDER, 10)
    world.chain.mine(lag)
    await check_window_rule(world, HOLDER, OTHER, 10, lag=lag)


OTHER = "0x" + "33" * 20


def _addresses(n: int) -> list[str]:
    return ["0x" + f"{i + 0x40:02x}" * 20 for i in range(n)]


async def test_a_stake_relayed_along_six_addresses_unlocks_one_per_window() -> None:
    chain, lag = FakeChain(), 3
    checker = OwnershipChecker(chain, lag=lag)
    addrs = _addresses(6)
    chain.set_balance(TOKEN, addrs[0], 10)
    chain.mine(lag)
    unlocked: set[str] = set()
    for src, dst in itertools.pairwise(addrs):
        for a in addrs:  # a check by every address after every block, as an attacker would
            if await checker.holds(TOKEN, a, 10):
                unlocked.add(a)
        chain.transfer(TOKEN, src, dst, 10)
    for _ in range(lag + 1):
        for a in addrs:
            if await checker.holds(TOKEN, a, 10):
                unlocked.add(a)
        chain.mine()
    # passed on every block, only the first (held a whole window) and last address qualify
    assert unlocked == {addrs[0], addrs[-1]}


async def test_relay_slower_than_the_window_needs_a_window_per_address() -> None:
    chain, lag = FakeChain(), 3
    checker = OwnershipChecker(chain, lag=lag)
    a, b = _addresses(2)
    chain.set_balance(TOKEN, a, 10)
    chain.mine(lag)
    assert await checker.holds(TOKEN, a, 10)
    chain.transfer(TOKEN, a, b, 10)
    blocks_until_b = 0
    while not await checker.holds(TOKEN, b, 10):
        chain.mine()
        blocks_until_b += 1
    assert blocks_until_b == lag


async def test_ping_pong_every_block_unlocks_neither_address() -> None:
    chain, lag = FakeChain(), 2
    checker = OwnershipChecker(chain, lag=lag)
    a, b = _addresses(2)
    chain.set_balance(TOKEN, a, 10)
    passes = {a: 0, b: 0}
    for i in range(10):
        src, dst = (a, b) if i % 2 == 0 else (b, a)
        chain.transfer(TOKEN, src, dst, 10)
        for x in (a, b):
            passes[x] += await checker.holds(TOKEN, x, 10)
    assert passes == {a: 0, b: 0}


async def test_incoming_tokens_inside_the_window_do_not_cover_outgoing_ones() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain, lag=3)
    chain.set_balance(TOKEN, HOLDER, 10)
    chain.mine(3)
    chain.transfer(TOKEN, HOLDER, OTHER, 10)
    chain.add(TOKEN, HOLDER, 10)  # bought back in the window
    h = await checker.holding(TOKEN, HOLDER)
    assert (h.balance_lagged, h.outgoing, h.balance_head, h.effective) == (10, 10, 10, 0)


async def test_a_reorg_changes_the_hash_so_no_stale_balance_is_served() -> None:
    chain = FakeChain()
    checker = OwnershipChecker(chain, lag=2)
    chain.set_balance(TOKEN, HOLDER, 7)
    chain.mine(4)
    head = chain.head
    assert await checker.holds(TOKEN, HOLDER, 7)
    chain.reorg(6)  # the block with the buy is replaced; same height, new hashes
    assert chain.head == head
    assert not await checker.holds(TOKEN, HOLDER, 7)


@pytest.mark.parametrize(
    ("window_s", "block_time_s", "blocks"),
    [(2, 1, 2), (3, 2, 2), (0, 1, 0), (0.5, 1, 1), (4 * 3600, 2, 7200), (3600, 12, 300)],
)
def test_window_in_seconds_becomes_whole_blocks_rounded_up(
    window_s: float, block_time_s: float, blocks: int
) -> None:
    assert window_blocks(window_s, block_time_s) == blocks


def test_window_needs_a_positive_block_time() -> None:
    with pytest.raises(ValueError, match="block time"):
        window_blocks(10, 0)
    with pytest.raises(ValueError, match="window"):
        window_blocks(-1, 1)
