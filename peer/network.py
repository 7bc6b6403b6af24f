"""Network profiles on the peer side: which profile a data dir uses, joining and exporting one.

A profile (format: :mod:`tokens.deployment`) bundles a chain (id, RPC URLs, contract addresses
and parameters) with the peers to dial (bootstrap, relays, routing hints). Joining copies it to
``<data-dir>/network.json`` and sets ``chain.mode = "rpc"`` with
``chain.deployment_file = "network.json"`` in the data dir's ``config.toml``; a relative
``deployment_file`` is read from the data dir. The daemon checks the profile against the chain
(:mod:`tokens.codecheck`) before it uses it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from peer.config import ChainSection, toml_value
from peer.errors import ConfigError
from tokens.deployment import Deployment, load_deployment, save_deployment
from tokens.errors import DeploymentError

PROFILE_FILE = "network.json"


def profile_path(settings: ChainSection, data_root: Path) -> Path:
    """The deployment file of ``chain.mode = rpc``: absolute, or relative to the data dir."""
    if not settings.deployment_file:
        raise ConfigError(
            "chain.mode = 'rpc' needs chain.deployment_file (a network profile); "
            "join a network with 'toktok network join PROFILE'"
        )
    path = Path(settings.deployment_file).expanduser()
    return path if path.is_absolute() else data_root / path


def load_network(settings: ChainSection, data_root: Path) -> Deployment | None:
    """The profile of an ``rpc`` peer (None for devnet/off); :class:`ConfigError` if unusable."""
    if settings.mode != "rpc":
        return None
    path = profile_path(settings, data_root)
    try:
        deployment = load_deployment(path)
    except DeploymentError as exc:
        raise ConfigError(str(exc)) from exc
    rpc_url(settings, deployment)  # fail at start, not at the first chain call
    return deployment


def rpc_url(settings: ChainSection, deployment: Deployment) -> str:
    """``chain.rpc_url`` when set, else the profile's first RPC URL."""
    url = settings.rpc_url or (deployment.rpc_urls[0] if deployment.rpc_urls else "")
    if not url:
        raise ConfigError(
            "no RPC URL: set chain.rpc_url or use a network profile that lists rpc_urls"
        )
    return url


def update_data_config(data_root: Path, section: str, values: dict[str, Any]) -> Path:
    """Set ``values`` in one section of ``<data-dir>/config.toml``, keeping other settings.

    The file is rewritten atomically (comments in it are not kept; a copy of the previous
    file stays as ``config.toml.bak``).
    """
    path = data_root / "config.toml"
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            current = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        path.with_name("config.toml.bak").write_bytes(path.read_bytes())
    current.setdefault(section, {}).update(values)
    lines: list[str] = []
    for name, table in current.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: top-level key {name!r} is not a section")
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
        lines.append("")
    data_root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("config.toml.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return path


def join(data_root: Path, source: Path) -> Deployment:
    """Configure the peer in ``data_root`` for the profile in ``source``."""
    try:
        profile = load_deployment(source)
    except DeploymentError as exc:
        raise ConfigError(str(exc)) from exc
    if not profile.rpc_urls:
        raise ConfigError(f"{source} lists no rpc_urls: it is a deployment, not a profile")
    save_deployment(data_root / PROFILE_FILE, profile)
    update_data_config(
        data_root, "chain", {"mode": "rpc", "deployment_file": PROFILE_FILE, "rpc_url": ""}
    )
    return profile


def export(
    deployment: Deployment,
    *,
    name: str,
    rpc_urls: tuple[str, ...],
    bootstrap: tuple[str, ...],
    relays: tuple[str, ...] = (),
) -> Deployment:
    """A profile for others: this deployment plus where to reach its chain and peers."""
    if not rpc_urls:
        raise ConfigError("a profile needs at least one RPC URL others can reach")
    return replace(deployment, name=name, rpc_urls=rpc_urls, bootstrap=bootstrap, relays=relays)
