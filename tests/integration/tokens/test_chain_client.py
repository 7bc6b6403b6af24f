"""ChainClient against a real anvil: tokens, quotes vs results, history, limits, errors."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from support import foreign_trades

from tokens import build, siwe
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import Deployment
from tokens.devnet import DEV_PRIVATE_KEYS, DevnetInfo, fund_account
from tokens.errors import (
    ChainUnavailableError,
    DeadlineError,
    NoCreatorTokenError,
    SlippageError,
    SpendLimitError,
    TokenExistsError,
)
from tokens.ownership import OwnershipChecker

WALLET_1271 = Path(__file__).resolve().parents[2] / "contracts" / "Wallet1271.vy"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
ONE = 10**18


def client(info: DevnetInfo, key_index: int | None, **kw: object) -> ChainClient:
    account = Account.from_key(DEV_PRIVATE_KEYS[key_index]) if key_index is not None else None
    options = ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment, **kw)  # type: ignore[arg-type]
    return ChainClient(options, account)


async def test_dev_accounts_hold_minted_tok(devnet: DevnetInfo) -> None:
    async with client(devnet, None) as c:
        for key in DEV_PRIVATE_KEYS[1:]:
            assert await c.tok_balance(Account.from_key(key).address) == 1_000_000 * ONE
        assert await c.chain_id() == 31337


async def test_create_buy_sell_with_quotes_equal_to_results(devnet: DevnetInfo) -> None:
    async with client(devnet, 1) as creator, client(devnet, 2) as fan:
        with pytest.raises(NoCreatorTokenError):
            await creator.require_token_of(creator.address)
        token = await creator.create_token("Creator One", "ONE")
        assert await fan.token_of(creator.address) == token
        assert await fan.creator_of(token) == creator.address
        with pytest.raises(TokenExistsError):
            await creator.create_token("Again", "AGN")

        tok_before = await fan.tok_balance()
        quote = await fan.quote_buy(token, 3 * ONE)
        bought = await fan.buy(token, 3 * ONE)
        assert bought.total == quote.total
        assert (bought.curve_amount, bought.creator_fee) == (quote.curve_amount, quote.creator_fee)
        assert await fan.tok_balance() == tok_before - bought.total
        assert await fan.balance_of(token, fan.address) == 3 * ONE

        sell_quote = await fan.quote_sell(token, ONE)
        sold = await fan.sell(token, ONE)
        assert sold.total == sell_quote.total
        info = await fan.token_info(token)
        assert (info.total_supply, info.symbol, info.creator) == (2 * ONE, "ONE", creator.address)
        assert info.spot_price == sold.price

        history = await fan.price_history(token)
        assert [(p.trade.kind, p.supply, p.price) for p in history] == [
            ("buy", 3 * ONE, bought.price),
            ("sell", 2 * ONE, sold.price),
        ]
        assert history[0].timestamp <= history[1].timestamp
        assert await fan.holders(token) == {fan.address: 2 * ONE}
        # every creator token's trades in a block range (the social layer's trade watcher)
        trades = await fan.trades_between(bought.block, sold.block)
        assert [(t, x.kind, x.trader, x.tx_hash) for t, x in trades] == [
            (token, "buy", fan.address, bought.tx_hash),
            (token, "sell", fan.address, sold.tx_hash),
        ]
        assert await fan.trades_between(sold.block + 1, sold.block) == []


async def test_slippage_and_deadline_are_enforced(devnet: DevnetInfo) -> None:
    async with client(devnet, 3) as creator:
        token = await creator.create_token("Three", "THR")
        quote = await creator.quote_buy(token, ONE)
        with pytest.raises(SlippageError):
            await creator.buy(token, ONE, max_cost=quote.total - 1)
        with pytest.raises(DeadlineError):
            await creator.buy(token, ONE, deadline=1)
        await creator.buy(token, ONE)
        with pytest.raises(SlippageError):
            await creator.sell(token, ONE, min_refund=10**30)
        assert await creator.balance_of(token, creator.address) == ONE


async def test_spend_limit_stops_buys_before_sending(devnet: DevnetInfo) -> None:
    async with client(devnet, 4) as c:
        token = await c.create_token("Four", "FOR")
    async with client(devnet, 5, spend_limit=ONE // 10) as fan:
        await fan.buy(token, ONE)  # ~0.011 TOK with fees
        with pytest.raises(SpendLimitError):
            await fan.buy(token, 100 * ONE)
        assert await fan.balance_of(token, fan.address) == ONE
        assert 0 < fan.spent <= ONE // 10


async def test_concurrent_transactions_get_distinct_nonces(devnet: DevnetInfo) -> None:
    async with client(devnet, 6) as c:
        token = await c.create_token("Six", "SIX")
        await c.approve_tok(token, 10**30)
        trades = await asyncio.gather(*(c.buy(token, ONE, max_cost=10**24) for _ in range(5)))
        assert sorted(t.supply for t in trades) == [k * ONE for k in range(1, 6)]
        assert await c.balance_of(token, c.address) == 5 * ONE


class AnvilWorld:
    def __init__(self, c: ChainClient, token: str, *others: ChainClient) -> None:
        self.c = c
        self.source = c
        self.token = token
        self.senders = {x.address.lower(): x for x in (c, *others)}

    async def acquire(self, holder: str, amount: int) -> None:
        await self.c.buy(self.token, amount)

    async def release(self, holder: str, amount: int) -> None:
        await self.c.sell(self.token, amount)

    async def advance(self, blocks: int) -> None:
        target = await self.c.block_number() + blocks
        for _ in range(600):
            if await self.c.block_number() >= target:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the devnet stopped producing blocks")

    async def send(self, src: str, dst: str, amount: int) -> None:
        await self.senders[src.lower()].transfer(self.token, dst, amount)


async def test_anvil_passes_the_holding_conformance_suite(devnet: DevnetInfo) -> None:
    from tokens.conformance import check_holding_rule

    async with client(devnet, 7) as c:
        token = await c.create_token("Seven", "SVN")
        await check_holding_rule(AnvilWorld(c, token), c.address, 2 * ONE, lag=2)


async def test_anvil_passes_the_window_conformance_suite(devnet: DevnetInfo) -> None:
    from tokens.conformance import check_window_rule

    async with client(devnet, 7) as c, client(devnet, 8) as h, client(devnet, 9) as other:
        token = await c.token_of(c.address) or await c.create_token("Seven", "SVN")
        world = AnvilWorld(h, token, other)
        await h.buy(token, ONE)
        await world.advance(5)
        await check_window_rule(world, h.address, other.address, ONE, lag=4)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_rpc_raises_typed_errors_and_fails_closed(devnet: DevnetInfo) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    options = ClientOptions(rpc_url=url, deployment=devnet.deployment, timeout=2)
    async with ChainClient(options) as c:
        with pytest.raises(ChainUnavailableError):
            await c.block_number()
        with pytest.raises(ChainUnavailableError):
            await c.token_of(Account.from_key(DEV_PRIVATE_KEYS[1]).address)
        with pytest.raises(ChainUnavailableError):
            await OwnershipChecker(c).holds(devnet.deployment.tok, c.deployment.factory, 0)


async def test_client_works_from_addresses_only_as_on_a_real_chain(devnet: DevnetInfo) -> None:
    d = devnet.deployment
    minimal = Deployment(chain_id=d.chain_id, tok=d.tok, factory=d.factory, start_block=0)
    options = ClientOptions(rpc_url=devnet.rpc_url, deployment=minimal)
    async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[8])) as c:
        token = await c.create_token("Eight", "EGT")
        quote = await c.quote_buy(token, ONE)
        assert (await c.buy(token, ONE)).total == quote.total
        assert await c.curve_params(token) == d.curve


async def test_two_clients_sharing_an_account_resync_their_nonces(devnet: DevnetInfo) -> None:
    async with client(devnet, 9) as a, client(devnet, 9) as b:
        spender = devnet.deployment.factory
        await a.approve_tok(spender, 1)
        await b.approve_tok(spender, 2)  # a's cached nonce is now stale
        await a.approve_tok(spender, 3)
        await b.approve_tok(spender, 4)
        assert await a.tok_allowance(a.address, spender) == 4


@pytest.fixture(scope="module")
def wallet1271() -> dict[str, Any]:
    return build.compile_file(WALLET_1271)


async def test_eip1271_contract_wallet_signatures_are_checked_on_chain(
    devnet: DevnetInfo, wallet1271: dict[str, Any]
) -> None:
    art = wallet1271
    owner, stranger = Account.create(), Account.create()
    async with client(devnet, 0) as c:
        init = (
            c._w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
            .constructor(owner.address)
            .data_in_transaction
        )
        receipt = await c._tx().transact(None, init, "deploy 1271 wallet")
        wallet = str(receipt["contractAddress"])
        text = "a message signed for a contract wallet"
        digest = siwe.eip191_digest(text)
        assert await c.is_valid_signature(wallet, digest, siwe.sign(text, owner.key))
        assert not await c.is_valid_signature(wallet, digest, siwe.sign(text, stranger.key))
        assert not await c.is_valid_signature(wallet, digest, b"\x00" * 65)
        assert not await c.is_valid_signature(owner.address, digest, siwe.sign(text, owner.key))


async def test_a_creator_rotates_its_fee_recipient_and_fees_follow(devnet: DevnetInfo) -> None:
    cold = Account.create().address
    # a creator of its own: every dev account may already own a token from another test
    fresh = Account.create()
    await fund_account(devnet.rpc_url, devnet.deployment, fresh.address, tok=0, eth_wei=10**18)
    options = ClientOptions(rpc_url=devnet.rpc_url, deployment=devnet.deployment)
    async with ChainClient(options, fresh) as creator, client(devnet, 5) as fan:
        token = await creator.create_token("Rotating", "ROT")
        assert await creator.fee_recipient(token) == creator.address
        assert await creator.set_fee_recipient(cold) == token
        assert await creator.fee_recipient(token) == cold
        assert await creator.creator_of(token) == creator.address
        trade = await fan.buy(token, 10**18)
        assert trade.creator_fee > 0
        assert await fan.tok_balance(cold) == trade.creator_fee
        with pytest.raises(NoCreatorTokenError, match="has no creator token"):
            await fan.set_fee_recipient(fan.address)


async def test_the_trade_index_is_incremental_from_a_persisted_cursor(
    devnet: DevnetInfo, tmp_path: Path
) -> None:
    from tokens.tradeindex import TradeIndex, deployment_key, sync

    fresh = Account.create()
    await fund_account(devnet.rpc_url, devnet.deployment, fresh.address, tok=0, eth_wei=10**18)
    options = ClientOptions(rpc_url=devnet.rpc_url, deployment=devnet.deployment, log_chunk=7)
    async with ChainClient(options, fresh) as creator, client(devnet, 6) as fan:
        index = TradeIndex(tmp_path / "trades.sqlite", deployment_key(fan))
        token = await creator.create_token("Indexed", "IDX")
        bought = await fan.buy(token, 2 * ONE)
        await sync(index, fan)
        first = index.next_block()
        assert first is not None
        assert first > bought.block
        sold = await fan.sell(token, ONE)
        # a trade less than `confirmations` blocks deep is not indexed yet; once buried, it is
        assert await sync(index, fan, confirmations=50) == []
        await fan._w3.provider.make_request("anvil_mine", [50])  # type: ignore[arg-type]
        new = await sync(index, fan, confirmations=50)  # only the blocks after the cursor
        assert [(t.trade.kind, t.trade.tx_hash) for t in new] == [("sell", sold.tx_hash)]
        mine = index.trades(token=token)
        assert [(t.trade.kind, t.trade.total, t.trade.creator_fee) for t in mine] == [
            ("buy", bought.total, bought.creator_fee),
            ("sell", sold.total, sold.creator_fee),
        ]
        assert all(t.timestamp > 0 for t in mine)
        assert index.known_creator(token) == creator.address
        assert await sync(index, fan) == []  # nothing new: nothing re-read from the start
        index.close()


async def test_buy_and_sell_events_of_a_foreign_contract_are_not_trades(
    devnet: DevnetInfo, tmp_path: Path
) -> None:
    """A contract that is no creator token of the factory emits Buy and Sell with the very
    signatures of a creator token's, between two real trades: the trade index keeps the real
    ones only and remembers the emitter as not a token; the browser wallet's receipt reader
    (tokens.external.mined) finds no trade in the foreign transaction."""
    from tokens.external import mined
    from tokens.tradeindex import TradeIndex, deployment_key, sync

    fresh = Account.create()
    await fund_account(devnet.rpc_url, devnet.deployment, fresh.address, tok=0, eth_wei=10**18)
    options = ClientOptions(rpc_url=devnet.rpc_url, deployment=devnet.deployment)
    async with ChainClient(options, fresh) as creator, client(devnet, 6) as fan:
        index = TradeIndex(None, deployment_key(fan))
        await sync(index, fan)  # the cursor at the head: only what follows is read below
        token = await creator.create_token("Genuine", "GEN")
        deployed = await fan._tx().transact(None, foreign_trades.INIT_CODE, "deploy foreign")
        foreign = str(deployed["contractAddress"])
        bought = await fan.buy(token, ONE)
        call = foreign_trades.fake_trade_data(5 * ONE)
        fake = await fan._tx().transact(foreign, call, "emit foreign trades")
        sold = await fan.sell(token, ONE)
        seen = await fan.trades_between(bought.block, sold.block)  # by topic: all four
        assert sorted(str(t) for t, _ in seen).count(foreign) == 2
        new = await sync(index, fan)
        assert [(t.token, t.trade.tx_hash) for t in new] == [
            (token, bought.tx_hash),
            (token, sold.tx_hash),
        ]
        assert index.known_creator(foreign) == ""  # looked up once, remembered as no token
        assert index.trades(token=token) == new
        result = await mined(fan, fake["transactionHash"].to_0x_hex(), timeout=10)
        assert result.ok
        assert (result.token, result.trade) == (None, None)
        genuine = await mined(fan, bought.tx_hash, timeout=10)
        assert (genuine.token, genuine.trade) == (token, bought)
        index.close()
