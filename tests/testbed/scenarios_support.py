"""The shared world of the bed tests (scenarios of issue 19 and the network profiles of issue
20): one bed, real daemons, one shared chain; plus playback checks (content port + hash, and
Chromium inside a host's namespace).

The world, built once per test session of ``tests/testbed`` (package-scoped fixture):

- ``chain``: Alice's ``toktok run`` with its devnet listening on her bed address (the "my devnet,
  shared with a friend on my LAN" case); its anvil is the chain host every other peer reaches by
  RPC.
- ``toktok network create`` (deployer: dev key 5) deploys a new TOK and factory to that anvil; its
  profile's bootstrap entry is the ``boot`` peer and its TOK goes to fan 1. Fresh data dirs on
  ``boot``, ``creator``, ``fan1``, ``fan2`` and ``late`` join that profile (``toktok init
  --network``) and dial ``boot`` at start, and only ``boot``.
- ``toktok network export`` on Alice's peer writes a profile that ``bob`` joins.
- ``late`` is partitioned from every other peer until scenario (b).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from playwright.sync_api import Browser, Page, sync_playwright
from support.browser import CHROMIUM, FLAGS, PHONE

from netbed import Bed, Host
from netbed.peers import BedPeer, import_dev_key, start_peer
from storage.media.samples import SampleSpec, make_sample
from tokens.deployment import Deployment, load_deployment
from tokens.devnet import DEV_PRIVATE_KEYS

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench-results" / "testbed-scenarios.json"
LINK = {"latency_ms": 40.0, "jitter_ms": 10.0, "loss": 0.01}
PEER_ENV = {"TOKTOK_SYNC_INTERVAL_S": "5", "TOKTOK_PEER_LOG_LEVEL": "info"}
RPC_ENV = {**PEER_ENV, "TOKTOK_CHAIN_MODE": "rpc"}
PREMIUM_MIN = 2  # whole tokens
KEYS = {"chain": 1, "boot": 9, "creator": 4, "fan1": 2, "fan2": 3, "late": 8, "bob": 6}
DEPLOYER_KEY = 5
JOINERS = ("boot", "creator", "fan1", "fan2", "late")  # the created profile
RPC_PORT = 8545
# Fan 2 is a DHT client, as most home peers are (go-libp2p's auto mode behind a NAT): it asks
# the DHT but is in nobody's routing table, so the creator's DHT lookups and provider
# announcements never dial it, and its only connection stays the one to the boot host (a).
PEER_SETTINGS = {"fan2": {"TOKTOK_P2P_DHT": "client"}}


@dataclass
class World:
    bed: Bed
    hosts: dict[str, Host]
    peers: dict[str, BedPeer]
    clip: Path
    tiny: Path
    slow_clip: Path
    rpc_url: str
    profile: Deployment  # what `network create` wrote (the network of the scenarios)
    exported: Deployment  # what `network export` wrote on Alice's peer (bob's network)
    boot_id: str
    token: str = ""
    free: str = ""
    premium: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> BedPeer:
        peers = self.__dict__.get("peers", {})
        if name in peers:
            return peers[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def record(self, key: str, value: Any) -> None:
        self.figures[key] = value
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(self.figures, indent=2) + "\n")


def toktok(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), *args]


def _join(host: Host, profile: Path) -> None:
    host.exec(*toktok(host.dir / "peer", "init", "--network", str(profile)))


@contextlib.contextmanager
def world_on_a_bed(folder: Path) -> Iterator[World]:
    """Build the world (see the module docstring); everything is gone at exit."""
    t0 = time.monotonic()
    clips = folder / "clips"
    clip = make_sample(SampleSpec("bedclip", 180, 320, 1.0), clips)
    tiny = make_sample(SampleSpec("tiny", 64, 114, duration_s=1.0, fps=10), clips)
    slow_clip = make_sample(SampleSpec("slowclip", 180, 320, 1.2), clips)
    with Bed(folder / "bed", seed=19) as bed:
        hosts = {name: bed.add_host(name, **LINK) for name in KEYS}
        others = [hosts[n] for n in JOINERS if n != "late"]
        bed.partition(hosts["late"], others)  # no peer reaches it before scenario (b)
        chain_host = hosts["chain"]
        rpc = f"http://{chain_host.address}:{RPC_PORT}"
        devnet_env = {
            **PEER_ENV,
            "TOKTOK_CHAIN_MODE": "devnet",
            "TOKTOK_CHAIN_DEVNET_HOST": chain_host.address,
            "TOKTOK_CHAIN_DEVNET_PORT": str(RPC_PORT),
        }
        with ThreadPoolExecutor(8) as pool:
            alice_started = pool.submit(
                start_peer, chain_host, dev_key=KEYS["chain"], env=devnet_env
            )
            wallets = [
                pool.submit(import_dev_key, hosts[n].dir / "peer", DEV_PRIVATE_KEYS[KEYS[n]])
                for n in (*JOINERS, "bob")
            ]
            for future in wallets:
                future.result()
            boot_init = pool.submit(
                hosts["boot"].exec, *toktok(hosts["boot"].dir / "peer", "init", "--json")
            )
            alice = alice_started.result()
            boot_id = str(json.loads(boot_init.result().stdout)["peer_id"])
            boot_addr = f"/ip4/{hosts['boot'].address}/tcp/4001/p2p/{boot_id}"
            exported_file, profile_file = folder / "alice.json", folder / "bed-network.json"
            exported = pool.submit(
                chain_host.exec,
                *toktok(alice.data_dir, "network", "export", "--name", "alice",
                        "--out", str(exported_file)),
            )  # fmt: skip
            key_file = folder / "deployer.key"
            key_file.write_text(DEV_PRIVATE_KEYS[DEPLOYER_KEY])
            fan1_address = Account.from_key(DEV_PRIVATE_KEYS[KEYS["fan1"]]).address
            chain_host.exec(
                *toktok(folder / "deployer", "network", "create", "--rpc-url", rpc,
                        "--key-file", str(key_file), "--name", "bed", "--tok-holder",
                        fan1_address, "--bootstrap", boot_addr, "--out", str(profile_file)),
                timeout=240,
            )  # fmt: skip
            exported.result()
            joins = [pool.submit(_join, hosts[n], profile_file) for n in JOINERS]
            joins.append(pool.submit(_join, hosts["bob"], exported_file))
            for future in joins:
                future.result()
            started = {
                n: pool.submit(start_peer, hosts[n], env=RPC_ENV | PEER_SETTINGS.get(n, {}))
                for n in (*JOINERS, "bob")
            }
            peers = {"chain": alice} | {n: future.result() for n, future in started.items()}
        world = World(
            bed, hosts, peers, clip, tiny, slow_clip, rpc,
            load_deployment(profile_file), load_deployment(exported_file), boot_id,
        )  # fmt: skip
        world.record("world_start_s", round(time.monotonic() - t0, 1))
        yield world


class Phases:
    """Seconds spent in each step of a scenario (figures for the JSON, never asserted)."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.seconds[step] = round(now - self.last, 1)
        self.last = now

    def total(self) -> float:
        return round(time.monotonic() - self.start, 1)


