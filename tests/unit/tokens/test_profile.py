"""The network profile format: version 2 of the deployment file (tokens.deployment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokens.deployment import Deployment, load_deployment, save_deployment
from tokens.errors import DeploymentError

ADDR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
V1 = {"version": 1, "chain_id": 31337, "tok": ADDR, "factory": ADDR, "start_block": 0}


def test_version_1_deployments_still_load() -> None:
    d = Deployment.from_json(V1)
    assert (d.chain_id, d.name, d.rpc_urls, d.bootstrap) == (31337, "", (), ())


def test_profile_round_trips_with_network_fields(tmp_path: Path) -> None:
    profile = Deployment(
        chain_id=8453, tok=ADDR, factory=ADDR, start_block=7, blueprint=ADDR, treasury=ADDR,
        name="friends", rpc_urls=("http://198.18.0.1:8545",),
        bootstrap=("/ip4/198.18.0.2/tcp/4001/p2p/12D3KooWExample",), relays=(), routing=(),
    )  # fmt: skip
    save_deployment(tmp_path / "p.json", profile)
    written = json.loads((tmp_path / "p.json").read_text())
    assert written["version"] == 2
    assert written["rpc_urls"] == ["http://198.18.0.1:8545"]
    assert load_deployment(tmp_path / "p.json") == profile


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rpc_urls", "http://x", "list of at most 32"),
        ("rpc_urls", [""], "invalid entry"),
        ("bootstrap", ["/ip4/1.2.3.4\n"], "invalid entry"),
        ("relays", ["a"] * 33, "list of at most 32"),
        ("name", "x" * 65, "printable text"),
        ("name", "evil\x00", "printable text"),
        ("routing", [1], "invalid entry"),
    ],
)
def test_bad_profile_fields_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        Deployment.from_json({**V1, "version": 2, field: value})


def test_version_1_cannot_carry_network_fields() -> None:
    with pytest.raises(DeploymentError, match="version 1"):
        Deployment.from_json({**V1, "rpc_urls": ["http://x"]})


def test_oversized_and_deeply_nested_profiles_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**V1, "name": "x" * 20_000}))
    with pytest.raises(DeploymentError, match="larger than"):
        load_deployment(big)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 16_000)
    with pytest.raises(DeploymentError, match="unreadable"):
        load_deployment(deep)
