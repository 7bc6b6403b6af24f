"""Real peers for browser tests and the UI benchmark: a creator on its own devnet with a creator
token and sample clips (free and premium), and viewers on the same chain that received them over
the network (gossip and bitswap on loopback), never written into their index directly."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError
from support.daemon import Daemon, spawn_daemon
from support.wallets import import_wallet
from tokens.devnet import DEV_PRIVATE_KEYS

PASSPHRASE = "test passphrase"
VIEWER_KEY = 5  # dev account of the first viewer (the devnet mints TOK to every dev account)


@dataclass
class Peer:
    """A running ``toktok run`` with an API client."""

    daemon: Daemon
    api: DaemonClient
    address: str

    @property
    def url(self) -> str:
        return self.daemon.url

    def login_url(self) -> str:
        """A fresh one-time login URL, got as ``toktok open`` gets it (append ``#/route``)."""
        return str(self.api.post("/api/v1/login-links")["url"])

    def status(self) -> Any:
        return self.api.get("/api/v1/status")


@dataclass
class Clips:
    """Post ids the creator published, newest last."""

    free: list[str] = field(default_factory=list)
    premium: str = ""


def start_peer(data_dir: Path, env: dict[str, str], started: list[Daemon]) -> Peer:
    daemon = spawn_daemon(data_dir, env=env)
    started.append(daemon)
    creds = read_credentials(DataDir(data_dir.resolve()))
    assert creds is not None, "the daemon wrote no api.json"
    api = DaemonClient(creds)
    return Peer(daemon, api, api.get("/api/v1/profile")["address"])


def chain_env(creator: Peer) -> dict[str, str]:
    """Settings of a peer that uses the creator's devnet over RPC."""
    chain = creator.status()["chain"]
    return {
        "TOKTOK_CHAIN_MODE": "rpc",
        "TOKTOK_CHAIN_RPC_URL": chain["rpc_url"],
        "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(creator.daemon.data_dir / "devnet" / "deployment.json"),
        "TOKTOK_PASSPHRASE": PASSPHRASE,
    }


def import_key(data_dir: Path, key: int) -> None:
    """Give ``data_dir`` dev account ``key`` as its wallet (no chain needed: it can run while the
    creator's devnet starts)."""
    import_wallet(data_dir, DEV_PRIVATE_KEYS[key], PASSPHRASE)


def start_viewer(data_dir: Path, creator: Peer, started: list[Daemon]) -> Peer:
    """A peer (wallet imported already) on the creator's chain, connected to the creator."""
    viewer = start_peer(data_dir, chain_env(creator), started)
    viewer.api.post("/api/v1/peers/connect", {"multiaddr": creator.status()["p2p_addrs"][0]})
    return viewer


def publish(
    peer: Peer,
    clip: Path,
    title: str,
    tags: list[str],
    *,
    min_balance: int = 0,
    timeout: float = 120,
) -> str:
    """Publish a local file through the daemon and return the post id once the job is done."""
    body = {
        "path": str(clip.resolve()),
        "title": title,
        "tags": tags,
        "premium": min_balance > 0,
        "min_balance": min_balance,
    }
    job = peer.api.post("/api/v1/publish/file", body)["job"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = peer.api.get(f"/api/v1/publish/{job}")
        if state["state"] == "done":
            return str(state["post_id"])
        if state["state"] == "failed":
            raise RuntimeError(f"publishing {title!r} failed: {state['error']}")
        time.sleep(0.2)
    raise TimeoutError(f"publishing {title!r} did not finish in {timeout} s")


def publish_premium(peer: Peer, clip: Path, title: str, tags: list[str], min_balance: int) -> str:
    """Publish a premium clip; right after the token is created the registry (read at a lagged
    block) may not know it yet, so a 'wrong token' refusal is retried for a few blocks."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return publish(peer, clip, title, tags, min_balance=min_balance)
        except RuntimeError as exc:
            if "token" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def wait_for_posts(peer: Peer, ids: list[str], timeout: float = 60) -> None:
    """Until ``peer`` indexed every post in ``ids`` (they arrive by gossip or sync)."""
    deadline = time.monotonic() + timeout
    missing = list(ids)
    while missing and time.monotonic() < deadline:
        for post_id in list(missing):
            try:
                peer.api.get(f"/api/v1/posts/{post_id}")
                missing.remove(post_id)
            except DaemonError:
                pass
        if missing:
            time.sleep(0.25)
    assert not missing, f"{peer.url} never received {missing}"


@dataclass
class Network:
    """The creator, the first viewer, and what the creator published."""

    folder: Path
    creator: Peer
    viewer: Peer
    token: str
    clips: Clips
    daemons: list[Daemon]
    timings: dict[str, float]


@contextlib.contextmanager
def creator_and_viewer(
    folder: Path, clip: Path, *, free: tuple[tuple[str, list[str]], ...], premium_min: int = 3
) -> Iterator[Network]:
    """Start both peers, name the creator "Ana", create her token, publish ``free`` clips and
    (unless ``premium_min`` is 0) one premium clip for holders of ``premium_min`` tokens, and
    wait until the viewer has them all. Every daemon is stopped on exit."""
    started: list[Daemon] = []
    timings: dict[str, float] = {}
    try:
        t0 = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            key = pool.submit(import_key, folder / "viewer", VIEWER_KEY)
            creator = start_peer(folder / "creator", {"TOKTOK_CHAIN_MODE": "devnet"}, started)
            timings["creator_start_s"] = time.monotonic() - t0
            key.result()
        t0 = time.monotonic()
        viewer = start_viewer(folder / "viewer", creator, started)
        viewer.api.post("/api/v1/profile", {"name": "Viewer"})  # past the first-run screen
        timings["viewer_start_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        creator.api.post("/api/v1/profile", {"name": "Ana"})
        token = creator.api.post("/api/v1/token", {"name": "Ana Clips", "symbol": "ANA"})
        clips = Clips()
        for title, tags in free:
            clips.free.append(publish(creator, clip, title, tags))
        if premium_min:
            clips.premium = publish_premium(creator, clip, "Members only", ["premium"], premium_min)
        wait_for_posts(viewer, [*clips.free, *([clips.premium] if clips.premium else [])])
        timings["content_s"] = time.monotonic() - t0
        yield Network(folder, creator, viewer, token["address"], clips, started, timings)
    finally:
        for daemon in reversed(started):
            daemon.kill()
