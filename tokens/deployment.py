"""Where the contracts live on a chain, and the network around them: the network profile.

One JSON format serves both: the devnet writes ``<data>/devnet/deployment.json``, and a
**network profile** (``toktok network create`` / ``export``) is the same object with the
network's name, RPC URLs, bootstrap and relay multiaddrs and content-routing hints filled in.
Version 1 files (contracts only) still load. Addresses are checksummed. The format is
documented in docs/ARCHITECTURE.md ("Network profiles"); nothing in a profile is trusted
until :mod:`tokens.codecheck` has compared the chain's code with our own artifacts.
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

DEPLOYMENT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_LIST_FIELDS = ("rpc_urls", "bootstrap", "relays", "routing")
MAX_PROFILE_BYTES = 16 * 1024  # far below the depth at which a nested JSON could hurt


@dataclass(frozen=True)
class Deployment:
    """Addresses and parameters of one deployment of TOK + CreatorTokenFactory, and (as a
    network profile) where its peers and RPC endpoints are."""

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
    name: str = ""
    rpc_urls: tuple[str, ...] = ()
    bootstrap: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()
    routing: tuple[str, ...] = ()
    # TOK's hard cap (contracts/TOK.vy `cap`, an immutable the code check needs); 0 in files
    # written before it was recorded.
    tok_cap: int = 0
    # ``sha256:<hex>`` of the artifacts deployed (tokens.artifacts.artifacts_fingerprint);
    # empty in files written before it was recorded.
    artifacts: str = ""

    @property
    def curve(self) -> CurveParams:
        return CurveParams(self.base_price, self.slope, self.creator_fee_bps, self.protocol_fee_bps)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _LIST_FIELDS:
            data[name] = list(data[name])
        return {"version": DEPLOYMENT_VERSION, **data}

    @classmethod
    def from_json(cls, data: Any) -> Deployment:
        """Strictly decode a deployment dict; :class:`DeploymentError` on any mismatch."""
        if not isinstance(data, dict):
            raise DeploymentError("deployment must be a JSON object")
        if data.get("version") not in READABLE_VERSIONS:
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
        for name in ("chain_id", "start_block", "base_price", "slope", "tok_cap"):
            if name in fields and (type(fields[name]) is not int or fields[name] < 0):
                raise DeploymentError(f"deployment {name!r} must be a non-negative integer")
        for name in ("creator_fee_bps", "protocol_fee_bps"):
            if name in fields and (type(fields[name]) is not int or fields[name] < 0):
                raise DeploymentError(f"deployment {name!r} must be a non-negative integer")
        if not isinstance(fields.get("artifacts", ""), str):
            raise DeploymentError("deployment 'artifacts' must be a string")
        if data["version"] == 1 and (newer := set(fields) & {"name", *_LIST_FIELDS}):
            raise DeploymentError(f"version 1 deployments have no {sorted(newer)}")
        if "name" in fields and not _printable(fields["name"], 64):
            raise DeploymentError("profile 'name' must be printable text of at most 64 characters")
        for name in _LIST_FIELDS:
            if name in fields:
                fields[name] = _strings(name, fields[name])
        return cls(**fields)


def _printable(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit and value.isprintable()


def _strings(name: str, value: Any) -> tuple[str, ...]:
    """A list of at most 32 printable strings (URLs or multiaddrs) of at most 512 characters."""
    if not isinstance(value, list) or len(value) > 32:
        raise DeploymentError(f"profile {name!r} must be a list of at most 32 strings")
    for item in value:
        if not _printable(item, 512) or not item:
            raise DeploymentError(f"profile {name!r} holds an invalid entry: {item!r}")
    return tuple(value)


def load_deployment(path: Path) -> Deployment:
    """Read a deployment or network profile file (at most 16 KiB)."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_PROFILE_BYTES:
            raise DeploymentError(f"{path} is larger than {MAX_PROFILE_BYTES} bytes")
        return Deployment.from_json(json.loads(raw))
    except FileNotFoundError as exc:
        raise DeploymentError(f"no deployment file at {path}; start the devnet first") from exc
    except (OSError, ValueError, RecursionError) as exc:  # a file the user may name
        raise DeploymentError(f"unreadable deployment file {path}: {str(exc)[:200]}") from exc


def save_deployment(path: Path, deployment: Deployment) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
