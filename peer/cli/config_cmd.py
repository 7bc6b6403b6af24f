"""``toktok config show``: the effective settings and where they are documented."""

from __future__ import annotations

import click

from peer import config_docs
from peer.cli.context import CliState, emit, json_option, pass_state
from peer.config import default_config_file, toml_value


@click.group()
def config() -> None:
    """Inspect the configuration (see docs/CONFIG.md for every setting)."""


@config.command()
@json_option
@pass_state
def show(state: CliState, as_json: bool) -> None:
    """Print the effective settings after files, TOKTOK_* variables and --set."""
    data = state.config.to_dict()
    if as_json:
        emit(data, True)
        return
    click.echo(f"# user config file: {state.config_file or default_config_file()}")
    click.echo(f"# data dir: {state.data_dir.root}")
    for section, values in data.items():
        click.echo(f"\n[{section}]")
        for key, value in values.items():
            click.echo(f"{key} = {toml_value(value)}")


@config.command()
def docs() -> None:
    """Print the settings reference (the text of docs/CONFIG.md)."""
    click.echo(config_docs.render(), nl=False)
