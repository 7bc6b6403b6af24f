"""Import boundaries of every package, from one declared table (docs/ARCHITECTURE.md, "Packages").

``TOP`` says which of the repository's Python packages each one may import; ``PEER`` says which of
``peer``'s sub-packages each sub-package may import (``peer`` stands for the modules at the top of
``peer/``: bus, config, datadir, errors, network). Every import counts, also those inside functions
or under ``TYPE_CHECKING``. The doc's two tables must say the same as these.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "ARCHITECTURE.md"

TOP: dict[str, frozenset[str]] = {
    "storage": frozenset(),
    "tokens": frozenset(),
    "webui": frozenset(),
    "peer": frozenset({"storage", "tokens", "webui"}),
    "netbed": frozenset({"peer", "tokens"}),
}
WEBUI_IMPORTERS = frozenset({"peer.api"})  # the API server serves webui's files

PEER: dict[str, frozenset[str]] = {
    "peer": frozenset(),
    "peer.p2p": frozenset(),
    "peer.feed": frozenset({"peer.p2p"}),
    "peer.sync": frozenset({"peer.feed", "peer.p2p"}),
    "peer.gating": frozenset({"peer", "peer.feed", "peer.p2p"}),
    "peer.replication": frozenset({"peer"}),
    "peer.daemon": frozenset(
        {
            "peer",
            "peer.api",
            "peer.feed",
            "peer.gating",
            "peer.p2p",
            "peer.replication",
            "peer.social",
            "peer.sync",
        }
    ),
    "peer.social": frozenset({"peer", "peer.feed"}),
    "peer.api": frozenset(
        {"peer", "peer.daemon", "peer.feed", "peer.gating", "peer.p2p", "peer.social"}
    ),
    "peer.cli": frozenset({"peer", "peer.daemon", "peer.p2p"}),
    "peer.demo": frozenset({"peer", "peer.cli"}),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    own = module_name(path, root).split(".")
    package = own if path.name == "__init__.py" else own[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def unit_of(module: str) -> str | None:
    """The table entry a module belongs to (``peer.feed``, ``storage``, …), or None if foreign."""
    parts = module.split(".")
    if parts[0] not in TOP:
        return None
    if parts[0] == "peer" and len(parts) > 1 and f"peer.{parts[1]}" in PEER:
        return f"peer.{parts[1]}"
    return parts[0]


def allowed(source: str, target: str) -> bool:
    """May code of table entry ``source`` import table entry ``target``?"""
    if source == target:
        return True
    source_top, target_top = source.split(".")[0], target.split(".")[0]
    if source_top == target_top:
        return target in PEER[source]
    if target_top == "webui":
        return source in WEBUI_IMPORTERS
    return target_top in TOP[source_top]


def violations() -> list[str]:
    found = []
    for top in TOP:
        for path in sorted((ROOT / top).rglob("*.py")):
            source = unit_of(module_name(path))
            assert source is not None
            for module in sorted(imported_modules(path)):
                target = unit_of(module)
                if target is not None and not allowed(source, target):
                    found.append(f"{path.relative_to(ROOT)}: {source} imports {module}")
    return found


def test_no_package_imports_what_the_table_forbids() -> None:
    assert violations() == []


def test_the_table_covers_every_package_and_peer_sub_package() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == set(TOP)
    subs = {f"peer.{p.parent.name}" for p in (ROOT / "peer").glob("*/*.py")}
    assert subs | {"peer"} == set(PEER)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("storage", "peer"),
        ("storage", "tokens"),
        ("tokens", "storage"),
        ("tokens", "peer.feed"),
        ("webui", "peer.api"),
        ("peer.daemon", "webui"),
        ("peer.feed", "peer.api"),
        ("peer.p2p", "peer.feed"),
        ("peer.sync", "peer.daemon"),
    ],
)
def test_forbidden_edges_are_refused(source: str, target: str) -> None:
    assert not allowed(source, target)


def test_relative_and_function_level_imports_are_seen(tmp_path: Path) -> None:
    module = tmp_path / "peer" / "feed" / "view.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from ..api import server\nfrom . import wire\n\n\n"
        "def f() -> None:\n    import storage.cid\n"
    )
    found = imported_modules(module, tmp_path)
    assert {"peer.api", "peer.api.server", "peer.feed.wire", "storage.cid"} <= found


def doc_name(text: str) -> str:
    name = text.strip().strip("`")
    return "peer" if name == "peer/*.py" else name.strip("/").replace("/", ".")


def doc_table(heading: str) -> dict[str, frozenset[str]]:
    """``{name: allowed}`` from the doc's table under ``heading``: the backticked names of the last
    column, leaving out those after "never" and those in parentheses."""
    text = DOC.read_text()
    rows: dict[str, frozenset[str]] = {}
    for line in text[text.index(heading) :].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        allowed_text = re.sub(r"\([^)]*\)", "", cells[-1]).split("never")[0]
        rows[doc_name(cells[0])] = frozenset(
            doc_name(n) for n in re.findall(r"`[^`]+`", allowed_text)
        )
    return rows


def test_the_doc_says_what_the_test_checks() -> None:
    top = doc_table("## Packages (repository root)")
    assert {name: top.get(name) for name in TOP} == TOP
    assert doc_table("### Imports inside `peer/`") == PEER
