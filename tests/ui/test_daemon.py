"""The web UI served by real ``toktok run`` daemons: the status page, and a clip published
through the upload page that plays in a second peer's feed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.browser import DESKTOP, axe_violations, screenshot
from support.daemon import Daemon, StartDaemon, run_cli, spawn_daemon

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.ui


@pytest.fixture
def start_daemon() -> Iterator[StartDaemon]:
    daemons: list[Daemon] = []

    def start(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Daemon:
        daemon = spawn_daemon(data_dir, *args, env=env)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def player_state(page: Page) -> Any:
    """What the active card's player is doing (for failure messages)."""
    return page.evaluate(
        "() => { const c = document.querySelector('.card-clip.active');"
        " const v = c?.querySelector('video');"
        " return v && {src: v.src, paused: v.paused, time: v.currentTime, ready: v.readyState,"
        " network: v.networkState, error: v.error && v.error.message,"
        " status: c.querySelector('.clip-status').textContent}; }"
    )


def wait_playing(page: Page) -> None:
    try:
        page.wait_for_function(
            "() => { const v = document.querySelector('.card-clip.active video');"
            " return v && !v.paused && v.currentTime > 0.3; }",
            timeout=30_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"not playing: {player_state(page)}") from None


def finished(page: Page) -> None:
    """Wait for the publish job to end, and fail with the page's own words if it failed."""
    page.wait_for_function(
        "() => /Published\\.|failed/.test(document.querySelector('#upload-status').textContent)",
        timeout=120_000,
    )
    assert page.locator("#upload-status").inner_text() == "Published."


def test_status_page_shows_this_peers_id(
    start_daemon: StartDaemon, open_page: Any, tmp_path: Path
) -> None:
    daemon = start_daemon(tmp_path / "peer")
    peer_id = client(daemon).get("/api/v1/status")["peer_id"]
    probe = open_page(daemon.url + "#/status")
    page = probe.page
    page.locator("#peer dd").get_by_text(peer_id, exact=True).wait_for()
    page.locator("#services .pill.ok").first.wait_for()
    screenshot(page, tmp_path, "daemon-status-phone")
    assert axe_violations(page) == []
    assert probe.problems() == []


