"""``toktok unlock`` and ``toktok gating delegate|revoke``: premium clips, through the daemon.

Routes used (the daemon's API; see docs/GATING.md):
``GET /api/v1/clips/{post}/buy-plan``, ``POST /api/v1/clips/{post}/unlock``,
``POST /api/v1/creators/{address}/unlock``, ``POST /api/v1/gating/delegate``,
``POST /api/v1/gating/revoke``.
"""

from __future__ import annotations

import re
from typing import Any

import click

from peer.cli.context import CliState, emit, json_option, pass_state
from tokens.client import large_trade_warning

_POST = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


def _render_unlock(result: dict[str, Any]) -> str:
    bought = result.get("bought")
    extra = f" (bought {bought['amount']} base units)" if bought else ""
    return f"unlocked {result['post']}{extra}"


@click.command()
@click.argument("target")
@click.option("--buy", is_flag=True, help="Buy the missing tokens first (asks to confirm).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before buying.")
@click.option(
    "--slippage", "slippage_bps", type=click.IntRange(0, 5000), default=None,
    help="Slippage bound of the buy in basis points (default: wallet.slippage_bps, 50).",
)  # fmt: skip
@json_option
@pass_state
def unlock(
    state: CliState, target: str, buy: bool, yes: bool, slippage_bps: int | None, as_json: bool
) -> None:
    """Get the key of premium post TARGET (0x post id), or of every premium post of creator
    TARGET (0x address) you qualify for."""
    daemon = state.require_daemon()
    if _ADDRESS.match(target):
        result = daemon.post(f"/api/v1/creators/{target}/unlock", {})
        emit(result, as_json, lambda r: "\n".join(
            f"{x['post']}  {'unlocked' if x['unlocked'] else 'locked: ' + str(x['error'])}"
            for x in r["results"]
        ) or "no premium posts")  # fmt: skip
        return
    if not _POST.match(target):
        raise click.BadParameter("expected a 0x post id (64 hex) or a 0x creator address")
    post = target.lower()
    body: dict[str, Any] = {"buy": False}
    if buy:
        query = "" if slippage_bps is None else f"?slippage={slippage_bps}"
        plan = daemon.get(f"/api/v1/clips/{post}/buy-plan{query}")
        if plan is not None:
            text = (
                f"buy {plan['amount']} base units of {plan['token']} for about {plan['quote']} "
                f"TOK base units (at most {plan['maxCost']})?"
            )
            warning = large_trade_warning(
                int(plan["quote"]), int(plan["max_cost"]), state.config.wallet.large_trade_tok
            )
            if warning:
                click.echo(f"warning: {warning}", err=True)
            if not yes and not click.confirm(text):
                raise click.Abort()
            body = {"buy": True, "max_cost": plan["max_cost"]}
    result = daemon.post(f"/api/v1/clips/{post}/unlock", body)
    emit(result, as_json, _render_unlock)


@click.group()
def gating() -> None:
    """Key servers for your premium clips (delegation)."""


@gating.command()
@click.argument("peer")
@json_option
@pass_state
def delegate(state: CliState, peer: str, as_json: bool) -> None:
    """Hand your clip keys to another of your peers (PEER: multiaddr with /p2p/) and list it
    in your profile's keyServers."""
    result = state.require_daemon().post("/api/v1/gating/delegate", {"peer": peer})
    emit(result, as_json, lambda r: f"{r['imported']} new keys sent; {peer} is a key server")


@gating.command()
@click.argument("peer")
@json_option
@pass_state
def revoke(state: CliState, peer: str, as_json: bool) -> None:
    """Remove PEER from your profile's keyServers. It keeps the keys it already holds."""
    result = state.require_daemon().post("/api/v1/gating/revoke", {"peer": peer})
    emit(
        result, as_json,
        lambda r: f"{peer} removed from keyServers (it keeps the keys it already has)",
    )  # fmt: skip
