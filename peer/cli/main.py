"""The root ``toktok`` command; every command module is registered here.

Command modules are imported only when their command runs (:class:`LazyGroup`): the chain, media
and p2p stacks take seconds to import, and ``toktok id`` or ``toktok feed`` should not pay for
them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from peer.cli.checkout import default_cli_data_dir
from peer.cli.context import CliState
from peer.cli.lazy import LazyGroup
from peer.datadir import DataDir
from peer.errors import PeerError
from tokens.recursion import settle_recursion_limit

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# command name -> module defining it, in the order 'toktok --help' lists them
COMMANDS: dict[str, str] = {
    "init": "peer.cli.node",
    "run": "peer.cli.node",
    "open": "peer.cli.node",
    "id": "peer.cli.node",
    "status": "peer.cli.node",
    "config": "peer.cli.config_cmd",
    "cid": "peer.cli.storage",
    "add": "peer.cli.storage",
    "cat": "peer.cli.storage",
    "pin": "peer.cli.storage",
    "gc": "peer.cli.storage",
    "storage": "peer.cli.storage",
    "connect": "peer.cli.p2p",
    "peers": "peer.cli.p2p",
    "publish": "peer.cli.publish",
    "clip-keys": "peer.cli.clipkeys",
    "wallet": "peer.cli.wallet",
    "token": "peer.cli.token",
    "creator": "peer.cli.economy",
    "devnet": "peer.cli.devnet",
    "feed": "peer.cli.feed",
    "profile": "peer.cli.feed",
    "follow": "peer.cli.feed",
    "unfollow": "peer.cli.feed",
    "like": "peer.cli.feed",
    "unlike": "peer.cli.feed",
    "delete": "peer.cli.feed",
    "mute": "peer.cli.feed",
    "unmute": "peer.cli.feed",
    "block": "peer.cli.feed",
    "unblock": "peer.cli.feed",
    "comment": "peer.cli.comments",
    "comments": "peer.cli.comments",
    "comment-delete": "peer.cli.comments",
    "comment-hide": "peer.cli.comments",
    "comment-policy": "peer.cli.comments",
    "unlock": "peer.cli.gating",
    "gating": "peer.cli.gating",
    "network": "peer.cli.network",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TOKTOK_DATA_DIR",
    default=default_cli_data_dir,
    show_default="in a checkout scripts/run used, its .toktok-data/peer; else the user data dir",
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


def main() -> None:
    """Console-script entry point: user-facing errors become one line and exit status 1."""
    settle_recursion_limit()  # also done by importing peer; explicit at the entry
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
