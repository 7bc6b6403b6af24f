"""The root ``toktok`` command; every command module is registered here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from peer.cli import config_cmd, node, p2p
from peer.cli import devnet as devnet_cmd
from peer.cli import feed as feed_cmd
from peer.cli import gating as gating_cmd
from peer.cli import storage as storage_cmd
from peer.cli import token as token_cmd
from peer.cli import wallet as wallet_cmd
from peer.cli.clipkeys import clip_keys as clip_keys_cmd
from peer.cli.context import CliState
from peer.cli.publish import publish as publish_cmd
from peer.config import default_data_dir
from peer.datadir import DataDir
from peer.errors import PeerError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TOKTOK_DATA_DIR",
    default=default_data_dir,
    show_default="the user data dir",
    help="Folder holding everything of one peer (several peers need several data dirs).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TOKTOK_CONFIG",
    help="Config file to use instead of the one in the user config dir.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override a setting for this command, e.g. --set ui.port=8080 (repeatable).",
)
@click.version_option(package_name="toktok")
@click.pass_context
def cli(
    ctx: click.Context, data_dir: Path, config_file: Path | None, settings: tuple[str, ...]
) -> None:
    """Toktok: a peer-to-peer short-video network where creators own their audience.

    Start with 'toktok init', then 'toktok run' and open the printed URL.
    """
    ctx.obj = CliState(DataDir(data_dir.expanduser().resolve()), config_file, settings)


cli.add_command(node.init)
cli.add_command(node.run)
cli.add_command(node.id_)
cli.add_command(node.status)
cli.add_command(config_cmd.config)
for _command in storage_cmd.COMMANDS:
    cli.add_command(_command)
cli.add_command(p2p.connect)
cli.add_command(p2p.peers)
cli.add_command(publish_cmd)
cli.add_command(clip_keys_cmd)
cli.add_command(wallet_cmd.wallet)
cli.add_command(token_cmd.token)
cli.add_command(devnet_cmd.devnet)
for _command in feed_cmd.COMMANDS:
    cli.add_command(_command)
cli.add_command(gating_cmd.unlock)
cli.add_command(gating_cmd.gating)


def main() -> None:
    """Console-script entry point: user-facing errors become one line and exit status 1."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except PeerError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # translated domain errors of sub-packages
        if type(exc).__module__.split(".")[0] in {"peer", "storage", "tokens"}:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        raise
