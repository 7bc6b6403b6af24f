"""``toktok devnet``: the local anvil chain; and the chain access the token commands share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import click

from peer.cli.context import CliState, emit, fail, json_option, pass_state
from peer.datadir import DataDirLock
from peer.errors import ConfigError
from peer.network import load_network, rpc_url
from tokens.deployment import Deployment, load_deployment
from tokens.devnet import DEPLOYMENT_FILE, Devnet, DevnetOptions, read_endpoint
from tokens.errors import ChainUnavailableError
from tokens.rpc import call, connect, disconnect


def devnet_options(state: CliState) -> DevnetOptions:
    from peer.daemon.chain import devnet_options as options_of

    return options_of(state.config.chain, state.data_dir.devnet)


@dataclass(frozen=True)
class Chain:
    rpc_url: str
    deployment: Deployment
    devnet: bool


async def _reachable(url: str) -> bool:
    w3 = connect(url, timeout=3)
    try:
        await call("probe devnet", w3.eth.chain_id)
        return True
    except ChainUnavailableError:
        return False
    finally:
        await disconnect(w3)


@contextlib.asynccontextmanager
async def open_chain(state: CliState) -> AsyncIterator[Chain]:
    """The configured chain: 'rpc' from config, 'devnet' the running one or a temporary one."""
    chain = state.config.chain
    if chain.mode == "off":
        fail("chain features are off (chain.mode = 'off')")
    if chain.mode == "rpc":
        try:
            network = load_network(chain, state.data_dir.root)
        except ConfigError as exc:
            fail(str(exc))
        assert network is not None
        yield Chain(rpc_url(chain, network), network, False)
        return
    url = read_endpoint(state.data_dir.devnet)
    if url is not None and await _reachable(url):
        yield Chain(url, load_deployment(state.data_dir.devnet / DEPLOYMENT_FILE), True)
        return
    if state.daemon() is not None:
        fail("the running daemon's devnet is not reachable; restart it with 'toktok run'")
    with DataDirLock(state.data_dir):
        async with Devnet(devnet_options(state)) as info:
            yield Chain(info.rpc_url, info.deployment, True)


@click.command("devnet")
@json_option
@pass_state
def devnet(state: CliState, as_json: bool) -> None:
    """Run the local devnet (anvil on 127.0.0.1) in the foreground until Ctrl-C.

    The first start deploys TOK and the creator-token factory and mints TOK to the ten
    anvil dev accounts; the state in <data-dir>/devnet keeps them across restarts.
    """
    if state.config.chain.mode != "devnet":
        fail("chain.mode is not 'devnet'")
    if state.daemon() is not None:
        fail("a daemon owns this data dir and runs its own devnet")

    async def run() -> None:
        with DataDirLock(state.data_dir):
            async with Devnet(devnet_options(state)) as info:
                d = info.deployment
                emit(
                    {
                        "rpc_url": info.rpc_url, "chain_id": info.chain_id, "tok": d.tok,
                        "factory": d.factory, "start_block": d.start_block,
                        "fresh_deployment": info.fresh_deployment,
                        "reset_for_new_contracts": info.reset_for_new_contracts,
                    },
                    as_json,
                )  # fmt: skip
                if not as_json:
                    click.echo("devnet running; press Ctrl-C to stop", err=True)
                await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
