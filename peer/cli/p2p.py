"""``toktok connect | peers``: the libp2p network, through the running daemon."""

from __future__ import annotations

from typing import Any

import click

from peer.cli.context import CliState, emit, json_option, pass_state


@click.command()
@click.argument("multiaddr", metavar="ADDRESS")
@json_option
@pass_state
def connect(state: CliState, multiaddr: str, as_json: bool) -> None:
    """Connect the running peer to ADDRESS: a full multiaddr
    (/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...), a relayed one (.../p2p/RELAY/p2p-circuit/p2p/ID),
    or a bare peer id (12D3Koo...), whose addresses are then found through the DHT."""
    result = state.require_daemon().post("/api/v1/peers/connect", {"multiaddr": multiaddr})
    if as_json:
        emit(result, True)
    else:
        click.echo(f"connected to {result['peer_id']}")


@click.command()
@json_option
@pass_state
def peers(state: CliState, as_json: bool) -> None:
    """List the peers the running daemon is connected to."""
    result: dict[str, Any] = state.require_daemon().get("/api/v1/peers")
    if as_json:
        emit(result, True)
        return
    if not result["peers"]:
        click.echo("not connected to any peer (add one with 'toktok connect MULTIADDR')")
    for peer in result["peers"]:
        click.echo(f"{peer['peer_id']}  {' '.join(peer['addrs'])}")
