"""Toktok on bed hosts: ``toktok run`` daemons listening on their host's bed address, a chain
host (one anvil, reached by RPC from every peer as a public chain would be), and an API client
that talks to a daemon inside its host's namespace.

A daemon's UI and content ports stay on its namespace's loopback (as on a user's machine); the
client reaches them by switching the calling thread into that namespace for each request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbed.bed import REPO, Host
from netbed.errors import BedError

PASSPHRASE = "bed passphrase"  # noqa: S105 - wallets of dev keys on a test chain
P2P_PORT = 4001
CHAIN_RPC_PORT = 8545
START_TIMEOUT_S = 180.0  # a daemon on a loaded 2-core machine took > 60 s to start


def toktok(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), *args]


def _wait_for(log: Path, proc: subprocess.Popen[str], extract: Any, timeout: float) -> Any:
    """Poll ``log`` until ``extract(text)`` returns something (returned); fail with the log's
    tail if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            found = extract(log.read_text(errors="replace"))
            if found is not None:
                return found
        if proc.poll() is not None:
            raise BedError(f"{log.stem} exited ({proc.returncode}); log {log}:\n{tail(log)}")
        time.sleep(0.2)
    raise BedError(f"no ready line in {timeout} s; log {log}:\n{tail(log)}")


def _line_starting(text: str, prefix: str) -> str | None:
    return next((s.strip() for s in text.splitlines() if s.startswith(prefix)), None)


def _json_object(text: str) -> dict[str, Any] | None:
    """The first complete JSON object printed (possibly over several lines)."""
    start = text.find("{")
    end = text.find("\n}", start)
    if start < 0 or end < 0:
        return None
    try:
        return dict(json.loads(text[start : end + 2]))
    except ValueError:
        return None


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Chain:
    """The shared chain: its RPC URL on the chain host's bed address, and its deployment."""

    host: Host
    rpc_url: str
    deployment_file: Path

    def env(self) -> dict[str, str]:
        """Settings of a peer that uses this chain (``chain.mode = rpc``)."""
        return {
            "TOKTOK_CHAIN_MODE": "rpc",
            "TOKTOK_CHAIN_RPC_URL": self.rpc_url,
            "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(self.deployment_file),
        }


