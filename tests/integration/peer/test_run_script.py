"""``scripts/run`` as the README tells a newcomer to use it: devnet + peer, healthy, Ctrl-C.

A restart of ``scripts/run`` keeping the devnet's deployment and state is shown by
``tests/integration/demo/test_demo_run.py`` (its second run reuses the demo only while the
creator's token is still on the chain) and, for the devnet itself, by
``tests/integration/tokens/test_devnet.py::test_restart_keeps_deployment_tokens_and_balances``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from support.daemon import children_of, run_cli

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
# scripts/run first runs scripts/setup, which is quiet and quick after scripts/test set up, but
# installs again when package files changed since: allow for that, then 60 s for the peer.
SETUP_AND_START_S = 600


def read_url(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The UI origin (with a trailing slash) from the login URL scripts/run prints."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + SETUP_AND_START_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("http://127.0.0.1:"):
            origin, _, token = line.strip().partition("login?token=")
            assert token, f"scripts/run printed no login URL: {line}"
            return origin, seen
    raise AssertionError("scripts/run printed no URL:\n" + "".join(seen))


def get_json(url: str, data_dir: Path | None = None) -> tuple[int, dict[str, object]]:
    """GET ``url``, with the CLI credential of ``data_dir``'s daemon if given."""
    request = urllib.request.Request(url)
    if data_dir is not None:
        creds = json.loads((data_dir / "api.json").read_text())
        request.add_header("Authorization", f"Bearer {creds['cli_token']}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_scripts_run_starts_devnet_peer_and_funded_wallet_and_ctrl_c_stops_all(
    tmp_path: Path,
) -> None:
    # The plain peer (the demo creator peer beside it: tests/integration/demo/).
    env = {**os.environ, "TOKTOK_DATA_DIR": str(tmp_path / "peer"), "TOKTOK_DEMO": "0"}
    env.pop("TOKTOK_CHAIN_MODE", None)
    process = subprocess.Popen(
        [str(REPO / "scripts" / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        url, _ = read_url(process)
        status, health = get_json(url + "healthz")
        assert status == 200, health
        services = health["services"]
        assert isinstance(services, dict)
        assert set(services) >= {
            "p2p", "store", "wallet", "chain", "feed", "sync", "publish", "gating", "http",
        }, services  # fmt: skip
        assert set(services.values()) == {"ready"}, services
        _, info = get_json(url + "api/v1/status", tmp_path / "peer")
        chain = info["chain"]
        assert isinstance(chain, dict)
        assert chain["chain_id"] == 31337
        assert str(chain["rpc_url"]).startswith("http://127.0.0.1:")
        wallet = info["wallet"]
        assert isinstance(wallet, dict)
        assert wallet["state"] == "unlocked"
        assert str(wallet["address"]).startswith("0x")
        balance = run_cli(
            tmp_path / "peer", "token", "balance", "--json", env={"TOKTOK_CHAIN_MODE": "devnet"}
        )
        assert balance.returncode == 0, balance.stderr
        assert json.loads(balance.stdout) == {
            "balance": "10000",
            "holder": wallet["address"],
            "token": "TOK",
        }, "a new devnet wallet is funded with 10,000 TOK once"
        anvil = children_of(process.pid)
        assert len(anvil) == 1, "the peer runs exactly one child: anvil"
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(60) == 0
        assert not Path(f"/proc/{anvil[0]}").exists(), "anvil outlived the peer"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
