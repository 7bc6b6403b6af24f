"""Compile the Vyper contracts in ``contracts/`` into ``contracts/build/*.json``.

Run through ``scripts/build-contracts`` (``--check`` compares instead of writing).
Needs the dev extra (``vyper``, ``snekmate``); the runtime package only reads the
artifacts (:mod:`tokens.artifacts`).

Artifact shape: ``{"contractName", "compiler", "abi", "bytecode", "bytecodeRuntime",
"blueprintBytecode", "codeLayout"}`` (hex strings with ``0x``). ``blueprintBytecode`` is the
ERC-5202 blueprint initcode, deployed for contracts that a factory creates from a blueprint.
``codeLayout`` maps each immutable (dotted path through modules) to its ``offset``, ``length``
and ``type`` in the data section appended to the runtime code: with it a client computes the
exact code a deployment must have (:mod:`tokens.codecheck`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tokens.artifacts import CONTRACT_NAMES, default_build_dir, default_contracts_dir
from tokens.errors import ArtifactError

_FORMATS = ("abi", "bytecode", "bytecode_runtime", "blueprint_bytecode", "layout")


def _vyper(*args: str) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "vyper", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ArtifactError(f"cannot run the vyper compiler: {exc}") from exc
    if done.returncode != 0:
        raise ArtifactError(f"vyper failed: {done.stderr.strip()}")
    return done.stdout


def compiler_version() -> str:
    """The vyper version string, e.g. ``0.4.3+commit.bff19ea2``."""
    return _vyper("--version").strip()


def compile_contract(source: Path, version: str) -> dict[str, Any]:
    """Compile one ``.vy`` file into an artifact dict."""
    lines = _vyper("-f", ",".join(_FORMATS), str(source)).strip().splitlines()
    if len(lines) != len(_FORMATS):
        raise ArtifactError(f"unexpected vyper output for {source.name}")
    abi_text, bytecode, runtime, blueprint, layout_text = lines
    return {
        "contractName": source.stem,
        "compiler": f"vyper {version}",
        "abi": json.loads(abi_text),
        "bytecode": bytecode,
        "bytecodeRuntime": runtime,
        "blueprintBytecode": blueprint,
        "codeLayout": flatten_code_layout(json.loads(layout_text).get("code_layout", {})),
    }


def flatten_code_layout(tree: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Vyper's nested ``code_layout`` (modules inside modules) as ``{"a.b.name": entry}``."""
    flat: dict[str, dict[str, Any]] = {}
    for name, value in tree.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict) and {"offset", "length", "type"} <= set(value):
            flat[path] = {k: value[k] for k in ("offset", "length", "type")}
        elif isinstance(value, dict):
            flat.update(flatten_code_layout(value, f"{path}."))
    return flat


def build_all(contracts_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Compile every product contract; returns name -> artifact."""
    folder = contracts_dir or default_contracts_dir()
    version = compiler_version()
    with ThreadPoolExecutor(max_workers=len(CONTRACT_NAMES)) as pool:
        built = pool.map(lambda n: compile_contract(folder / f"{n}.vy", version), CONTRACT_NAMES)
        return dict(zip(CONTRACT_NAMES, built, strict=True))


def render(artifact: dict[str, Any]) -> str:
    """The exact text written for an artifact (stable key order, trailing newline)."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if artifacts are stale")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    out: Path = args.out or default_build_dir()
    stale: list[str] = []
    for name, artifact in build_all().items():
        target = out / f"{name}.json"
        text = render(artifact)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(name)
            continue
        out.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(text)
        tmp.replace(target)
        print(f"wrote {target}")
    if stale:
        print(f"stale artifacts: {', '.join(stale)}; run scripts/build-contracts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
