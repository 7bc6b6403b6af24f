"""The data dir a command uses when none is given: inside a Toktok checkout that ``scripts/run``
has used (a folder holding ``scripts/run`` and ``.toktok-data/peer``), that peer's data dir, so
``toktok status`` run from the repository finds the daemon ``scripts/run`` started; elsewhere
the user data dir. ``--data-dir`` and ``TOKTOK_DATA_DIR`` always win."""

from __future__ import annotations

from pathlib import Path

from peer.config import default_data_dir

RUN_DATA_DIR = Path(".toktok-data") / "peer"  # scripts/run's TOKTOK_DATA_DIR


def checkout_data_dir(start: Path) -> Path | None:
    """``.toktok-data/peer`` of the checkout holding ``start``, if scripts/run made one."""
    for folder in (start, *start.parents):
        if (folder / "scripts" / "run").is_file() and (folder / RUN_DATA_DIR).is_dir():
            return folder / RUN_DATA_DIR
    return None


def default_cli_data_dir() -> Path:
    return checkout_data_dir(Path.cwd()) or default_data_dir()
