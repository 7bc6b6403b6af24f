"""Issue 18 §6 against real daemons: quick 504s, bad paths, idle connections, cat over the
network, a quiet console; and the CLI's handling of a broken config and an open data dir."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.daemon import Daemon, eventually, run_cli, toktok
from support.shared_peers import IDLE_S, SharedPeers

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError
from peer.logsetup import LOG_FILE, is_own
from storage import unixfs

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(shared_peers: SharedPeers) -> tuple[Daemon, Daemon]:
    """A (devnet, HTTP idle timeout IDLE_S, no DHT) and B (plain, no DHT), shared with the
    input-validation module: started once for both."""
    return shared_peers.a, shared_peers.b


def content_url(daemon: Daemon) -> str:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return creds.content_url.rstrip("/")


def fetch(url: str, timeout: float = 20) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_unknown_cid_with_no_provider_is_504_at_once_and_says_why(
    pair: tuple[Daemon, Daemon],
) -> None:
    # no peer connected, no DHT: nobody can be asked. Before: the request hung for 60 s (the
    # urllib timeout of 20 s below made it fail); now a 504 naming the reason.
    a, _ = pair
    missing = unixfs.import_bytes(os.urandom(64))[0]
    status, body = fetch(f"{content_url(a)}/ipfs/{missing}")
    assert status == 504
    error = json.loads(body)["error"]
    assert error["code"] == "content_unavailable"
    assert "no provider known" in error["message"]


def test_a_very_long_static_path_is_404(pair: tuple[Daemon, Daemon]) -> None:
    a, _ = pair
    status, _ = fetch(a.url + "static/" + "x" * 5000)
    assert status == 404
    status, _ = fetch(a.url + "static/" + "../" * 40 + "etc/passwd")
    assert status == 404
    status, body = fetch(a.url + "static/app.js")
    assert status == 200
    assert b"import" in body


def test_idle_and_slow_connections_are_closed(pair: tuple[Daemon, Daemon]) -> None:
    a, _ = pair
    port = int(a.url.rstrip("/").rsplit(":", 1)[1])
    silent = socket.create_connection(("127.0.0.1", port))
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:")  # and never the rest
    for conn in (silent, slow):
        conn.settimeout(10 * IDLE_S)  # far beyond the idle timeout; the old one was 3,630 s
        with conn:
            assert conn.recv(1024) == b"", "the server closed the connection"


def test_cat_fetches_missing_blocks_through_the_running_daemon(
    pair: tuple[Daemon, Daemon], tmp_path: Path
) -> None:
    a, b = pair
    data = os.urandom(700_000)  # three leaves and a root
    (tmp_path / "file.bin").write_bytes(data)
    added = run_cli(a.data_dir, "add", str(tmp_path / "file.bin"), "--json")
    assert added.returncode == 0, added.stderr
    cid = json.loads(added.stdout)["cid"]
    _, status = a.get("/api/v1/status")
    connected = run_cli(b.data_dir, "connect", status["p2p_addrs"][0])
    assert connected.returncode == 0, connected.stderr
    cat = subprocess.run(
        toktok(b.data_dir, "cat", cid, "--timeout", "30"), capture_output=True, timeout=90
    )
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == data, "B had none of it: every block came from A"
    part = subprocess.run(
        toktok(b.data_dir, "cat", cid, "--range", "300000-300010"), capture_output=True, timeout=60
    )
    assert part.stdout == data[300_000:300_010]


def test_console_shows_toktok_lines_and_the_log_file_has_the_rest(
    pair: tuple[Daemon, Daemon],
) -> None:
    _, b = pair  # B: this test stops it, and nothing uses it after this module
    creds = read_credentials(DataDir(b.data_dir.resolve()))
    assert creds is not None
    with pytest.raises(DaemonError) as bad:  # a domain error answered with a 4xx
        DaemonClient(creds).post("/api/v1/storage/pin", {"cid": "bafy-not-a-cid"})
    assert bad.value.status == 400
    log = b.data_dir / "logs" / LOG_FILE
    eventually(lambda: log.exists() and log.stat().st_size > 0, what="the log file")
    text = log.read_text()
    foreign = {line.split()[3].rstrip(":") for line in text.splitlines() if _is_record(line)}
    assert any(not is_own(name) for name in foreign), "the file has the libraries' lines too"
    assert b.stop() == 0  # B's last use: read all it printed
    assert b.process.stdout is not None
    lines = b.output + b.process.stdout.readlines()
    assert "Traceback" not in "".join(lines)
    records = [line for line in lines if _is_record(line)]
    assert any("pin" in line for line in records), "the 4xx is logged, in one line"
    for line in records:
        assert is_own(line.split()[3].rstrip(":")), line


def _is_record(line: str) -> bool:
    """A line in the log format: date, time, level, logger name."""
    parts = line.split()
    return len(parts) > 4 and parts[2] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_a_config_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "config.toml").write_bytes(b'[peer]\nlog_level = "\xff\xfe"\n')
    result = run_cli(tmp_path / "a", "config", "show")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "UTF-8" in result.stderr


def test_init_makes_an_open_data_dir_private(tmp_path: Path) -> None:
    root = tmp_path / "a"
    for folder in (root, root / "wallet", root / "keys"):
        folder.mkdir()
        folder.chmod(0o777)
    result = run_cli(root, "init")
    assert result.returncode == 0, result.stderr
    for folder in (root, root / "wallet", root / "keys", root / "p2p"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
