"""``toktok token create | quote | buy | sell | balance | info | fee-recipient | portfolio``.

Amounts are whole tokens (decimals allowed, e.g. 1.5); TOK amounts print the same way.
TOKEN may be a creator token's address or its creator's address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from peer.cli.context import CliState, emit, fail, json_option, pass_state
from peer.cli.devnet import Chain, open_chain
from peer.cli.wallet import open_wallet, passphrase
from tokens.client import ChainClient, ClientOptions, large_trade_warning, slippage_bound
from tokens.curve import CurveError, Quote, to_base_units, to_whole

T = TypeVar("T")


def _amount(text: str) -> int:
    try:
        value = to_base_units(text)
    except CurveError as exc:
        raise click.BadParameter(str(exc)) from exc
    if value <= 0:
        raise click.BadParameter("amount must be positive")
    return value


def _run(state: CliState, body: Callable[[ChainClient, Chain], Awaitable[T]], account: bool) -> T:
    async def inner() -> T:
        wallet_account = None
        if account:
            wallet_account = open_wallet(state).unlock(passphrase(state))
        async with open_chain(state) as chain:
            limit = state.config.wallet.spend_limit_tok * 10**18
            options = ClientOptions(
                rpc_url=chain.rpc_url, deployment=chain.deployment, spend_limit=limit,
                slippage_bps=state.config.wallet.slippage_bps,
            )  # fmt: skip
            async with ChainClient(options, wallet_account) as client:
                return await body(client, chain)

    return asyncio.run(inner())


async def _resolve(client: ChainClient, address: str) -> str:
    if await client.creator_of(address) is not None:
        return address
    token = await client.token_of(address)
    if token is None:
        fail(f"{address} is neither a creator token nor a creator with a token")
    return str(token)


def _quote_dict(q: Quote, side: str) -> dict[str, Any]:
    return {
        "side": side, "amount": to_whole(q.amount), "total_tok": to_whole(q.total),
        "curve_tok": to_whole(q.curve_amount), "creator_fee_tok": to_whole(q.creator_fee),
        "protocol_fee_tok": to_whole(q.protocol_fee), "price_after_tok": to_whole(q.price_after),
    }  # fmt: skip


@click.group()
def token() -> None:
    """Creator tokens: bought and sold with TOK on a bonding curve."""


@token.command()
@click.argument("name")
@click.argument("symbol")
@json_option
@pass_state
def create(state: CliState, name: str, symbol: str, as_json: bool) -> None:
    """Create your creator token (one per creator; NAME <= 25, SYMBOL <= 5 characters)."""

    async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
        return {"token": await c.create_token(name, symbol), "creator": c.address}

    emit(_run(state, body, account=True), as_json)


@token.command()
@click.argument("token_or_creator")
@click.argument("amount")
@click.option("--sell", is_flag=True, help="Quote a sale instead of a buy.")
@json_option
@pass_state
def quote(state: CliState, token_or_creator: str, amount: str, sell: bool, as_json: bool) -> None:
    """What buying (or selling) AMOUNT tokens costs (pays) now, fees included."""
    base = _amount(amount)

    async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
        t = await _resolve(c, token_or_creator)
        q = await (c.quote_sell(t, base) if sell else c.quote_buy(t, base))
        return {"token": t, **_quote_dict(q, "sell" if sell else "buy")}

    emit(_run(state, body, account=False), as_json)


def _trade_command(side: str) -> click.Command:
    @click.argument("token_or_creator")
    @click.argument("amount")
    @click.option(
        "--limit",
        "limit",
        default=None,
        help="Max TOK to pay (buy) / min TOK to receive (sell); default: quote +/- slippage.",
    )
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @json_option
    @pass_state
    def command(
        state: CliState, token_or_creator: str, amount: str, limit: str | None, yes: bool,
        as_json: bool,
    ) -> None:  # fmt: skip
        base = _amount(amount)
        bound = to_base_units(limit) if limit is not None else None

        async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
            t = await _resolve(c, token_or_creator)
            q = await (c.quote_buy(t, base) if side == "buy" else c.quote_sell(t, base))
            warning = large_trade_warning(
                q.total,
                bound if bound is not None else slippage_bound(q.total, c.slippage_bps, side),
                state.config.wallet.large_trade_tok,
            )
            if warning:
                click.echo(f"warning: {warning}", err=True)
            if not yes and not click.confirm(
                f"{side} {to_whole(base)} tokens for about {to_whole(q.total)} TOK?"
            ):
                raise click.Abort()
            if side == "buy":
                trade = await c.buy(t, base, max_cost=bound)
            else:
                trade = await c.sell(t, base, min_refund=bound)
            return {
                "token": t, "side": side, "amount": to_whole(trade.amount),
                "tok": to_whole(trade.total), "price_after_tok": to_whole(trade.price),
                "tx": trade.tx_hash, "block": trade.block,
            }  # fmt: skip

        emit(_run(state, body, account=True), as_json)

    command.__doc__ = (
        f"{side.capitalize()} AMOUNT tokens of TOKEN_OR_CREATOR (asks first unless --yes)."
    )
    return click.command(side)(command)


buy = _trade_command("buy")
sell = _trade_command("sell")
token.add_command(buy)
token.add_command(sell)


@token.command()
@click.argument("token_or_creator", required=False)
@click.option("--holder", default=None, help="Whose balance (default: the wallet).")
@json_option
@pass_state
def balance(
    state: CliState, token_or_creator: str | None, holder: str | None, as_json: bool
) -> None:
    """TOK balance, or the balance of a creator token when TOKEN_OR_CREATOR is given."""
    who = holder or open_wallet(state).address()

    async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
        if token_or_creator is None:
            return {"holder": who, "token": "TOK", "balance": to_whole(await c.tok_balance(who))}
        t = await _resolve(c, token_or_creator)
        return {"holder": who, "token": t, "balance": to_whole(await c.balance_of(t, who))}

    emit(_run(state, body, account=False), as_json)


@token.command()
@click.argument("token_or_creator")
@json_option
@pass_state
def info(state: CliState, token_or_creator: str, as_json: bool) -> None:
    """Name, creator, supply, reserve, price and holders of a creator token."""

    async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
        t = await _resolve(c, token_or_creator)
        i = await c.token_info(t)
        holders = await c.holders(t)
        return {
            "token": i.address, "name": i.name, "symbol": i.symbol, "creator": i.creator,
            "supply": to_whole(i.total_supply), "reserve_tok": to_whole(i.reserve),
            "spot_price_tok": to_whole(i.spot_price), "holders": len(holders),
        }  # fmt: skip

    emit(_run(state, body, account=False), as_json)


@token.command(name="fee-recipient")
@click.argument("address", required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def fee_recipient(state: CliState, address: str | None, yes: bool, as_json: bool) -> None:
    """Show where your token's creator fees go, or send future fees to ADDRESS (e.g. a new
    wallet if this key is lost or leaked); your creator identity does not change."""

    async def body(c: ChainClient, _: Chain) -> dict[str, Any]:
        token = await c.require_token_of(c.address)
        current = await c.fee_recipient(token)
        if address is None:
            return {"token": token, "fee_recipient": current}
        if not yes and not click.confirm(f"send future creator fees of {token} to {address}?"):
            raise click.Abort()
        await c.set_fee_recipient(address)
        return {"token": token, "previous": current, "fee_recipient": await c.fee_recipient(token)}

    emit(_run(state, body, account=True), as_json)


@token.command()
@json_option
@pass_state
def portfolio(state: CliState, as_json: bool) -> None:
    """Every creator token you traded: balance, what selling it now returns, cost basis and
    gain (reads the running daemon's trade index)."""
    from peer.cli.economy import show_portfolio

    show_portfolio(state, as_json)
