"""Where the contracts live on a chain: the deployment description and its JSON file.

The devnet writes ``<data>/devnet/deployment.json``; on a real chain the same fields come
from config. Addresses are checksummed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from tokens.curve import CurveParams
from tokens.errors import DeploymentError

DEPLOYMENT_VERSION = 1


@dataclass(frozen=True)
class Deployment:
    """Addresses and parameters of one deployment of TOK + CreatorTokenFactory."""

    chain_id: int
    tok: str
    factory: str
    start_block: int
    blueprint: str = ""
    treasury: str = ""
    base_price: int = 0
    slope: int = 0
    creator_fee_bps: int = 0
    protocol_fee_bps: int = 0

    @property
    def curve(self) -> CurveParams:
        return CurveParams(self.base_price, self.slope, self.creator_fee_bps, self.protocol_fee_bps)

    def to_json(self) -> dict[str, Any]:
        return {"version": DEPLOYMENT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> Deployment:
        """Strictly decode a deployment dict; :class:`DeploymentError` on any mismatch."""
        if not isinstance(data, dict):
            raise DeploymentError("deployment must be a JSON object")
        if data.get("version") != DEPLOYMENT_VERSION:
            raise DeploymentError(f"unsupported deployment version {data.get('version')!r}")
        fields = {k: v for k, v in data.items() if k != "version"}
        known = set(cls.__dataclass_fields__)
        if unknown := set(fields) - known:
            raise DeploymentError(f"unknown deployment fields: {sorted(unknown)}")
        for name in ("chain_id", "tok", "factory", "start_block"):
            if name not in fields:
                raise DeploymentError(f"deployment lacks {name!r}")
        for name in ("tok", "factory", "blueprint", "treasury"):
            value = fields.get(name, "")
            if name in fields and value != "":
                if not isinstance(value, str) or not is_address(value):
                    raise DeploymentError(f"deployment {name!r} is not an address: {value!r}")
                fields[name] = to_checksum_address(value)
        for name in ("chain_id", "start_block", "base_price", "slope"):
            if name in fields and (type(fields[name]) is not int or fields[name] < 0):
                raise DeploymentError(f"deployment {name!r} must be a non-negative integer")
        for name in ("creator_fee_bps", "protocol_fee_bps"):
            if name in fields and (type(fields[name]) is not int or fields[name] < 0):
                raise DeploymentError(f"deployment {name!r} must be a non-negative integer")
        return cls(**fields)


def load_deployment(path: Path) -> Deployment:
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except FileNotFoundError as exc:
        raise DeploymentError(f"no deployment file at {path}; start the devnet first") from exc
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"unreadable deployment file {path}: {exc}") from exc


def save_deployment(path: Path, deployment: Deployment) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