def connected_peers(peer: BedPeer) -> set[str]:
    return {p["peer_id"] for p in peer.api.get("/api/v1/peers")["peers"]}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rendition(peer: BedPeer, post_id: str) -> dict[str, Any]:
    clip = peer.api.get(f"/api/v1/posts/{post_id}/clip")
    return dict(min(clip["renditions"], key=lambda r: int(r["size"])))


def play_through_content_port(peer: BedPeer, post_id: str, reference: BedPeer) -> str:
    """Fetch the post's smallest rendition through ``peer``'s own content port (or, premium,
    its decrypted-media route) and check it is byte for byte the ``reference`` peer's copy.
    Returns the hash."""
    mine = rendition(peer, post_id)
    theirs = rendition(reference, post_id)
    content = peer.status()["content_url"]
    data = peer.fetch(mine["url"])
    if not mine["url"].startswith("/api/"):  # premium: decrypted, the size is the sealed one's
        assert mine["url"].startswith(content), f"{mine['url']} is not {peer.name}'s content port"
        assert len(data) == int(mine["size"]), (len(data), mine)
    digest = sha256(data)
    assert digest == sha256(reference.fetch(theirs["url"])), "the bytes differ from the original"
    return digest


PLAYING_PROBE = """
window.__firstPlaying = null;
document.addEventListener('playing', () => {
  if (window.__firstPlaying === null) window.__firstPlaying = performance.now();
}, true);
"""


def wait_playing(page: Page) -> None:
    """``playing`` fired on the active card's video and its clock moved."""
    page.wait_for_function(
        "() => { const v = document.querySelector('.card-clip.active video');"
        " return window.__firstPlaying !== null && v && v.currentTime > 0.1; }",
        timeout=120_000,
    )


@contextlib.contextmanager
def chromium_on(*targets: tuple[Host, BedPeer]) -> Iterator[list[Callable[[str], float]]]:
    """A real Chromium running inside each target host's namespace (one Playwright for all);
    yields one ``play(post_id)`` per target, which opens that peer's UI on the post (a fresh
    context, through a one-time login link), waits for ``playing`` and returns the time to the
    first ``playing`` since navigation start, in ms. Call each from the thread that entered."""
    with sync_playwright() as pw:
        browsers: list[Browser] = []
        try:
            for host, _peer in targets:
                browsers.append(
                    pw.chromium.launch(executable_path=str(host.wrapper(CHROMIUM)), args=FLAGS)
                )

            def player(browser: Browser, peer: BedPeer) -> Callable[[str], float]:
                def play(post_id: str) -> float:
                    context = browser.new_context(viewport=PHONE, color_scheme="dark")
                    try:
                        context.add_init_script(PLAYING_PROBE)
                        page = context.new_page()
                        page.set_default_timeout(60_000)
                        page.goto(peer.login_url() + f"#/post/{post_id}")
                        wait_playing(page)
                        return float(page.evaluate("() => window.__firstPlaying"))
                    finally:
                        context.close()

                return play

            yield [player(b, peer) for b, (_host, peer) in zip(browsers, targets, strict=True)]
        finally:
            for browser in browsers:
                browser.close()
