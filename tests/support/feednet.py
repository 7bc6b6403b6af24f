"""Harness of the multi-peer feed tests: daemons on one devnet, raw libp2p peers, signing.

Everything runs in separate processes on 127.0.0.1: ``toktok run`` daemons (support.daemon),
the p2p package's scripted worker (a raw libp2p host that publishes whatever bytes it is
given) and the sync helper processes of this folder. Every process is stopped at teardown,
SIGTERM first, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError
from peer.feed.eip712 import Domain
from peer.p2p import HostOptions
from storage.media.samples import SampleSpec, make_sample
from support.daemon import Daemon, run_cli, spawn_daemon
from support.daemon import eventually as support_eventually
from support.wallets import import_wallet
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import load_deployment

HERE = Path(__file__).resolve().parents[1] / "integration" / "feednet"  # sync_helper.py
PROPAGATION_TIMEOUT_S = 30.0
SYNC_INTERVAL_S = 8.0
SYNC_PAGE_SIZE = 10


def eventually(
    check: Callable[[], Any], timeout: float = PROPAGATION_TIMEOUT_S, what: str = ""
) -> Any:
    """Poll ``check`` until it returns something truthy (returned) or fail after ``timeout``."""
    return support_eventually(check, timeout, what)


def api(daemon: Daemon) -> DaemonClient:
    """An authenticated API client of a running daemon."""
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None, f"{daemon.data_dir} has no running daemon"
    return DaemonClient(creds)


def has_post(daemon: Daemon, post_id: str) -> bool:
    """Whether the daemon's index shows the post (404 ``unknown_post`` when not)."""
    try:
        api(daemon).get(f"/api/v1/posts/{post_id}")
    except DaemonError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def peer_ids(daemon: Daemon) -> dict[str, float]:
    """``{peer id: gossipsub score on the posts topic}`` of the daemon's connected peers."""
    peers = api(daemon).get("/api/v1/peers")["peers"]
    return {p["peer_id"]: float(p["score"]) for p in peers}


def creator_posts(daemon: Daemon, creator: str) -> list[dict[str, Any]]:
    """All of a creator's visible posts on the daemon (every page)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"?limit=50&cursor={cursor}" if cursor else "?limit=50"
        page = api(daemon).get(f"/api/v1/creators/{creator}/posts{query}")
        items.extend(page["items"])
        cursor = page["next"] or ""
        if not cursor:
            return items


@dataclass
class Processes:
    """Every process a test module started; ``close`` stops all of them."""

    daemons: list[Daemon] = field(default_factory=list)
    others: list[subprocess.Popen[str]] = field(default_factory=list)

    def daemon(self, data_dir: Path, env: dict[str, str]) -> Daemon:
        daemon = spawn_daemon(data_dir, env=env)
        self.daemons.append(daemon)
        return daemon

    def close(self) -> None:
        for proc in self.others:
            stop_process(proc)
        for daemon in self.daemons:
            daemon.kill()


def stop_process(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 10 s; closes its pipes."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


class LineProcess:
    """A child process driven with one JSON object per line each way (synchronous)."""

    def __init__(self, procs: Processes, argv: list[str], env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        procs.others.append(self.proc)
        self._ids = 0

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._ids += 1
        self.proc.stdin.write(json.dumps({"id": self._ids, "cmd": cmd, "args": args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"{cmd}: the helper process exited ({self.proc.poll()})")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise AssertionError(f"{cmd} failed: {reply.get('error')}: {reply.get('message')}")
        return reply.get("result")


def quiet_host_options() -> dict[str, Any]:
    """HostOptions fields for helper hosts: no DHT (it would dial peers the test did not
    connect; the field exists only where the DHT is built)."""
    return {"dht": "off"} if "dht" in HostOptions.__dataclass_fields__ else {}


class RawPeer(LineProcess):
    """The p2p package's scripted worker: a raw libp2p host that publishes given bytes."""

    def __init__(self, procs: Processes, identity: Path, options: dict[str, Any] | None = None):
        super().__init__(
            procs,
            [
                sys.executable,
                "-m",
                "peer.p2p.worker",
                "--identity",
                str(identity),
                "--options",
                json.dumps({**quiet_host_options(), **(options or {})}),
            ],
        )
        info = self.call("info")
        self.peer_id: str = info["peer_id"]
        self.addrs: list[str] = info["addrs"]

    def publish(self, topic: str, data: bytes) -> None:
        self.call("publish", topic=topic, data=data.hex())


