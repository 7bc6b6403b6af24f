"""The daemon as a user runs it: start, health, side-by-side peers, ownership, clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import Daemon, StartDaemon, children_of, run_cli, spawn_daemons, toktok

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Daemon]]:
    """Two daemons for the tests that only read them or connect them (started together, once
    for the module); a test that stops a daemon or changes its store starts its own."""
    root = tmp_path_factory.mktemp("daemons")
    env = {"XDG_CONFIG_HOME": str(root / "xdg-config"), "XDG_DATA_HOME": str(root / "xdg-data")}
    a, b = spawn_daemons(root / "a", root / "b", env=env)
    try:
        yield a, b
    finally:
        a.kill()
        b.kill()


def test_daemon_answers_healthz_and_status(pair: tuple[Daemon, Daemon]) -> None:
    daemon = pair[0]
    status, body = daemon.get("/healthz")
    assert status == 200, body
    assert body["ready"] is True
    assert body["services"] == {
        "p2p": "ready",
        "store": "ready",
        "wallet": "ready",
        "http": "ready",
    }
    status, info = daemon.get("/api/v1/status")
    assert status == 200
    assert info["ui_url"] == daemon.url
    assert info["data_dir"] == str(daemon.data_dir.resolve())
    assert info["peer_id"].startswith("12D3KooW")
    assert info["p2p_addrs"][0].startswith("/ip4/127.0.0.1/tcp/")


def test_cli_connects_two_running_peers(pair: tuple[Daemon, Daemon]) -> None:
    a, b = pair
    _, info_b = b.get("/api/v1/status")
    result = run_cli(a.data_dir, "connect", info_b["p2p_addrs"][0], "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["peer_id"] == info_b["peer_id"]
    listed = json.loads(run_cli(a.data_dir, "peers", "--json").stdout)
    assert info_b["peer_id"] in [p["peer_id"] for p in listed["peers"]]


def test_connect_to_a_malformed_address_is_a_clear_error(pair: tuple[Daemon, Daemon]) -> None:
    result = run_cli(pair[0].data_dir, "connect", "not-a-multiaddr")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr


def test_foreign_host_is_refused_by_the_running_daemon(pair: tuple[Daemon, Daemon]) -> None:
    daemon = pair[0]
    status, body = daemon.get("/healthz", host="rebind.example:80")
    assert status == 403
    assert body["error"]["code"] == "forbidden_host"


def test_two_peers_run_side_by_side(pair: tuple[Daemon, Daemon]) -> None:
    a, b = pair
    assert a.url != b.url
    _, status_a = a.get("/api/v1/status")
    _, status_b = b.get("/api/v1/status")
    assert status_a["content_url"] != status_b["content_url"]
    assert a.get("/healthz")[0] == b.get("/healthz")[0] == 200


def test_two_processes_never_own_one_data_dir(pair: tuple[Daemon, Daemon]) -> None:
    first = pair[0]
    second = subprocess.run(
        toktok(first.data_dir, "run"),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TOKTOK_CHAIN_MODE": "off"},
    )
    assert second.returncode == 1
    assert f"in use by process {first.process.pid}" in second.stderr
    assert first.get("/healthz")[0] == 200


def test_cli_commands_reach_the_running_daemon(pair: tuple[Daemon, Daemon]) -> None:
    daemon = pair[0]
    status = run_cli(daemon.data_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["running"] is True
    assert info["ui_url"] == daemon.url
    # A state-changing command does not fight the daemon for the lock.
    init = run_cli(daemon.data_dir, "init", "--json")
    assert init.returncode == 0, init.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_everything_cleanly(
    start_daemon: StartDaemon, tmp_path: Path, sig: int
) -> None:
    daemon = start_daemon(tmp_path / "a")
    assert (tmp_path / "a" / "api.json").exists()
    assert daemon.stop(sig) == 0
    assert not (tmp_path / "a" / "api.json").exists()
    assert children_of(daemon.process.pid) == []
    after = run_cli(tmp_path / "a", "status", "--json")
    assert json.loads(after.stdout)["running"] is False


def test_init_then_id_without_a_daemon(tmp_path: Path) -> None:
    init = run_cli(tmp_path / "a", "init", "--json")
    assert init.returncode == 0, init.stderr
    peer_id = json.loads(init.stdout)["peer_id"]
    assert peer_id.startswith("12D3KooW")
    shown = json.loads(run_cli(tmp_path / "a", "id", "--json").stdout)
    assert shown["peer_id"] == peer_id
    assert shown["running"] is False
    again = json.loads(run_cli(tmp_path / "a", "init", "--json").stdout)
    assert again["peer_id"] == peer_id  # the identity persists


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "a", "--set", "ui.port=abc", "config", "show")
    assert result.returncode == 1
    assert "ui.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_storage_commands_go_through_the_running_daemon(
    start_daemon: StartDaemon, tmp_path: Path
) -> None:
    start_daemon(tmp_path / "a")
    data = os.urandom(600_000)  # three blocks
    (tmp_path / "file.bin").write_bytes(data)
    added = run_cli(tmp_path / "a", "add", str(tmp_path / "file.bin"), "--json")
    assert added.returncode == 0, added.stderr
    cid = json.loads(added.stdout)["cid"]
    computed = run_cli(tmp_path / "a", "cid", str(tmp_path / "file.bin"))
    assert computed.stdout.strip() == cid, "the daemon's CID equals the offline computation"
    cat = subprocess.run(toktok(tmp_path / "a", "cat", cid), capture_output=True, timeout=60)
    assert cat.stdout == data
    assert run_cli(tmp_path / "a", "pin", "rm", cid).returncode == 0
    collected = run_cli(tmp_path / "a", "gc", "--json")
    assert collected.returncode == 0, collected.stderr
    assert json.loads(collected.stdout)["removed_blocks"] == 4  # 3 leaves + the root
