"""Deployment file: strict decoding, atomic writes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tokens.deployment import Deployment, load_deployment, save_deployment
from tokens.errors import DeploymentError

GOOD: dict[str, Any] = {
    "version": 1,
    "chain_id": 31337,
    "tok": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    "factory": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "start_block": 0,
}


def test_round_trip_checksums_addresses(tmp_path: Path) -> None:
    d = Deployment.from_json(GOOD)
    assert d.tok == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    save_deployment(tmp_path / "devnet" / "deployment.json", d)
    assert load_deployment(tmp_path / "devnet" / "deployment.json") == d
    assert not list((tmp_path / "devnet").glob("*.tmp"))


@pytest.mark.parametrize(
    "patch",
    [
        {"version": 3},
        {"tok": "0x1234"},
        {"chain_id": "31337"},
        {"start_block": -1},
        {"surprise": 1},
        {"factory": None},
        {"creator_fee_bps": True},
    ],
)
def test_bad_deployments_are_refused(patch: dict[str, Any]) -> None:
    with pytest.raises(DeploymentError):
        Deployment.from_json({**GOOD, **patch})


def test_missing_field_is_refused() -> None:
    data = dict(GOOD)
    del data["factory"]
    with pytest.raises(DeploymentError, match="factory"):
        Deployment.from_json(data)


def test_missing_or_garbled_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="start the devnet"):
        load_deployment(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DeploymentError):
        load_deployment(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text(json.dumps([1]))
    with pytest.raises(DeploymentError):
        load_deployment(tmp_path / "list.json")


def test_dev_accounts_are_the_anvil_accounts() -> None:
    from tokens.devnet import dev_account, dev_addresses
    from tokens.errors import DevnetError

    assert dev_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert dev_addresses()[9] == "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
    with pytest.raises(DevnetError):
        dev_account(10)