def publish_on_a(net: Net, title: str) -> str:
    """Publish the test clip on A with the CLI (through A's daemon); returns the post id."""
    done = run_cli(net.a.data_dir, "publish", str(net.clip), "--title", title, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["post_id"])


def daemon_addr(daemon: Daemon) -> str:
    """The daemon's first libp2p multiaddr (with /p2p/<id>)."""
    return str(api(daemon).get("/api/v1/status")["p2p_addrs"][0])


def daemon_peer_id(daemon: Daemon) -> str:
    return str(api(daemon).get("/api/v1/status")["peer_id"])


def connect(daemon: Daemon, addr: str) -> str:
    return str(api(daemon).post("/api/v1/peers/connect", {"multiaddr": addr})["peer_id"])


def deployment_domain(deployment_file: Path) -> Domain:
    """The EIP-712 domain of the devnet's deployment (chain id, factory)."""
    data = json.loads(deployment_file.read_text())
    return Domain(int(data["chain_id"]), str(data["factory"]))


def import_key(data_dir: Path, private_key: str, passphrase: str) -> None:
    """Import a raw private key as the data dir's wallet (before its daemon starts)."""
    import_wallet(data_dir, private_key, passphrase)


def create_token(rpc_url: str, deployment: Path, private_key: str, name: str, symbol: str) -> str:
    """Register the key's creator token on the chain; returns the token address."""

    async def create() -> str:
        options = ClientOptions(rpc_url=rpc_url, deployment=load_deployment(deployment))
        async with ChainClient(options, Account.from_key(private_key)) as client:
            return await client.create_token(name, symbol)

    return asyncio.run(create())


@contextlib.contextmanager
def started(procs: Processes) -> Iterator[Processes]:
    try:
        yield procs
    finally:
        procs.close()


@dataclass
class Net:
    """The shared network of this folder's tests."""

    root: Path
    procs: Processes
    a: Daemon
    b: Daemon
    c: Daemon
    m: RawPeer
    rpc_env: dict[str, str]
    domain: Domain
    clip: Path
    a_creator: str
    a_token: str
    x_key: bytes
    x_creator: str
    x_token: str

    @property
    def ids(self) -> dict[str, str]:
        return {name: daemon_peer_id(getattr(self, name)) for name in ("a", "b", "c")}

    def restart_c(self) -> None:
        """Start C again on its data dir (after a test stopped it)."""
        self.c = self.procs.daemon(self.root / "c", self.rpc_env)


def tiny_clip(out: Path) -> Path:
    """A very small clip (64x114, 1 s): the media pipeline runs in well under a second."""
    return make_sample(SampleSpec("tiny", 64, 114, duration_s=1.0, fps=10), out)


def base_env(root: Path) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "TOKTOK_PEER_LOG_LEVEL": "warning",
        # The DHT (server mode by default) makes peers find and dial each other; these tests
        # need a fixed topology (C never connected to A). Ignored where the key is unknown.
        "TOKTOK_P2P_DHT": "off",
        # Short periodic rounds and pages (the daemon's sync settings, see SYNC in the tests).
        "TOKTOK_SYNC_INTERVAL_S": str(SYNC_INTERVAL_S),
        "TOKTOK_SYNC_PAGE_SIZE": str(SYNC_PAGE_SIZE),
    }


class SyncHelper(LineProcess):
    """``sync_helper.py`` in its own process (honest sync peer or hostile sync server)."""

    def __init__(self, procs: Processes, data_dir: Path, domain: Domain, **options: Any):
        options = {"chain_id": domain.chain_id, "factory": domain.verifying_contract, **options}
        argv = [sys.executable, str(HERE / "sync_helper.py"), str(data_dir), json.dumps(options)]
        super().__init__(procs, argv)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first, f"the sync helper did not start ({self.proc.poll()})"
        info = json.loads(first)
        self.peer_id: str = info["peer_id"]
        self.addrs: list[str] = info["addrs"]

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.call("stop")
        stop_process(self.proc)
