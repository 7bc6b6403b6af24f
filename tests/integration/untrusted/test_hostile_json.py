"""Deeply nested JSON from outside never crashes a real daemon (issue: py_ecc raises the
recursion limit to 100,000, after which CPython's C JSON decoder segfaults at ~65,600 levels).

Every daemon here runs ``toktok run`` with its real import set. A raw libp2p peer (our host in
the test process, speaking only the request/response framing) sends hostile payloads on every
Toktok protocol; each must be answered with an error or a closed stream, and ``/healthz`` must
still answer afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import Daemon, StartDaemon, run_cli, spawn_daemons

from peer.gating.delegation import PROTOCOL as DELEGATE_PROTOCOL
from peer.gating.protocol import PROTOCOL as KEYS_PROTOCOL
from peer.p2p import HostOptions, P2PHost
from peer.p2p.errors import P2PError
from peer.sync.protocol import PROTOCOL_ID as SYNC_PROTOCOL

DEEP = b"[" * 70_000
PROTOCOLS = (SYNC_PROTOCOL, KEYS_PROTOCOL, DELEGATE_PROTOCOL)
# Deep nesting in the shapes a decoder might treat differently; all under the 1 MiB request cap.
HOSTILE = (
    DEEP,
    b"[" * 70_000 + b"]" * 70_000,
    b'{"v":1,"op":' + b'{"a":' * 70_000,
    b'{"v":1,"op":"heads","x":' + b"[1," * 200_000,
    b'["' + b"[" * 200_000 + b'",' + b"[" * 100_000,  # brackets inside and outside a string
    b'{"v":1,"v":1,"op":"offer"}',  # duplicate key
    b"\xff" + DEEP,
)


def _healthy(daemon: Daemon) -> None:
    assert daemon.process.poll() is None, "".join(daemon.output[-40:])
    status, _body = daemon.get("/healthz")
    assert status == 200


async def _send_all(daemon: Daemon, host: P2PHost, peer: str) -> dict[str, int]:
    refused: dict[str, int] = {}
    for protocol in PROTOCOLS:
        for payload in HOSTILE:
            try:
                answer = await host.request(
                    peer, protocol, payload, timeout=30, max_response=64 * 1024
                )
            except P2PError:
                refused[protocol] = refused.get(protocol, 0) + 1  # error status or reset
            else:  # an answer in the protocol's own error shape
                assert b'"ok":false' in answer or b"error" in answer, answer[:200]
                refused[protocol] = refused.get(protocol, 0) + 1
        _healthy(daemon)
    return refused


async def test_deep_json_on_every_toktok_protocol_leaves_the_daemon_up(
    start_daemon: StartDaemon, tmp_path: Path
) -> None:
    daemon = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    _status, health = daemon.get("/healthz")
    assert health["ready"] is True, health
    _status, info = daemon.get("/api/v1/status")
    host = P2PHost(HostOptions(identity_path=tmp_path / "raw" / "identity.key"))
    await host.start()
    asked = asyncio.Event()

    async def lying_sync_server(_peer: str, _data: bytes) -> bytes:
        asked.set()
        return DEEP  # within the heads cap: the depth scan, not the size cap, refuses it

    try:
        # the daemon also pulls from us (sync on every new connection) and gets deep answers
        await host.serve(SYNC_PROTOCOL, lying_sync_server)
        peer = await host.connect(info["p2p_addrs"][0])
        refused = await _send_all(daemon, host, peer)
        assert refused == {p: len(HOSTILE) for p in PROTOCOLS}
        await asyncio.wait_for(asked.wait(), 120)
    finally:
        await host.stop()
    _healthy(daemon)


def _add(daemon: Daemon, path: Path) -> str:
    added = run_cli(daemon.data_dir, "add", str(path), "--json")
    assert added.returncode == 0, added.stderr
    return str(json.loads(added.stdout)["cid"])


def _fetch(daemon: Daemon, cid: str) -> tuple[int, str, bytes]:
    _status, info = daemon.get("/api/v1/status")
    url = info["content_url"].rstrip("/") + f"/ipfs/{cid}"
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.status, response.headers["Content-Type"], response.read()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Daemon]]:
    """Two daemons started together, shared by the sizes (each adds and fetches its own file)."""
    root = tmp_path_factory.mktemp("brackets")
    env = {"XDG_CONFIG_HOME": str(root / "xdg-config"), "XDG_DATA_HOME": str(root / "xdg-data")}
    a, b = spawn_daemons(root / "a", root / "b", env=env)
    try:
        yield a, b
    finally:
        a.kill()
        b.kill()


@pytest.mark.parametrize("size", [64 * 1024, 300 * 1024])
def test_content_port_serves_a_file_of_brackets_locally_and_through_a_second_peer(
    pair: tuple[Daemon, Daemon], tmp_path: Path, size: int
) -> None:
    a, b = pair
    body = b"[" * size
    (tmp_path / "brackets.json").write_bytes(body)
    cid = _add(a, tmp_path / "brackets.json")
    assert _fetch(a, cid)[2] == body
    _healthy(a)
    _status, info_a = a.get("/api/v1/status")
    connected = run_cli(b.data_dir, "connect", info_a["p2p_addrs"][0], "--json")
    assert connected.returncode == 0, connected.stderr
    status, _type, fetched = _fetch(b, cid)  # B fetches the blocks over bitswap first
    assert (status, fetched) == (200, body)
    _healthy(a)
    _healthy(b)


LYING_RPC = r"""
import asyncio, json, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import peer.daemon.app  # the daemon's import set (py_ecc among it)
from tokens.rpc import connect, call

BODIES = {
    "deep": b'{"jsonrpc":"2.0","id":0,"result":' + b"[" * 70000 + b"]" * 70000 + b"}",
    "open": b'{"jsonrpc":"2.0","id":0,"result":' + b"[" * 200000,
    "huge": b'{"jsonrpc":"2.0","id":0,"result":"' + b"0" * (9 * 1024 * 1024) + b'"}',
    "garbage": b"\xff\xfe not json",
}

class Lying(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = BODIES[sys.argv[1]]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Lying)
threading.Thread(target=server.serve_forever, daemon=True).start()

async def main():
    w3 = connect(f"http://127.0.0.1:{server.server_port}", timeout=30)
    try:
        await call("reading the block number", w3.eth.block_number)
    except Exception as exc:
        print(f"{type(exc).__name__}: {str(exc)[:100]}")

asyncio.run(main())
"""


@pytest.mark.parametrize("lie", ["deep", "open", "huge", "garbage"])
def test_a_lying_chain_rpc_is_a_clear_chain_error(lie: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", LYING_RPC, lie],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, f"exit {run.returncode} (-11 is SIGSEGV): {run.stderr[-1500:]}"
    assert run.stdout.startswith("ChainResponseError: the chain RPC"), run.stdout
