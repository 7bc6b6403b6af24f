"""Helpers of the replication integration tests: peers on one devnet, driven through the API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from support.daemon import Daemon, StartDaemon, run_cli
from support.daemon import eventually as support_eventually
from support.wallets import import_wallet
from tokens.devnet import DEV_PRIVATE_KEYS

TIMEOUT_S = 60


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def eventually(check: Callable[[], Any], timeout: float = TIMEOUT_S, what: str = "") -> Any:
    return support_eventually(check, timeout, what)


def chain_env(devnet: Daemon) -> dict[str, str]:
    """Environment of a peer that uses ``devnet``'s chain over RPC."""
    chain = client(devnet).get("/api/v1/status")["chain"]
    return {
        "TOKTOK_CHAIN_MODE": "rpc",
        "TOKTOK_CHAIN_RPC_URL": chain["rpc_url"],
        "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(devnet.data_dir / "devnet" / "deployment.json"),
        "TOKTOK_PASSPHRASE": "test passphrase",
    }


def rpc_peer(
    start_daemon: StartDaemon,
    data_dir: Path,
    devnet: Daemon,
    key_index: int,
    extra_env: dict[str, str] | None = None,
) -> Daemon:
    """A peer on ``devnet``'s chain with dev account ``key_index`` as its wallet."""
    env = chain_env(devnet)
    import_wallet(data_dir, DEV_PRIVATE_KEYS[key_index], env["TOKTOK_PASSPHRASE"])
    return start_daemon(data_dir, env={**env, **(extra_env or {})})


def connect(frm: Daemon, to: Daemon) -> None:
    addr = client(to).get("/api/v1/status")["p2p_addrs"][0]
    client(frm).post("/api/v1/peers/connect", {"multiaddr": addr})


def publish(daemon: Daemon, clip: Path, title: str) -> str:
    done = run_cli(daemon.data_dir, "publish", str(clip), "--title", title, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["post_id"])


def replication(daemon: Daemon) -> dict[str, Any]:
    info = client(daemon).get("/api/v1/storage")["replication"]
    assert info is not None
    return dict(info)


def rendition_bytes(daemon: Daemon, post_id: str, byte_range: str | None = None) -> bytes:
    """The first rendition of a post as ``daemon`` serves it on its content port."""
    clip = client(daemon).get(f"/api/v1/posts/{post_id}/clip")
    headers = {"Range": f"bytes={byte_range}"} if byte_range else {}
    request = urllib.request.Request(clip["renditions"][0]["url"], headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == (206 if byte_range else 200)
        return bytes(response.read())
