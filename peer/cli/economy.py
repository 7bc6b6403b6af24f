"""``toktok creator stats`` and ``toktok token portfolio``: the creator economy from the running
daemon's trade index (the daemon indexes trades as they happen; these commands read its API).

TOK and token amounts print as whole units (``1.5``), exact.
"""

from __future__ import annotations

from typing import Any

import click

from peer.cli.context import CliState, emit, json_option, pass_state
from tokens.curve import to_whole


def _tok(value: str | None) -> str:
    return "-" if value is None else to_whole(int(value))


@click.group()
def creator() -> None:
    """Your creator dashboard."""


@creator.command()
@json_option
@pass_state
def stats(state: CliState, as_json: bool) -> None:
    """Your token's price, supply, reserve and holders; fees earned to date and per day;
    followers, likes, and the clips that drove trades."""
    data = state.require_daemon().get("/api/v1/dashboard")
    emit(data, as_json, render_stats)


def render_stats(d: dict[str, Any]) -> str:
    lines = [f"creator:    {d['creator']}"]
    token = d.get("token")
    if token is None:
        lines.append("token:      none yet (create it: toktok token create NAME SYMBOL)")
    else:
        lines += [
            f"token:      {token['name']} ({token['symbol']}) {token['address']}",
            f"price:      {_tok(token['spot_price'])} TOK",
            f"supply:     {_tok(token['total_supply'])} {token['symbol']}",
            f"reserve:    {_tok(token['reserve'])} TOK",
            f"holders:    {d['holder_count']}",
        ]
    earned = d["earnings"]
    lines.append(
        f"earned:     {_tok(earned['total'])} TOK in fees from {earned['trades']} trades"
        + (f" (not counting {earned['own_trades']} of your own)" if earned["own_trades"] else "")
    )
    lines += [f"  {day['day']}  {_tok(day['fees'])} TOK" for day in earned["per_day"]]
    lines.append(f"followers:  {d['followers']}   likes: {d['likes']}   comments: {d['comments']}")
    if d["clips"]:
        lines.append("clips that drove buys:")
        lines += [
            f"  {c['title'] or c['post_id']}: {c['buys']} buys, {_tok(c['paid'])} TOK"
            for c in d["clips"]
        ]
    return "\n".join(lines)


def show_portfolio(state: CliState, as_json: bool) -> None:
    data = state.require_daemon().get("/api/v1/portfolio")
    emit(data, as_json, render_portfolio)


def render_portfolio(d: dict[str, Any]) -> str:
    lines = [f"wallet {d['address']}: {_tok(d['tok_balance'])} TOK"]
    if not d["positions"]:
        lines.append("No creator tokens traded yet.")
    for p in d["positions"]:
        gain = int(p["gain"])
        sign = "+" if gain >= 0 else "-"
        lines.append(
            f"{p['symbol']:<6} {_tok(p['balance'])} held, worth {_tok(p['value'])} TOK if sold"
            f" now; cost {_tok(p['cost_basis'])} TOK; gain {sign}{to_whole(abs(gain))} TOK"
        )
        if int(p["unpriced"]):
            lines.append(f"       ({_tok(p['unpriced'])} arrived by transfer: no cost known)")
    lines.append(
        f"total: worth {_tok(d['total_value'])} TOK, cost {_tok(d['total_cost_basis'])} TOK"
    )
    return "\n".join(lines)
