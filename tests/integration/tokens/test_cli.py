"""The wallet and token CLI against a real devnet started by each command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account

from peer.cli.main import cli
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.integration


def run(data: Path, *args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data), *args], env={"TOKTOK_PASSPHRASE": "pw-for-tests"}
    )
    if ok:
        assert result.exit_code == 0, result.output
        return json.loads(result.output) if "--json" in args else result.output
    assert result.exit_code != 0
    return result.output


def test_wallet_and_token_commands_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "peer"
    data.mkdir()
    me = Account.from_key(DEV_PRIVATE_KEYS[2]).address
    assert run(data, "wallet", "import", "--dev-account", "2", "--json") == {"address": me}
    assert run(data, "wallet", "address", "--json") == {"address": me}
    assert json.loads(run(data, "wallet", "export"))["address"].lower() == me[2:].lower()
    run(data, "wallet", "create", ok=False)  # never overwrites silently

    created = run(data, "token", "create", "CLI Creator", "CLI", "--json")
    assert created["creator"] == me
    quote = run(data, "token", "quote", me, "2", "--json")
    assert quote["side"] == "buy"
    bought = run(data, "token", "buy", me, "2", "--yes", "--json")
    assert bought["tok"] == quote["total_tok"]
    assert run(data, "token", "balance", me, "--json")["balance"] == "2"
    sold = run(data, "token", "sell", created["token"], "0.5", "--yes", "--json")
    assert sold["amount"] == "0.5"
    info = run(data, "token", "info", me, "--json")
    assert (info["supply"], info["symbol"], info["holders"]) == ("1.5", "CLI", 1)
    tok = run(data, "token", "balance", "--json")
    assert tok["token"] == "TOK"
    run(data, "token", "buy", me, "-1", "--yes", ok=False)
