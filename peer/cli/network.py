"""``toktok network``: create, join and export network profiles (one chain, many people)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import click

from peer.cli.context import CliState, emit, fail, json_option, pass_state
from peer.errors import ConfigError
from peer.network import PROFILE_FILE, export, join, load_network
from tokens.deployment import Deployment, load_deployment, save_deployment

KEY_ENV = "TOKTOK_DEPLOYER_KEY"


@click.group()
def network() -> None:
    """Network profiles: the chain and the peers a group of people share."""


def _summary(profile: Deployment, path: Path) -> dict[str, Any]:
    return {
        "profile": str(path), "name": profile.name, "chain_id": profile.chain_id,
        "rpc_urls": list(profile.rpc_urls), "tok": profile.tok, "factory": profile.factory,
        "blueprint": profile.blueprint, "bootstrap": list(profile.bootstrap),
        "relays": list(profile.relays),
    }  # fmt: skip


def _read_key(key_file: Path | None) -> str:
    if key_file is not None:
        try:
            return key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the key file {key_file}: {exc}")
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        fail(f"give the deployer's private key with --key-file FILE or the {KEY_ENV} variable")
    return key


@network.command()
@click.option("--rpc-url", required=True, help="JSON-RPC URL of the chain to deploy to.")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the deployer's private key (hex); or set {KEY_ENV}.",
)
@click.option("--name", "name", required=True, help="The network's name (shown to users).")
@click.option("--treasury", default="", help="Address receiving protocol fees (the deployer).")
@click.option(
    "--tok-supply",
    default="1000000000",
    show_default=True,
    help="TOK's fixed supply in whole TOK, minted at deployment; nobody can mint after.",
)
@click.option(
    "--tok-holder", default="", help="Address receiving the whole TOK supply (the deployer)."
)
@click.option("--bootstrap", multiple=True, help="Bootstrap peer multiaddr (repeatable).")
@click.option("--relay", multiple=True, help="Relay multiaddr (repeatable).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("network.json"),
    show_default=True,
    help="Where to write the profile.",
)
@json_option
def create(
    rpc_url: str,
    key_file: Path | None,
    name: str,
    treasury: str,
    tok_supply: str,
    tok_holder: str,
    bootstrap: tuple[str, ...],
    relay: tuple[str, ...],
    out: Path,
    as_json: bool,
) -> None:
    """Deploy TOK, the CreatorToken blueprint and the factory, and write a network profile.

    The same code path serves a local anvil and a public chain; the deployer pays the gas.
    TOK gets a fixed supply, minted to --tok-holder at deployment, and no owner: nobody can
    mint TOK on this network, ever. The deployment is checked against our own artifacts
    before the profile is written.
    """
    from eth_account import Account

    from tokens.curve import to_base_units
    from tokens.deploy import DeployParams, TokSupply, deploy_system
    from tokens.errors import TokensError
    from tokens.rpc import TxSender, call, connect, disconnect

    if out.exists():
        fail(f"{out} exists; choose another --out or remove it")
    try:
        account = Account.from_key(_read_key(key_file))
    except ValueError as exc:
        fail(f"the deployer key is not a valid private key: {exc}")
    try:
        supply = TokSupply.fixed(tok_holder or account.address, to_base_units(tok_supply))
    except (ValueError, TokensError) as exc:
        fail(f"--tok-supply: {exc}")

    async def deploy() -> Deployment:
        w3 = connect(rpc_url)
        try:
            chain_id = await call("read chain id", w3.eth.chain_id)
            sender = TxSender(w3, account, chain_id)
            params = DeployParams(treasury=treasury or account.address, tok=supply)
            deployment = await deploy_system(w3, sender, params)
            from tokens.codecheck import verify_deployment

            await verify_deployment(w3, deployment, rpc_url=rpc_url)
            return deployment
        finally:
            await disconnect(w3)

    try:
        deployment = asyncio.run(deploy())
        profile = export(
            deployment, name=name, rpc_urls=(rpc_url,), bootstrap=bootstrap, relays=relay
        )
    except (TokensError, ConfigError) as exc:
        fail(str(exc))
    save_deployment(out, profile)
    emit(_summary(profile, out), as_json)


@network.command(name="join")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_state
def join_cmd(state: CliState, profile: Path, as_json: bool) -> None:
    """Use the network of PROFILE for this data dir (chain.mode = rpc); restart to apply."""
    if state.daemon() is not None:
        fail("a daemon is running for this data dir; stop it, join, then start it again")
    try:
        joined = join(state.data_dir.root, profile)
    except ConfigError as exc:
        fail(str(exc))
    emit(_summary(joined, state.data_dir.root / PROFILE_FILE), as_json)
    if not as_json:
        click.echo("Joined. Start the peer with: toktok run (it checks the chain's code first)")


@network.command(name="export")
@click.option(
    "--rpc-url",
    "rpc_urls",
    multiple=True,
    help="RPC URL others reach this devnet at (default: the devnet's own URL).",
)
@click.option("--name", "name", default="", help="The network's name (default: the data dir's).")
@click.option("--relay", multiple=True, help="Relay multiaddr (repeatable).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("network.json"),
    show_default=True,
)
@json_option
@pass_state
def export_cmd(
    state: CliState,
    rpc_urls: tuple[str, ...],
    name: str,
    relay: tuple[str, ...],
    out: Path,
    as_json: bool,
) -> None:
    """Write a profile of this peer's devnet that a friend's peer can join.

    The running daemon's p2p addresses become the bootstrap list. Others can reach the devnet
    only if it listens on an address they can route to: start the peer with
    chain.devnet_host set to that address (loopback by default, never all interfaces).
    """
    from tokens.devnet import DEPLOYMENT_FILE
    from tokens.errors import DeploymentError

    status = state.require_daemon().get("/api/v1/status")
    chain = state.config.chain
    try:
        if chain.mode == "devnet":
            deployment = load_deployment(state.data_dir.devnet / DEPLOYMENT_FILE)
        else:
            loaded = load_network(chain, state.data_dir.root)
            if loaded is None:
                fail("chain features are off (chain.mode = 'off'): there is no network to export")
            assert loaded is not None
            deployment = loaded
    except (DeploymentError, ConfigError) as exc:
        fail(str(exc))
    urls = rpc_urls or (str(status["chain"]["rpc_url"]),)
    addrs = tuple(str(a) for a in status.get("p2p_addrs", []))
    try:
        profile = export(
            deployment,
            name=name or state.data_dir.root.name,
            rpc_urls=urls,
            bootstrap=addrs,
            relays=relay,
        )
    except ConfigError as exc:
        fail(str(exc))
    save_deployment(out, profile)
    emit(_summary(profile, out), as_json)
