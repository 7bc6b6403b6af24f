"""``toktok clip-keys ls | export FILE | import FILE``: back up the creator's premium clip keys.

The keys stay encrypted: in the data dir under the wallet passphrase, in a backup file under a
backup passphrase (asked twice, or ``TOKTOK_BACKUP_PASSPHRASE``). The wallet passphrase comes
from ``TOKTOK_PASSPHRASE`` or a prompt and is checked against the wallet keystore.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from peer.cli.client import DaemonClient
from peer.cli.context import CliState, emit, json_option, pass_state
from peer.cli.publish import PASSPHRASE_ENV, unlock_wallet, wallet_of
from peer.errors import PeerError
from storage.clipkeys import ClipKeyStore

BACKUP_PASSPHRASE_ENV = "TOKTOK_BACKUP_PASSPHRASE"  # noqa: S105 - the name of a variable


def _open_store(state: CliState) -> ClipKeyStore:
    wallet = wallet_of(state.data_dir)
    passphrase = unlock_wallet(wallet[1] if wallet else None, os.environ.get(PASSPHRASE_ENV))
    return ClipKeyStore(state.data_dir.keys, passphrase)


def _backup_passphrase(confirm: bool) -> str:
    value = os.environ.get(BACKUP_PASSPHRASE_ENV)
    if value is None:
        value = click.prompt(
            "Backup passphrase", hide_input=True, confirmation_prompt=confirm, err=True
        )
    if confirm and len(value) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="backup passphrase")
    return value


def _refuse_with_daemon(state: CliState, action: str) -> Callable[[DaemonClient], Any]:
    def remote(_: DaemonClient) -> Any:
        raise PeerError(f"a Toktok daemon owns {state.data_dir.root}; stop it before '{action}'")

    return remote


@click.group("clip-keys")
def clip_keys() -> None:
    """Premium clip keys of this creator (encrypted under the wallet passphrase)."""


@clip_keys.command("ls")
@json_option
@pass_state
def ls(state: CliState, as_json: bool) -> None:
    """List the clips (manifest CIDs) that have a stored key."""
    ids = _open_store(state).ids()
    emit({"clips": ids}, as_json, lambda d: "\n".join(d["clips"]) or "no clip keys")


@clip_keys.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_state
def export(state: CliState, file: Path, as_json: bool) -> None:
    """Write every clip key into FILE, encrypted under a backup passphrase."""
    if file.exists():
        raise click.BadParameter(f"{file} exists; choose a new file name", param_hint="FILE")
    store = _open_store(state)
    count = store.export(file, _backup_passphrase(confirm=True))
    emit({"file": str(file), "keys": count}, as_json, lambda d: f"{d['keys']} keys -> {d['file']}")


@clip_keys.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_state
def import_(state: CliState, file: Path, as_json: bool) -> None:
    """Add the clip keys of a backup FILE to this data dir."""
    backup = _backup_passphrase(confirm=False)

    def local() -> int:
        return _open_store(state).import_backup(file, backup)

    added = state.change_state(_refuse_with_daemon(state, "clip-keys import"), local)
    emit({"file": str(file), "added": added}, as_json, lambda d: f"{d['added']} keys added")
