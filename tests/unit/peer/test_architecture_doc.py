"""docs/ARCHITECTURE.md names the code as it is: every ``peer/`` sub-package and daemon module
is in the package tables, and every file "A clip's path" walks through exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PATH = re.compile(r"`((?:peer|storage|tokens|webui)/[\w/.]+\.(?:py|js))`")


def _section(title: str) -> str:
    start = DOC.index(f"\n## {title}\n")
    end = DOC.index("\n## ", start + 1)
    return DOC[start:end]


def test_every_peer_subpackage_and_daemon_module_is_in_the_tables() -> None:
    packages = sorted(
        p.parent.name for p in (ROOT / "peer").glob("*/__init__.py") if p.parent.name != "daemon"
    )
    modules = sorted(
        p.name for p in (ROOT / "peer" / "daemon").glob("*.py") if p.name != "__init__.py"
    )
    missing = [f"peer/{p}/" for p in packages if f"`peer/{p}/`" not in DOC]
    missing += [m for m in modules if f"| `{m}` |" not in DOC]
    assert not missing, f"not in docs/ARCHITECTURE.md's package tables: {missing}"


def test_every_file_of_a_clips_path_exists() -> None:
    named = PATH.findall(_section("A clip's path"))
    assert len(named) > 30
    absent = [path for path in named if not (ROOT / path).is_file()]
    assert not absent, f"'A clip's path' names files that do not exist: {absent}"
