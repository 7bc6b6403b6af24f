"""A restarted peer keeps its p2p, UI and content ports, and can be reached again at once; when
its old ports are taken it picks new ones, says so, and is still reachable at once."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, StartDaemon, run_cli, start_together

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials

pytestmark = pytest.mark.integration


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def where(daemon: Daemon) -> dict[str, Any]:
    status = client(daemon).get("/api/v1/status")
    return {k: status[k] for k in ("p2p_addrs", "ui_url", "content_url", "ports", "notices")}


def restart(start_daemon: StartDaemon, daemon: Daemon) -> Daemon:
    assert daemon.stop() == 0
    daemon.kill()  # closes its output pipe
    return start_daemon(daemon.data_dir)


def occupy(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_a_restarted_peer_keeps_its_ports_or_says_why_and_is_reachable_at_once(
    start_daemon: StartDaemon, tmp_path: Path
) -> None:
    a, b = start_together(start_daemon, tmp_path / "a", tmp_path / "b")
    first = where(b)
    assert first["notices"] == []
    b_id = client(a).post("/api/v1/peers/connect", {"multiaddr": first["p2p_addrs"][0]})

    b = restart(start_daemon, b)
    assert where(b) == first, "same p2p address, same UI and content URLs"
    assert client(a).post("/api/v1/peers/connect", {"multiaddr": first["p2p_addrs"][0]}) == b_id

    # Another program takes the three ports while B is down.
    assert b.stop() == 0
    b.kill()
    blockers = [occupy(port) for port in first["ports"].values()]
    try:
        b = start_daemon(b.data_dir)
        moved = where(b)
        for name, old in first["ports"].items():
            assert moved["ports"][name] != old
            assert any(str(old) in notice for notice in moved["notices"]), name
        shown = run_cli(b.data_dir, "status")
        assert "taken by another program" in shown.stdout, shown.stdout + shown.stderr
        # A remembers B's old address (now a stranger's port); the new one works at once, both ways.
        new_addr = moved["p2p_addrs"][0]
        assert client(a).post("/api/v1/peers/connect", {"multiaddr": new_addr}) == b_id
        a_addr = client(a).get("/api/v1/status")["p2p_addrs"][0]
        assert client(b).post("/api/v1/peers/connect", {"multiaddr": a_addr})["peer_id"]
    finally:
        for blocker in blockers:
            blocker.close()
