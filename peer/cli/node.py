"""``toktok init | run | open | id | status``: the peer itself."""

from __future__ import annotations

import asyncio
import webbrowser
from pathlib import Path
from typing import Any

import click

from peer import logsetup
from peer.cli.client import DaemonClient
from peer.cli.context import CliState, emit, fail, json_option, pass_state
from peer.datadir import DataDir
from peer.errors import ConfigError
from storage import untrusted

IDENTITY_FILE = "identity.key"
MAX_KEYSTORE_BYTES = 64 * 1024  # a V3 keystore is < 1 KB


def identity_path(data_dir: DataDir) -> Any:
    return data_dir.p2p / IDENTITY_FILE


def _peer_id(data_dir: DataDir, create: bool) -> str | None:
    from peer.p2p.identity import load_identity, load_or_create_identity, peer_id_of

    path = identity_path(data_dir)
    if create:
        return peer_id_of(load_or_create_identity(path))
    return peer_id_of(load_identity(path)) if path.exists() else None


def _wallet_address(data_dir: DataDir) -> str | None:
    """The address in the wallet keystore, if a wallet exists (keystores store it in clear)."""
    for keystore in sorted(data_dir.wallet.glob("*.json")):
        try:
            address = untrusted.loads(keystore.read_bytes(), max_bytes=MAX_KEYSTORE_BYTES).get(
                "address"
            )
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(address, str) and address:
            return address if address.startswith("0x") else "0x" + address
    return None


@click.command()
@click.option(
    "--network",
    "network_profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Join the network of this profile (see 'toktok network join').",
)
@json_option
@pass_state
def init(state: CliState, network_profile: Path | None, as_json: bool) -> None:
    """Create the data dir and this peer's identity (safe to run again)."""

    def local() -> dict[str, Any]:
        state.data_dir.ensure()
        info: dict[str, Any] = {
            "data_dir": str(state.data_dir.root),
            "peer_id": _peer_id(state.data_dir, True),
        }
        if network_profile is not None:
            from peer.network import join

            try:
                info["network"] = join(state.data_dir.root, network_profile).name
            except ConfigError as exc:
                fail(str(exc))
        return info

    def remote(_: DaemonClient) -> dict[str, Any]:
        if network_profile is not None:
            fail("a daemon is running for this data dir; stop it before joining a network")
        return {"data_dir": str(state.data_dir.root), "peer_id": _peer_id(state.data_dir, False)}

    info = state.change_state(remote, local)
    if as_json:
        emit(info, True)
    else:
        click.echo(f"Toktok peer {info['peer_id']} is ready in {info['data_dir']}")
        if "network" in info:
            click.echo(f"It joined the network {info['network'] or '(unnamed)'}")
        click.echo("Start it with: toktok run")


@click.command()
@pass_state
def run(state: CliState) -> None:
    """Run the peer daemon in the foreground; Ctrl-C stops it."""
    from peer.daemon.app import App, toktok_version  # imports libp2p: only when the daemon runs

    config = state.config
    state.data_dir.ensure()
    logsetup.configure(config.peer.log_level, state.data_dir.logs)
    app = App(config, state.data_dir)

    def ready(app: App) -> None:
        click.echo(f"Toktok {toktok_version()} is running; data dir {state.data_dir.root}")
        click.echo("Open the web UI (this link logs the browser in; it works once, for ten")
        click.echo("minutes; 'toktok open' prints a new one):")
        click.echo(app.http.login_url())
        for notice in app.status()["notices"]:  # e.g. a stored port was taken
            click.echo(f"Note: {notice}", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)

    asyncio.run(app.run(ready))
    click.echo("Toktok stopped.", err=True)


@click.command(name="open")
@click.option("--browser", is_flag=True, help="Also open the link in the default web browser.")
@json_option
@pass_state
def open_(state: CliState, browser: bool, as_json: bool) -> None:
    """Print a one-time link that logs a browser in to the running peer's web UI.

    The link works once, for ten minutes; the browser then keeps its session (also across
    restarts of the peer). Only the owner of the data dir can get one (it needs api.json).
    """
    link = state.require_daemon().post("/api/v1/login-links")
    if as_json:
        emit(link, True)
    else:
        click.echo(link["url"])
    if browser and not webbrowser.open(link["url"]):
        click.echo("No web browser could be started; open the link above.", err=True)


@click.command(name="id")
@json_option
@pass_state
def id_(state: CliState, as_json: bool) -> None:
    """Show this peer's identity: peer id, p2p addresses, UI URL, wallet address."""
    client = state.daemon()
    status: dict[str, Any] = client.get("/api/v1/status") if client is not None else {}
    info = {
        "peer_id": status.get("peer_id") or _peer_id(state.data_dir, False),
        "p2p_addrs": status.get("p2p_addrs") or [],
        "ui_url": status.get("ui_url"),
        "wallet_address": status.get("wallet_address") or _wallet_address(state.data_dir),
        "running": client is not None,
    }
    if info["peer_id"] is None and not as_json:
        click.echo("This data dir has no peer identity yet; run 'toktok init'.")
        return
    emit(info, as_json)


@click.command()
@json_option
@pass_state
def status(state: CliState, as_json: bool) -> None:
    """Show whether the daemon runs, and the state of its services."""
    client = state.daemon()
    if client is None:
        info: dict[str, Any] = {"running": False, "data_dir": str(state.data_dir.root)}
        if as_json:
            emit(info, True)
        else:
            click.echo(f"No daemon is running for {state.data_dir.root}. Start one: toktok run")
        return
    info = {"running": True, **client.get("/api/v1/status")}
    emit(info, as_json)
