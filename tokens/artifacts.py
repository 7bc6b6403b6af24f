"""Read the compiled contract artifacts (``contracts/build/*.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
class Artifact:
    """ABI and bytecode of one contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    blueprint_bytecode: str
    compiler: str


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
        )
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"missing contract artifact {path}; run scripts/build-contracts"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"unreadable contract artifact {path}: {exc}") from exc
