"""Joining a network profile configures the data dir (peer.network)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from peer.config import ChainSection, load_config
from peer.daemon.chain import REPO_ROOT
from peer.errors import ConfigError
from peer.network import PROFILE_FILE, join, load_network, profile_path, rpc_url
from tokens.deployment import Deployment, save_deployment

ADDR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PROFILE = Deployment(
    chain_id=31337, tok=ADDR, factory=ADDR, start_block=0, blueprint=ADDR, treasury=ADDR,
    name="friends", rpc_urls=("http://198.18.0.1:8545",),
    bootstrap=("/ip4/198.18.0.2/tcp/4001/p2p/12D3KooWExample",),
)  # fmt: skip


def test_join_writes_the_profile_and_rpc_mode_keeping_other_settings(tmp_path: Path) -> None:
    source = tmp_path / "shared.json"
    save_deployment(source, PROFILE)
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text("[ui]\nport = 8123\n\n[chain]\nblock_time_s = 2\n")
    join(data, source)
    written = tomllib.loads((data / "config.toml").read_text())
    assert written["ui"] == {"port": 8123}
    assert written["chain"] == {
        "block_time_s": 2, "mode": "rpc", "deployment_file": PROFILE_FILE, "rpc_url": "",
    }  # fmt: skip
    config = load_config(data, config_file=None, environ={})
    assert config.chain.mode == "rpc"
    assert load_network(config.chain, data) == PROFILE
    assert (data / "config.toml.bak").read_text().startswith("[ui]")


def test_a_deployment_without_rpc_urls_is_not_a_profile(tmp_path: Path) -> None:
    source = tmp_path / "d.json"
    save_deployment(source, Deployment(chain_id=1, tok=ADDR, factory=ADDR, start_block=0))
    with pytest.raises(ConfigError, match="no rpc_urls"):
        join(tmp_path / "data", source)
    assert not (tmp_path / "data" / PROFILE_FILE).exists()


def test_relative_profile_paths_are_read_from_the_data_dir(tmp_path: Path) -> None:
    settings = ChainSection(mode="rpc", deployment_file="network.json")
    assert profile_path(settings, tmp_path) == tmp_path / "network.json"
    with pytest.raises(ConfigError, match="toktok network join"):
        profile_path(ChainSection(mode="rpc"), tmp_path)


def test_the_configured_rpc_url_wins_over_the_profile() -> None:
    assert rpc_url(ChainSection(rpc_url="http://127.0.0.1:1"), PROFILE) == "http://127.0.0.1:1"
    assert rpc_url(ChainSection(), PROFILE) == "http://198.18.0.1:8545"
    with pytest.raises(ConfigError, match="no RPC URL"):
        rpc_url(ChainSection(), Deployment(chain_id=1, tok=ADDR, factory=ADDR, start_block=0))


def test_the_daemon_finds_the_repository_root() -> None:
    assert (REPO_ROOT / "pyproject.toml").is_file()
