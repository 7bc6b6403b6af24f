"""The chain can die under a running daemon: health says so, the devnet comes back, and routes
that need no chain keep working throughout."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, StartDaemon, eventually

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError

pytestmark = pytest.mark.integration


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def anvil_endpoint(data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((data_dir / "devnet" / "endpoint.json").read_text()))


class Refuser:
    """Holds 127.0.0.1:``port`` as soon as the dead anvil has released it, and closes every
    connection made to it at once: a restart of anvil on that port fails, and the daemon's RPC
    calls fail fast (a listener that never answers would hold each one for its 10 s timeout)."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 10
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # its TIME_WAIT sockets
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
                break
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        sock.settimeout(0.1)
        self._sock = sock
        self._open = True
        self._thread = threading.Thread(target=self._refuse, daemon=True)
        self._thread.start()

    def _refuse(self) -> None:
        while self._open:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # a reset: the caller's error comes at once

    def close(self) -> None:
        self._open = False
        self._thread.join(5)
        self._sock.close()


def chain_state(daemon: Daemon) -> str:
    return str(daemon.get("/healthz")[1]["services"]["chain"])


def test_a_killed_devnet_is_reported_restarted_and_profile_works_throughout(
    start_daemon: StartDaemon, tmp_path: Path
) -> None:
    a = start_daemon(
        tmp_path / "a",
        env={
            "TOKTOK_CHAIN_MODE": "devnet",
            "TOKTOK_CHAIN_HEALTH_INTERVAL_S": "0.5",
            "TOKTOK_CHAIN_HEALTH_BACKOFF_MAX_S": "1",
        },
    )
    c = client(a)
    profile = c.get("/api/v1/profile")
    assert a.get("/healthz")[0] == 200
    assert c.get("/api/v1/wallet")["address"] == profile["address"]
    before = anvil_endpoint(a.data_dir)
    port = int(before["rpc_url"].rsplit(":", 1)[1])

    # kill -9 anvil, and hold its port so the first restarts cannot succeed (the daemon is
    # paused meanwhile, so its supervisor cannot take the port back first)
    a.process.send_signal(signal.SIGSTOP)
    try:
        os.kill(int(before["pid"]), signal.SIGKILL)
        blocker = Refuser(port)
    finally:
        a.process.send_signal(signal.SIGCONT)
    try:
        eventually(lambda: "anvil" in chain_state(a), what="/healthz reporting the dead chain")
        status, health = a.get("/healthz")
        assert status == 503
        assert health["not_ready"] == ["chain"]
        assert c.get("/api/v1/status")["chain"]["healthy"] is False
        assert c.get("/api/v1/profile") == profile, "the profile needs no chain"
        assert c.get("/api/v1/feed")["items"] == []
        with pytest.raises(DaemonError) as excinfo:
            c.get("/api/v1/wallet")  # reads the TOK balance: needs the chain
        assert (excinfo.value.status, excinfo.value.code) == (503, "chain_unavailable")
    finally:
        blocker.close()

    # the supervisor restarts anvil on the same port, from its state file
    eventually(lambda: a.get("/healthz")[0] == 200, what="the devnet coming back")
    after = anvil_endpoint(a.data_dir)
    assert after["pid"] != before["pid"]
    assert after["rpc_url"] == before["rpc_url"]
    assert Path(f"/proc/{after['pid']}").exists()
    chain = c.get("/api/v1/status")["chain"]
    assert (chain["healthy"], chain["problem"], chain["devnet_restarts"]) == (True, None, 1)
    assert c.get("/api/v1/wallet")["address"] == profile["address"]
    assert c.get("/api/v1/profile") == profile