def start_chain(host: Host, env: dict[str, str] | None = None) -> Chain:
    """Run ``toktok devnet`` (anvil on the host's loopback, contracts deployed, dev accounts
    funded) on ``host``, and a relay from the host's bed address to it."""
    data_dir = host.dir / "chain"
    log = host.dir / "devnet.log"
    proc = host.popen(
        toktok(data_dir, "devnet", "--json"),
        log=log,
        env={"TOKTOK_CHAIN_MODE": "devnet", **(env or {})},
    )
    info = _wait_for(log, proc, _json_object, 120)
    local = str(info["rpc_url"]).removeprefix("http://").rstrip("/")
    relay_log = host.dir / "relay.log"
    relay = host.popen(
        [
            sys.executable, "-m", "netbed.relay",
            "--listen", f"{host.address}:{CHAIN_RPC_PORT}", "--to", local,
        ],
        log=relay_log,
        env={"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    _wait_for(relay_log, relay, lambda text: _line_starting(text, "relaying"), 30)
    deployment = data_dir / "devnet" / "deployment.json"
    return Chain(host, f"http://{host.address}:{CHAIN_RPC_PORT}", deployment)


class NsClient:
    """The daemon's API client, with every request made inside the daemon's namespace."""

    def __init__(self, host: Host, data_dir: Path) -> None:
        from peer.cli.client import DaemonClient
        from peer.datadir import DataDir, read_credentials

        creds = read_credentials(DataDir(data_dir.resolve()))
        if creds is None:
            raise BedError(f"{data_dir} has no running daemon (no api.json)")
        self.host = host
        self.client = DaemonClient(creds)

    def get(self, path: str) -> Any:
        with self.host.entered():
            return self.client.get(path)

    def fetch(self, url: str, timeout: float = 120) -> bytes:
        """The bytes at ``url`` (the daemon's content port or a 🔒 media route), with the
        CLI credential, fetched inside the namespace."""
        if not url.startswith("http"):
            url = self.client.creds.url.rstrip("/") + url
        if not url.startswith("http://127.0.0.1:"):
            raise BedError(f"not a loopback URL of this daemon: {url}")
        auth = {"Authorization": f"Bearer {self.client.creds.cli_token}"}
        request = urllib.request.Request(url, headers=auth)  # noqa: S310
        with self.host.entered(), urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return bytes(answer.read())

    def post(self, path: str, body: Any = None, timeout: float | None = None) -> Any:
        """POST inside the namespace; ``timeout`` (s) for a route that waits on the chain or
        the network (an unlock with a buy waits for blocks), else the CLI client's 30 s."""
        from peer.cli.client import DaemonClient

        client = self.client if timeout is None else DaemonClient(self.client.creds, timeout)
        with self.host.entered():
            return client.post(path, body)


@dataclass
class BedPeer:
    """A ``toktok run`` daemon on a bed host."""

    host: Host
    data_dir: Path
    process: subprocess.Popen[str]
    url: str  # the UI origin, with a trailing slash
    log: Path
    api: NsClient

    @property
    def name(self) -> str:
        return self.host.name

    def status(self) -> Any:
        return self.api.get("/api/v1/status")

    def login_url(self) -> str:
        """A fresh one-time browser login URL (append ``#/route`` to land on a view)."""
        return str(self.api.post("/api/v1/login-links")["url"])

    @property
    def multiaddr(self) -> str:
        """Its libp2p address on the bed (``/ip4/198.18.../tcp/4001/p2p/...``)."""
        for addr in self.status()["p2p_addrs"]:
            if f"/ip4/{self.host.address}/" in addr:
                return str(addr)
        raise BedError(f"{self.name} announces no address on {self.host.address}")

    def connect(self, other: BedPeer) -> str:
        """Dial ``other``; returns its peer id."""
        reply = self.api.post("/api/v1/peers/connect", {"multiaddr": other.multiaddr})
        return str(reply["peer_id"])

    @property
    def address(self) -> str:
        """Its wallet (creator) address."""
        return str(self.api.get("/api/v1/profile")["address"])

    def fetch(self, url: str, timeout: float = 120) -> bytes:
        """Bytes from this daemon's content port or API (see :meth:`NsClient.fetch`)."""
        return self.api.fetch(url, timeout)

    def has_post(self, post_id: str) -> bool:
        from peer.errors import DaemonError

        try:
            self.api.get(f"/api/v1/posts/{post_id}")
        except DaemonError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def publish(
        self, clip: Path, title: str, tags: list[str] | None = None, min_balance: int = 0
    ) -> str:
        """Publish a local file through the daemon; the post id once the job is done."""
        body = {
            "path": str(clip.resolve()),
            "title": title,
            "tags": tags or [],
            "premium": min_balance > 0,
            "min_balance": min_balance,
        }
        job = self.api.post("/api/v1/publish/file", body)["job"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            state = self.api.get(f"/api/v1/publish/{job}")
            if state["state"] == "done":
                return str(state["post_id"])
            if state["state"] == "failed":
                raise BedError(f"publishing {title!r} failed: {state['error']}")
            time.sleep(0.2)
        raise BedError(f"publishing {title!r} did not finish")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)


def import_dev_key(data_dir: Path, private_key: str) -> None:
    """Make ``private_key`` the data dir's wallet (file work only: runs outside the bed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir.parent / f".{data_dir.name}-key"
    key_file.write_text(private_key)
    try:
        done = subprocess.run(
            [*toktok(data_dir, "wallet", "import", "--private-key-file", str(key_file))],
            capture_output=True,
            text=True,
            timeout=120,
            env={**_environ(), "TOKTOK_PASSPHRASE": PASSPHRASE, "TOKTOK_CHAIN_MODE": "off"},
            check=False,
        )
    finally:
        key_file.unlink()
    if done.returncode != 0:
        raise BedError(f"wallet import failed: {done.stderr}")


def _environ() -> dict[str, str]:
    return dict(os.environ)


def start_peer(
    host: Host,
    *,
    chain: Chain | None = None,
    dev_key: int | None = None,
    bootstrap: list[str] | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    name: str = "peer",
) -> BedPeer:
    """Start ``toktok run`` on ``host``: libp2p on ``<host address>:4001``, the chain over RPC
    (or off), anvil dev key ``dev_key`` as its wallet, and ``bootstrap`` multiaddrs dialled
    first. Returns once the daemon printed its UI URL."""
    data_dir = host.dir / name
    if dev_key is not None:
        from tokens.devnet import DEV_PRIVATE_KEYS

        import_dev_key(data_dir, DEV_PRIVATE_KEYS[dev_key])
    settings = {
        "TOKTOK_P2P_LISTEN_ADDRS": f"/ip4/{host.address}/tcp/{P2P_PORT}",
        "TOKTOK_P2P_MDNS": "false",
        "TOKTOK_PASSPHRASE": PASSPHRASE,
        "TOKTOK_CHAIN_MODE": "off",
        **({"TOKTOK_P2P_BOOTSTRAP": ",".join(bootstrap)} if bootstrap else {}),
        **(chain.env() if chain else {}),
        **(env or {}),
    }
    log = host.dir / f"{name}.log"
    proc = host.popen(toktok(data_dir, *args, "run"), log=log, env=settings)
    login = _wait_for(log, proc, lambda t: _line_starting(t, "http://127.0.0.1:"), START_TIMEOUT_S)
    origin = login.split("login?", 1)[0]  # it prints a one-time login URL; keep the origin
    return BedPeer(host, data_dir, proc, origin, log, NsClient(host, data_dir))
