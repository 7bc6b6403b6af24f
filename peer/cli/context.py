"""What every CLI command gets: the data dir, the config, output helpers, daemon access.

Data-dir ownership (ARCHITECTURE "Concurrency"): a command that changes state calls
:meth:`CliState.change_state` with two implementations; with a daemon running the *remote* one
talks to its API, otherwise the command takes the data-dir lock and runs the *local* one
in-process, so two processes never write one data dir.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from peer.cli.client import DaemonClient
from peer.config import Config, load_config, parse_assignments
from peer.datadir import DataDir, DataDirLock, read_credentials
from peer.errors import BadRequestError, DaemonNotRunningError

T = TypeVar("T")


@dataclass
class CliState:
    """Options of the root command, shared by all sub-commands."""

    data_dir: DataDir
    config_file: Path | None
    settings: tuple[str, ...]
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(
                self.data_dir.root,
                config_file=self.config_file,
                flags=parse_assignments(list(self.settings)),
            )
        return self._config

    def daemon(self) -> DaemonClient | None:
        """A client of the daemon owning the data dir, or None when none runs."""
        creds = read_credentials(self.data_dir)
        return DaemonClient(creds) if creds is not None else None

    def require_daemon(self) -> DaemonClient:
        client = self.daemon()
        if client is None:
            raise DaemonNotRunningError(
                f"no Toktok daemon is running for {self.data_dir.root}; "
                "start one with 'toktok run' first"
            )
        return client

    def change_state(self, remote: Callable[[DaemonClient], T], local: Callable[[], T]) -> T:
        """Run ``remote`` through the running daemon, else ``local`` under the data-dir lock."""
        client = self.daemon()
        if client is not None:
            return remote(client)
        with DataDirLock(self.data_dir):
            return local()


pass_state = click.make_pass_decorator(CliState)


def refuse_data_dir_path(state: CliState, path: Path) -> None:
    """Refuse a file inside the data dir (symlinks resolved): its keys, wallet and credentials
    are never added to the store or published (the daemon refuses them too)."""
    if state.data_dir.contains(path):
        raise BadRequestError(
            f"{path} is inside the data dir {state.data_dir.root}; its keys, wallet and "
            "credentials are never added or published"
        )


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag of commands that print data."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text."
    )(func)


def emit(data: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON, or as text through ``render`` (default: key: value lines)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    click.echo(render(data) if render is not None else _lines(data))


def _lines(data: Any) -> str:
    if isinstance(data, Mapping):
        width = max((len(str(k)) for k in data), default=0)
        return "\n".join(f"{str(k) + ':':<{width + 1}} {_text(v)}" for k, v in data.items())
    return _text(data)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "-" if value is None or value == "" else str(value)


def fail(message: str) -> NoReturn:
    """Print an error for the user and exit with status 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
