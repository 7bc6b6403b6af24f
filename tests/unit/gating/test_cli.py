"""``toktok unlock`` / ``toktok gating``: the requests they send to the daemon."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from peer.cli.context import CliState
from peer.cli.main import cli

POST = "0x" + "ab" * 32
PLAN = {
    "token": "0x" + "12" * 20,
    "amount": "5",
    "quote": "100",
    "maxCost": "101",
    "max_cost": "101",
}


class FakeDaemon:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def get(self, path: str) -> Any:
        self.calls.append(("GET", path, None))
        return PLAN

    def post(self, path: str, body: Any = None) -> Any:
        self.calls.append(("POST", path, body))
        if path.endswith("/unlock") and path.startswith("/api/v1/creators/"):
            return {"results": [{"post": POST, "unlocked": True, "error": None, "code": None}]}
        if path.endswith("/unlock"):
            return {"post": POST, "unlocked": True, "bought": None}
        return {"imported": 3}


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> FakeDaemon:
    fake = FakeDaemon()
    monkeypatch.setattr(CliState, "require_daemon", lambda self: fake)
    return fake


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args], input=stdin)


def test_unlock_sends_no_buy_by_default(daemon: FakeDaemon, tmp_path: Path) -> None:
    result = run(tmp_path, "unlock", POST, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unlocked"] is True
    assert daemon.calls == [("POST", f"/api/v1/clips/{POST}/unlock", {"buy": False})]


def test_unlock_buy_asks_and_sends_the_confirmed_maximum(
    daemon: FakeDaemon, tmp_path: Path
) -> None:
    declined = run(tmp_path, "unlock", POST, "--buy", stdin="n\n")
    assert declined.exit_code != 0
    assert [c[0] for c in daemon.calls] == ["GET"]
    daemon.calls.clear()
    result = run(tmp_path, "unlock", POST, "--buy", "--slippage", "50", stdin="y\n")
    assert result.exit_code == 0, result.output
    assert daemon.calls[0] == ("GET", f"/api/v1/clips/{POST}/buy-plan?slippage=50", None)
    assert daemon.calls[1][2] == {"buy": True, "max_cost": "101"}
    daemon.calls.clear()
    assert run(tmp_path, "unlock", POST, "--buy", "--yes").exit_code == 0
    assert daemon.calls[1][2] == {"buy": True, "max_cost": "101"}


def test_unlock_buy_uses_the_daemon_default_bound_and_warns_on_a_large_buy(
    daemon: FakeDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = run(tmp_path, "unlock", POST, "--buy", "--yes")
    assert small.exit_code == 0, small.output
    assert daemon.calls[0] == ("GET", f"/api/v1/clips/{POST}/buy-plan", None)
    assert "warning" not in small.output
    large = {**PLAN, "quote": str(400 * 10**18), "max_cost": str(402 * 10**18)}
    monkeypatch.setitem(PLAN, "quote", large["quote"])
    monkeypatch.setitem(PLAN, "max_cost", large["max_cost"])
    warned = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "unlock", POST, "--buy", "--yes"]
    )
    assert warned.exit_code == 0, warned.output
    assert "warning: large trade (400 TOK)" in warned.output
    assert "up to 2 TOK worse" in warned.output


def test_unlock_of_a_creator_is_a_batch(daemon: FakeDaemon, tmp_path: Path) -> None:
    creator = "0x" + "cd" * 20
    result = run(tmp_path, "unlock", creator)
    assert result.exit_code == 0, result.output
    assert "unlocked" in result.output
    assert daemon.calls == [("POST", f"/api/v1/creators/{creator}/unlock", {})]


def test_bad_target_is_refused_before_any_request(daemon: FakeDaemon, tmp_path: Path) -> None:
    assert run(tmp_path, "unlock", "nope").exit_code != 0
    assert daemon.calls == []


def test_delegate_and_revoke(daemon: FakeDaemon, tmp_path: Path) -> None:
    peer = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWx"
    assert "3 new keys" in run(tmp_path, "gating", "delegate", peer).output
    assert "keeps the keys" in run(tmp_path, "gating", "revoke", peer).output
    assert [c[1] for c in daemon.calls] == ["/api/v1/gating/delegate", "/api/v1/gating/revoke"]
