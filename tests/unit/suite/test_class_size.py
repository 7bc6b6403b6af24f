"""No class in ``peer/`` has more than 30 public methods (docs/ARCHITECTURE.md, "Index parts").

A class that answers to that many callers plays several roles; split it along them instead
(``FeedIndex`` is made of ``writes``, ``view``, ``sync`` and ``queries``). Public methods are
the functions defined in a class body whose name does not start with ``_`` (properties count);
those a class inherits from another class of ``peer/`` count too, so a class split into mixins
is still one class. Read from the source (AST), nothing is imported.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LIMIT = 30
EXCEPTIONS: frozenset[str] = frozenset()
"""Qualified names (``peer.x.Class``) allowed over the limit, each with a reason; none now."""


@dataclass(frozen=True)
class ClassInfo:
    name: str
    module: str
    methods: frozenset[str]
    bases: tuple[str, ...]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):  # Generic[T], Protocol[T]
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def classes_of(source: str, module: str) -> list[ClassInfo]:
    """Every class (nested ones too) of one module, with its own public methods."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            methods = frozenset(
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and not item.name.startswith("_")
            )
            bases = tuple(b for b in map(_base_name, node.bases) if b is not None)
            found.append(ClassInfo(node.name, module, methods, bases))
    return found


def public_methods(info: ClassInfo, by_name: dict[str, list[ClassInfo]]) -> frozenset[str]:
    """``info``'s public methods and those of its bases defined in the scanned code."""
    seen: set[int] = set()
    todo, methods = [info], set[str]()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        methods |= current.methods
        for base in current.bases:
            candidates = by_name.get(base, [])
            same_module = [c for c in candidates if c.module == current.module]
            todo.extend(same_module or candidates)
    return frozenset(methods)


def oversized(sources: dict[str, str], limit: int = LIMIT) -> dict[str, int]:
    """``{module.Class: public methods}`` of the classes over ``limit``."""
    infos = [c for module, source in sources.items() for c in classes_of(source, module)]
    by_name: dict[str, list[ClassInfo]] = {}
    for info in infos:
        by_name.setdefault(info.name, []).append(info)
    counts = {f"{i.module}.{i.name}": len(public_methods(i, by_name)) for i in infos}
    return {name: n for name, n in counts.items() if n > limit}


def test_no_class_in_peer_has_more_than_30_public_methods() -> None:
    sources = {_module(p): p.read_text() for p in sorted((ROOT / "peer").rglob("*.py"))}
    assert len(sources) > 100  # the scan found the package
    over = {name: n for name, n in oversized(sources).items() if name not in EXCEPTIONS}
    assert over == {}, f"split these along their roles: {over}"


def test_the_check_counts_inherited_methods_and_properties() -> None:
    base = "\n".join(f"    def m{n}(self) -> None: ...\n" for n in range(20))
    own = "\n".join(f"    async def n{n}(self) -> None: ...\n" for n in range(10))
    source = (
        f"class Base:\n{base}\n"
        f"class Wide(Base):\n{own}\n"
        "    @property\n    def size(self) -> int: ...\n"
        "    def _private(self) -> None: ...\n"
        "    def __len__(self) -> int: ...\n"
    )
    assert oversized({"m": source}) == {"m.Wide": 31}
    assert oversized({"m": source}, limit=31) == {}
