"""The shared world of the scenario tests: one bed (chain, bootstrap, creator, two fans and a
late host), real daemons, one shared chain; plus playback checks (content port + hash, and
Chromium inside a host's namespace)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from support.browser import CHROMIUM, FLAGS, PHONE

from netbed import Bed, Host
from netbed.peers import BedPeer, Chain

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench-results" / "testbed-scenarios.json"
LINK = {"latency_ms": 40.0, "jitter_ms": 10.0, "loss": 0.01}
PEER_ENV = {"TOKTOK_SYNC_INTERVAL_S": "5", "TOKTOK_PEER_LOG_LEVEL": "info"}
PREMIUM_MIN = 2  # whole tokens


@dataclass
class World:
    bed: Bed
    chain: Chain
    hosts: dict[str, Host]
    peers: dict[str, BedPeer]
    clip: Path
    tiny: Path
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


def play_in_chromium(host: Host, peer: BedPeer, post_id: str) -> float:
    """Open ``peer``'s UI on the post (through a one-time login link) with a real Chromium
    running inside ``host``'s namespace and wait for ``playing``. Returns the time to the first
    ``playing`` since navigation start, in ms."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(host.wrapper(CHROMIUM)), args=FLAGS)
        try:
            context = browser.new_context(viewport=PHONE, color_scheme="dark")
            context.add_init_script(PLAYING_PROBE)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(peer.login_url() + f"#/post/{post_id}")
            wait_playing(page)
            return float(page.evaluate("() => window.__firstPlaying"))
        finally:
            browser.close()
