"""Read the compiled contract artifacts (``contracts/build/*.json``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokens.errors import ArtifactError

CONTRACT_NAMES = ("TOK", "CreatorTokenFactory", "CreatorToken")


def default_contracts_dir() -> Path:
    """``contracts/`` at the repository root (the package is installed editable)."""
    return Path(__file__).resolve().parents[1] / "contracts"


def default_build_dir() -> Path:
    return default_contracts_dir() / "build"


@dataclass(frozen=True)
class ImmutableSlot:
    """Where one immutable sits in the data section after the runtime code."""

    offset: int
    length: int
    type: str


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    blueprint_bytecode: str
    compiler: str
    runtime_bytecode: str = ""
    code_layout: dict[str, ImmutableSlot] = field(default_factory=dict)


def load_artifact(name: str, build_dir: Path | None = None) -> Artifact:
    """Load one artifact; :class:`ArtifactError` when missing or malformed."""
    path = (build_dir or default_build_dir()) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
        return Artifact(
            name=str(data["contractName"]),
            abi=list(data["abi"]),
            bytecode=str(data["bytecode"]),
            blueprint_bytecode=str(data["blueprintBytecode"]),
            compiler=str(data["compiler"]),
            runtime_bytecode=str(data.get("bytecodeRuntime", "")),
            code_layout={
                str(name): ImmutableSlot(int(e["offset"]), int(e["length"]), str(e["type"]))
                for name, e in dict(data.get("codeLayout", {})).items()
            },
        )
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"missing contract artifact {path}; run scripts/build-contracts"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"unreadable contract artifact {path}: {exc}") from exc


def artifacts_fingerprint(build_dir: Path | None = None) -> str:
    """``sha256:<hex>`` over the deployable bytecode of every product contract.

    A deployment records the fingerprint of the artifacts it was made from, so a devnet can
    tell that its chain carries code built from other sources (and deploy again).
    """
    digest = hashlib.sha256()
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name, build_dir)
        for part in (name, artifact.bytecode, artifact.blueprint_bytecode):
            digest.update(part.encode())
            digest.update(b"\0")
    return f"sha256:{digest.hexdigest()}"
