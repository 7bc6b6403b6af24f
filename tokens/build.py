"""Compile the Vyper contracts in ``contracts/`` into ``contracts/build/*.json``.

Run through ``scripts/build-contracts`` (``--check`` compares instead of writing).
Needs the dev extra (``vyper``, ``snekmate``); the runtime package only reads the
artifacts (:mod:`tokens.artifacts`).

Artifact shape: ``{"contractName", "compiler", "evmVersion", "abi", "bytecode",
"bytecodeRuntime", "blueprintBytecode", "codeLayout"}`` (hex strings with ``0x``).
``blueprintBytecode`` is the ERC-5202 blueprint initcode, deployed for contracts that a factory
creates from a blueprint. ``codeLayout`` maps each immutable (dotted path through modules) to its
``offset``, ``length`` and ``type`` in the data section appended to the runtime code: with it a
client computes the exact code a deployment must have (:mod:`tokens.codecheck`). Beside each
artifact, ``<name>.solc.json`` is the compiler's standard-JSON input (``vyper -f solc_json``):
every source with its contents and the settings, which is what a block explorer needs to
verify the deployed bytecode.

The EVM version is pinned (:data:`EVM_VERSION`) rather than left to the compiler's default,
which moves with compiler releases. The sources are compiled from a staging folder holding
``contracts/*.vy`` and the ``snekmate`` modules under fixed relative paths, so the
verification input names no path of this machine and every checkout builds identical files.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tokens.artifacts import CONTRACT_NAMES, default_build_dir, default_contracts_dir
from tokens.errors import ArtifactError

_FORMATS = ("abi", "bytecode", "bytecode_runtime", "blueprint_bytecode", "layout")

# Cancun: the EVM of Ethereum since March 2024 and of the rollups a public profile would
# target (OP Stack chains such as Base and OP Mainnet, Arbitrum One); it has the TLOAD/TSTORE
# that Vyper's re-entrancy lock uses and MCOPY. Prague (the compiler's default) would add
# nothing these contracts use and rule out chains that have not upgraded yet.
EVM_VERSION = "cancun"
VERIFICATION_SUFFIX = ".solc.json"


def _vyper(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "vyper", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            cwd=cwd,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ArtifactError(f"cannot run the vyper compiler: {exc}") from exc
    if done.returncode != 0:
        raise ArtifactError(f"vyper failed: {done.stderr.strip()}")
    return done.stdout


def compiler_version() -> str:
    """The vyper version string, e.g. ``0.4.3+commit.bff19ea2``."""
    return _vyper("--version").strip()


def _snekmate_dir() -> Path:
    spec = importlib.util.find_spec("snekmate")
    if spec is None or not spec.submodule_search_locations:
        raise ArtifactError("snekmate is not installed (the dev extra): run scripts/setup")
    return Path(next(iter(spec.submodule_search_locations)))


def stage_sources(contracts_dir: Path, stage: Path) -> None:
    """Copy the contracts and the snekmate modules into `stage` (``contracts/``, ``snekmate/``)."""
    shutil.copytree(contracts_dir, stage / "contracts", ignore=shutil.ignore_patterns("build"))
    shutil.copytree(
        _snekmate_dir(),
        stage / "snekmate",
        ignore=_not_vyper,
    )


def _not_vyper(folder: str, names: list[str]) -> list[str]:
    """For ``copytree``: skip everything but Vyper sources and the folders holding them."""
    return [
        n
        for n in names
        if n == "__pycache__" or (Path(folder, n).is_file() and not n.endswith((".vy", ".vyi")))
    ]


def compile_contract(stage: Path, name: str, version: str) -> tuple[dict[str, Any], str]:
    """Compile ``contracts/<name>.vy`` inside `stage`: the artifact dict and the verification
    input (standard JSON, rendered)."""
    common = ("--evm-version", EVM_VERSION, "--disable-sys-path", "-p", ".")
    source = f"contracts/{name}.vy"
    lines = _vyper(*common, "-f", ",".join(_FORMATS), source, cwd=stage).strip().splitlines()
    if len(lines) != len(_FORMATS):
        raise ArtifactError(f"unexpected vyper output for {name}")
    abi_text, bytecode, runtime, blueprint, layout_text = lines
    verification = json.loads(_vyper(*common, "-f", "solc_json", source, cwd=stage))
    artifact = {
        "contractName": name,
        "compiler": f"vyper {version}",
        "evmVersion": EVM_VERSION,
        "abi": json.loads(abi_text),
        "bytecode": bytecode,
        "bytecodeRuntime": runtime,
        "blueprintBytecode": blueprint,
        "codeLayout": flatten_code_layout(json.loads(layout_text).get("code_layout", {})),
    }
    return artifact, render(verification)


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


def compile_file(source: Path) -> dict[str, Any]:
    """Compile one standalone ``.vy`` file (e.g. a test contract) like the product ones."""
    with tempfile.TemporaryDirectory(prefix="toktok-vyper-") as tmp:
        stage = Path(tmp)
        (stage / "contracts").mkdir()
        shutil.copy2(source, stage / "contracts" / source.name)
        return compile_contract(stage, source.stem, compiler_version())[0]


def build_outputs(contracts_dir: Path | None = None) -> dict[str, str]:
    """Every file of ``contracts/build``: file name -> exact text."""
    folder = contracts_dir or default_contracts_dir()
    version = compiler_version()
    with tempfile.TemporaryDirectory(prefix="toktok-vyper-") as tmp:
        stage = Path(tmp)
        stage_sources(folder, stage)
        with ThreadPoolExecutor(max_workers=len(CONTRACT_NAMES)) as pool:
            built = list(pool.map(lambda n: compile_contract(stage, n, version), CONTRACT_NAMES))
    out: dict[str, str] = {}
    for name, (artifact, verification) in zip(CONTRACT_NAMES, built, strict=True):
        out[f"{name}.json"] = render(artifact)
        out[f"{name}{VERIFICATION_SUFFIX}"] = verification
    return out


def build_all(contracts_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Compile every product contract; returns name -> artifact."""
    outputs = build_outputs(contracts_dir)
    return {name: json.loads(outputs[f"{name}.json"]) for name in CONTRACT_NAMES}


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
    for name, text in build_outputs().items():
        target = out / name
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(name)
            continue
        out.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
        print(f"wrote {target}")
    if stale:
        print(f"stale artifacts: {', '.join(stale)}; run scripts/build-contracts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
