"""A click group whose sub-commands are imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click


class LazyGroup(click.Group):
    """``lazy_commands`` maps a command name to the module defining it; the module is imported
    when the command is looked up, so running one command never imports the others."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = [name for name in super().list_commands(ctx) if name not in self._lazy]
        return [*self._lazy, *sorted(eager)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = self._lazy.get(cmd_name)
        if module_name is None:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self.commands:
            self.commands[cmd_name] = resolve(module_name, cmd_name)
        return self.commands[cmd_name]


def resolve(module_name: str, cmd_name: str) -> click.Command:
    """The top-level command named ``cmd_name`` in ``module_name``: one of the module's
    ``COMMANDS`` when it lists them (a module holding several top-level commands, some
    sharing a name with sub-commands), else a module-level command of that name."""
    module = importlib.import_module(module_name)
    listed = getattr(module, "COMMANDS", None)
    candidates = listed if isinstance(listed, tuple) else tuple(vars(module).values())
    found = [c for c in candidates if isinstance(c, click.Command) and c.name == cmd_name]
    if len(found) != 1:
        raise RuntimeError(f"{module_name} defines {len(found)} commands named {cmd_name!r}")
    return found[0]