def test_clip_uploaded_in_the_browser_plays_in_a_second_peers_feed(
    start_daemon: StartDaemon, open_page: Any, tmp_path: Path, media: tuple[Path, Path]
) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    chain = client(a).get("/api/v1/status")["chain"]
    env = {
        "TOKTOK_CHAIN_MODE": "rpc",
        "TOKTOK_CHAIN_RPC_URL": chain["rpc_url"],
        "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(tmp_path / "a" / "devnet" / "deployment.json"),
        "TOKTOK_PASSPHRASE": "test passphrase",
    }
    key_file = tmp_path / "b-key.txt"
    key_file.write_text(DEV_PRIVATE_KEYS[5])
    imported = run_cli(
        tmp_path / "b", "wallet", "import", "--private-key-file", str(key_file), env=env
    )
    assert imported.returncode == 0, imported.stderr
    b = start_daemon(tmp_path / "b", env=env)
    client(b).post(
        "/api/v1/peers/connect", {"multiaddr": client(a).get("/api/v1/status")["p2p_addrs"][0]}
    )
    creator = client(a).get("/api/v1/profile")["address"]

    # B follows A on A's creator page, in the browser.
    viewer = open_page(b.url + f"#/creator/{creator}", DESKTOP)
    viewer.page.get_by_role("button", name="Follow").click()
    viewer.page.locator("button[aria-pressed=true]", has_text="Following").wait_for()

    # A publishes through the upload page and follows every stage.
    author = open_page(a.url + "#/upload")
    page = author.page
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Browser upload")
    page.fill("#upload-tags", "ui")
    page.get_by_role("button", name="Publish").click()
    finished(page)
    stages = page.locator(".stages li").evaluate_all("els => els.map(e => e.className)")
    assert set(stages) == {"done"}
    screenshot(page, tmp_path, "daemon-upload-done-phone")
    assert author.problems() == []

    # The author watches it on A (served by A's content port, seekable by Range).
    page.get_by_role("link", name="Watch it").click()
    page.locator(".card-clip.active", has_text="Browser upload").wait_for()
    wait_playing(page)
    a_content = client(a).get("/api/v1/status")["content_url"]
    assert player_state(page)["src"].startswith(a_content + "ipfs/")
    assert author.problems() == []

    # B sees it in its Following feed and plays it from its own content port.
    viewer.page.goto(b.url + "#/following")
    viewer.page.locator(".card-clip.active", has_text="Browser upload").wait_for(timeout=60_000)
    wait_playing(viewer.page)  # fetched from A over bitswap
    screenshot(viewer.page, tmp_path, "daemon-feed-desktop")
    b_content = client(b).get("/api/v1/status")["content_url"]
    assert player_state(viewer.page)["src"].startswith(b_content + "ipfs/")
    assert viewer.problems() == []

    # A premium clip: A (with a token) publishes it from the upload page; B sees the lock,
    # confirms the buy plan, and plays the decrypted rendition.
    client(a).post("/api/v1/token", {"name": "Ana", "symbol": "ANA"})
    # Publishing right after the token is created can fail with "wrong-token ... registry says
    # 0x0" (the registry is read at a lagged block); give the chain a few blocks.
    time.sleep(3)
    page.goto(a.url + "#/upload")
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Members only")
    page.check("#upload-premium")
    page.fill("#upload-min", "2")
    page.get_by_role("button", name="Publish").click()
    finished(page)
    assert page.locator(".stages li[data-stage=encrypt]").get_attribute("class") == "done"
    viewer.page.locator(".nav a", has_text="Search").click()  # leave and come back: a fresh page
    viewer.page.locator(".nav a", has_text="Following").click()
    card = viewer.page.locator(".card-clip.active", has_text="Members only")
    card.wait_for(timeout=60_000)
    card.locator(".lock").get_by_role("button", name="Unlock").click()
    buy = card.get_by_role("button", name="Buy 2 to unlock")
    buy.wait_for(timeout=30_000)
    screenshot(viewer.page, tmp_path, "daemon-locked-desktop")
    buy.click()
    wait_playing(viewer.page)
    assert "/api/v1/clips/" in player_state(viewer.page)["src"]
    assert viewer.problems() == []


def test_creator_creates_a_token_and_buys_it_on_the_devnet(
    start_daemon: StartDaemon, open_page: Any, tmp_path: Path
) -> None:
    daemon = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    me = client(daemon).get("/api/v1/profile")["address"]
    probe = open_page(daemon.url + f"#/creator/{me}", DESKTOP)
    page = probe.page
    page.fill("#token-name", "Ana Clips")
    page.fill("#token-symbol", "ANA")
    page.get_by_role("button", name="Create token").click()
    page.locator("#token-title", has_text="Ana Clips (ANA)").wait_for(timeout=30_000)
    page.fill("#trade-amount", "2")
    page.get_by_role("button", name="Get quote").click()
    confirm = page.get_by_role("button", name="Confirm buy of 2 ANA")
    confirm.wait_for()
    token = client(daemon).get("/api/v1/profile")["token"]
    assert client(daemon).get(f"/api/v1/tokens/{token}/holders") == {"holders": []}
    confirm.click()
    page.locator("#toast", has_text="Bought 2 ANA for").wait_for(timeout=30_000)
    # the page shows the new state
    page.locator(".holders td").get_by_text("2", exact=True).wait_for()
    holders = client(daemon).get(f"/api/v1/tokens/{token}/holders")["holders"]
    assert holders == [{"address": me, "balance": str(2 * 10**18)}]
    screenshot(page, tmp_path, "daemon-creator-desktop")
    assert axe_violations(page) == []
    assert probe.problems() == []
