"""The root command imports a command's module only when that command runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from peer.cli.lazy import LazyGroup, resolve
from peer.cli.main import COMMANDS, cli

HEAVY = ("web3", "peer.daemon.publish", "tokens.devnet", "storage.media")


def test_every_registered_name_resolves_to_a_command_of_that_name() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.name == name
    assert cli.list_commands(ctx)[: len(COMMANDS)] == list(COMMANDS)


def test_a_light_command_does_not_import_the_heavy_stacks(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from peer.cli.main import cli\n"
        f"cli(['--data-dir', {str(tmp_path)!r}, 'id', '--json'], standalone_mode=False)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert '"peer_id"' in out
    assert out.strip().splitlines()[-1] == "[]"


def test_help_lists_every_command() -> None:
    text = cli.get_help(click.Context(cli))
    for name in COMMANDS:
        assert f"\n  {name} " in text


def test_a_missing_or_ambiguous_command_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="defines 0 commands named 'nope'"):
        resolve("peer.cli.node", "nope")
    group = LazyGroup(name="g", lazy_commands={"x": "peer.cli.node"})
    with pytest.raises(RuntimeError, match=r"peer\.cli\.node defines 0 commands named 'x'"):
        group.get_command(click.Context(group), "x")
    assert group.get_command(click.Context(group), "other") is None
