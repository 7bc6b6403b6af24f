"""``toktok wallet create | import | export | address``: the encrypted keystore."""

from __future__ import annotations

from pathlib import Path

import click

from peer.cli.context import CliState, emit, fail, json_option, pass_state
from peer.datadir import DataDirLock
from tokens.devnet import DEV_PRIVATE_KEYS
from tokens.wallet import Wallet, WalletOptions, resolve_passphrase


def open_wallet(state: CliState) -> Wallet:
    return Wallet(WalletOptions(wallet_dir=state.data_dir.wallet))


def passphrase(state: CliState, confirm: bool = False) -> str:
    devnet = state.config.chain.mode == "devnet"
    return resolve_passphrase(
        env=None,
        devnet=devnet,
        prompt=lambda: str(
            click.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)
        ),
    )


def _local_change(state: CliState) -> DataDirLock:
    if state.daemon() is not None:
        fail("a daemon owns this data dir; stop it before changing the wallet")
    return DataDirLock(state.data_dir)


@click.group()
def wallet() -> None:
    """The wallet: one encrypted keystore in <data-dir>/wallet.

    The passphrase comes from TOKTOK_PASSPHRASE, else (devnet) the documented devnet
    default, else a prompt.
    """


@wallet.command()
@click.option("--force", is_flag=True, help="Replace an existing wallet (its key is lost).")
@json_option
@pass_state
def create(state: CliState, force: bool, as_json: bool) -> None:
    """Create a new random key."""
    with _local_change(state):
        address = open_wallet(state).create(passphrase(state, confirm=True), overwrite=force)
    emit({"address": address}, as_json)


@wallet.command("import")
@click.option("--private-key-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dev-account", type=click.IntRange(0, 9), help="Use anvil dev key N (devnet only).")
@click.option("--force", is_flag=True, help="Replace an existing wallet.")
@json_option
@pass_state
def import_(
    state: CliState,
    private_key_file: Path | None,
    keystore: Path | None,
    dev_account: int | None,
    force: bool,
    as_json: bool,
) -> None:
    """Import a private key (file or prompt), a V3 keystore JSON, or an anvil dev key."""
    if sum(x is not None for x in (private_key_file, keystore, dev_account)) > 1:
        fail("give at most one of --private-key-file, --keystore, --dev-account")
    w = open_wallet(state)
    with _local_change(state):
        if keystore is not None:
            source_pass = str(click.prompt("Passphrase of the keystore file", hide_input=True))
            address = w.import_keystore(
                keystore.read_text(), source_pass, passphrase(state, confirm=True), force
            )
        else:
            if dev_account is not None:
                if state.config.chain.mode != "devnet":
                    fail("--dev-account is for the devnet only")
                key = DEV_PRIVATE_KEYS[dev_account]
            elif private_key_file is not None:
                key = private_key_file.read_text().strip()
            else:
                key = str(click.prompt("Private key (0x-hex)", hide_input=True))
            address = w.import_private_key(key, passphrase(state, confirm=True), force)
    emit({"address": address}, as_json)


@wallet.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@pass_state
def export(state: CliState, out: Path | None) -> None:
    """Print (or write) the encrypted keystore JSON; never the raw key."""
    text = open_wallet(state).export_keystore()
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n")
        out.chmod(0o600)
        click.echo(f"wrote {out}", err=True)


@wallet.command()
@json_option
@pass_state
def address(state: CliState, as_json: bool) -> None:
    """Print the wallet's address."""
    emit({"address": open_wallet(state).address()}, as_json)
