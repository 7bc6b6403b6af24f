"""The web UI on real ``toktok run`` daemons: a creator peer (its own devnet, a creator token, free
and premium clips) and a viewer peer on the same chain that got the clips over the network. Both
are shared by the whole module (starting them and publishing costs ~30 s); each test states what it
needs of the shared state, so their order does not matter.

Covers: following a creator from the feed, buying creator tokens on the creator page (quote then
confirmation), unlocking and playing a premium clip, an upload in the browser reaching the other
peer (with the "new clips" badge), display-name editing, a creator creating a token; axe-core and
screenshots of every page at phone and desktop sizes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.browser import DESKTOP, PHONE, Probe, axe_violations, screenshot, watch
from support.eip1193 import BrowserWallet
from support.ui_network import Network, creator_and_viewer, publish_premium, wait_for_posts

from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.ui

E18 = 10**18
PREMIUM_MIN = 3  # tokens; the buy test buys 1, so the viewer still has to buy for the unlock
FREE = (("Sunset over the bay", ["travel"]), ("Cat on a keyboard", ["cats", "funny"]))


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, media: tuple[Path, Path]) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("peers")
    with creator_and_viewer(folder, media[0], free=FREE, premium_min=PREMIUM_MIN) as network:
        yield network


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
    """``playing`` fired on the active card's video and its clock advances."""
    page.evaluate(
        "() => { const v = document.querySelector('.card-clip.active video');"
        " window.__playing = false;"
        " if (v && !v.paused && v.readyState >= 3) window.__playing = true;"
        " v?.addEventListener('playing', () => { window.__playing = true; }, {once: true}); }"
    )
    try:
        page.wait_for_function(
            "() => window.__playing &&"
            " document.querySelector('.card-clip.active video').currentTime > 0.1",
            timeout=30_000,
        )
        start = page.evaluate("() => document.querySelector('.card-clip.active video').currentTime")
        # the clock moves on (forward distance modulo the length: the clips loop)
        page.wait_for_function(
            "t => { const v = document.querySelector('.card-clip.active video');"
            " return (v.currentTime - t + v.duration) % v.duration > 0.2; }",
            arg=start,
            timeout=10_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"not playing: {player_state(page)}") from None


def go_to(page: Page, title: str, steps: int = 6) -> None:
    """Press j until the active card is the clip titled ``title``."""
    page.wait_for_selector(".card-clip.active")
    for _ in range(steps):
        if page.locator(".card-clip.active .clip-title").inner_text() == title:
            return
        page.keyboard.press("j")
        page.wait_for_timeout(400)
    raise AssertionError(f"{title!r} is not in the feed")


def holding(net: Network, address: str) -> int:
    holders = net.viewer.api.get(f"/api/v1/tokens/{net.token}/holders")["holders"]
    return sum(int(h["balance"]) for h in holders if h["address"].lower() == address.lower())


def follows(net: Network) -> bool:
    return bool(net.viewer.api.get(f"/api/v1/creators/{net.creator.address}")["following"])


def ensure_following(net: Network) -> None:
    if not follows(net):
        net.viewer.api.post(f"/api/v1/creators/{net.creator.address}/follow", {"on": True})


def test_viewer_follows_the_creator_from_a_card_in_the_feed(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    net.viewer.api.post(f"/api/v1/creators/{net.creator.address}/follow", {"on": False})
    probe = open_page(net.viewer.login_url())
    page = probe.page
    go_to(page, "Cat on a keyboard")
    card = page.locator(".card-clip.active")
    card.locator(".creator-chip", has_text="Ana").wait_for()
    card.locator(".creator-chip .price", has_text="TOK").wait_for()  # the token's spot price
    card.get_by_role("button", name="Follow", exact=True).click()
    card.locator(".follow[aria-pressed=true]", has_text="Following").wait_for()
    assert follows(net)
    # the Following tab now has the creator's clips, and they play from the viewer's own port
    page.locator(".tabs a", has_text="Following").click()
    go_to(page, "Sunset over the bay")
    wait_playing(page)
    content = net.viewer.status()["content_url"]
    assert player_state(page)["src"].startswith(content + "ipfs/")
    assert probe.problems() == []


def test_viewer_buys_creator_tokens_with_a_quote_and_a_confirmation(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    before = holding(net, net.viewer.address)
    probe = open_page(net.viewer.login_url() + f"#/creator/{net.creator.address}", DESKTOP)
    page = probe.page
    page.locator("#token-title", has_text="Ana Clips (ANA)").wait_for(timeout=30_000)
    page.locator(".profile h1", has_text="Ana").wait_for()
    page.fill("#trade-amount", "1")
    page.get_by_role("button", name="Get quote").click()
    confirm = page.get_by_role("button", name="Confirm buy of 1 ANA")
    confirm.wait_for()
    quote = page.locator(".trade .quote dl").inner_text()
    for label in ("Cost", "Fees", "Price after", "You pay at most"):
        assert label in quote
    assert holding(net, net.viewer.address) == before  # nothing bought before the confirmation
    screenshot(page, tmp_path, "peers-creator-quote-desktop")
    confirm.click()
    page.locator("#toast", has_text="Bought 1 ANA for").wait_for(timeout=30_000)
    assert holding(net, net.viewer.address) == before + E18
    # the page shows the new state: the viewer is among the holders
    short = net.viewer.address[:6]
    page.locator(".holders tr", has_text=short).wait_for()
    assert probe.problems() == []


def test_viewer_unlocks_a_premium_clip_by_buying_what_is_missing_and_plays_it(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    assert holding(net, net.viewer.address) < PREMIUM_MIN * E18, "unlocked before the test"
    probe = open_page(net.viewer.login_url() + f"#/post/{net.clips.premium}")
    page = probe.page
    lock = page.locator(".card-clip.active .lock")
    lock.get_by_role("button", name="Unlock").wait_for()
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(300)
        screenshot(page, tmp_path, f"peers-locked-{label}")
        assert axe_violations(page) == [], label
    lock.get_by_role("button", name="Unlock").click()
    buy = lock.get_by_role(
        "button", name=re.compile(r"^Buy [\d.]+ to unlock \(up to [\d.]+ TOK\)$")
    )
    buy.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    screenshot(page, tmp_path, "peers-locked-quote-desktop")
    assert holding(net, net.viewer.address) < PREMIUM_MIN * E18  # still nothing bought
    buy.click()
    wait_playing(page)
    assert lock.is_hidden()
    assert "/api/v1/clips/" in player_state(page)["src"]  # the decrypted rendition
    assert holding(net, net.viewer.address) >= PREMIUM_MIN * E18
    assert probe.problems() == []


BROWSER_WALLET_KEY = 6  # dev account of the browser wallet (5 is the viewer peer's, 7 a fan's)


def test_a_browser_wallet_buys_the_token_and_unlocks_a_premium_clip(
    net: Network, browser: Any, tmp_path: Path, media: tuple[Path, Path]
) -> None:
    """EIP-1193 wallet in Chromium (a Python signer behind a Playwright binding, sending real
    transactions to the devnet): connect from the status page (the wallet is switched to the
    devnet's chain), buy 2 ANA on the creator page from the wallet, then unlock a fresh
    premium clip with the wallet's personal_sign of a message whose domain is the page's host,
    and play it. The peer's own wallet buys nothing."""
    post = publish_premium(net.creator, media[0], "Holders cut", ["premium"], 2)
    wait_for_posts(net.viewer, [post])
    chain = net.viewer.status()["chain"]
    wallet = BrowserWallet(
        DEV_PRIVATE_KEYS[BROWSER_WALLET_KEY], chain["rpc_url"], chain["chain_id"]
    )
    peer_wallet_before = holding(net, net.viewer.address)
    assert holding(net, wallet.address) == 0
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    try:
        wallet.install(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        probe = Probe(page)
        watch(page, probe)
        page.goto(net.viewer.login_url() + "#/status")
        page.get_by_role("button", name="Connect browser wallet").click()
        short = f"{wallet.address[:6]}"
        page.locator("#wallet-holder-status", has_text=short).wait_for()
        assert wallet.current_chain == chain["chain_id"]  # switched before anything was sent
        assert "wallet_switchEthereumChain" in wallet.calls
        screenshot(page, tmp_path, "peers-wallet-connected-desktop")
        # the creator page: quote, confirmation, then the wallet sends approve and buy
        page.goto(net.viewer.url + f"#/creator/{net.creator.address}")
        page.locator("#token-title", has_text="Ana Clips (ANA)").wait_for(timeout=30_000)
        page.locator("#wallet-holder", has_text=short).wait_for()
        page.fill("#trade-amount", "2")
        page.get_by_role("button", name="Get quote").click()
        page.get_by_role("button", name="Confirm buy of 2 ANA").click()
        page.locator("#toast", has_text="Bought 2 ANA for").wait_for(timeout=60_000)
        page.get_by_text("Your browser wallet holds 2 ANA").wait_for()
        screenshot(page, tmp_path, "peers-wallet-bought-desktop")
        assert len(wallet.sent) == 2  # TOK approve, then buy
        assert holding(net, wallet.address) == 2 * E18
        assert holding(net, net.viewer.address) == peer_wallet_before
        # the premium clip: the wallet signs the key request; the clip plays
        page.goto(net.viewer.url + f"#/post/{post}")
        lock = page.locator(".card-clip.active .lock")
        lock.locator(".wallet-line", has_text=short).wait_for()
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)
        screenshot(page, tmp_path, "peers-wallet-locked-phone")
        lock.get_by_role("button", name="Unlock").click()
        try:
            lock.wait_for(state="hidden", timeout=60_000)
        except PlaywrightTimeout:
            raise AssertionError(f"still locked: {lock.inner_text()}") from None
        wait_playing(page)
        assert len(wallet.signed) == 1
        host = net.viewer.url.split("//", 1)[1].rstrip("/")
        first_line = wallet.signed[0].split("\n", 1)[0]
        assert first_line == f"{host} wants you to sign in with your Ethereum account:"
        assert wallet.address in wallet.signed[0]
        # the wallet is locked: the page is back on the peer's own wallet
        page.goto(net.viewer.url + "#/status")
        page.locator("#wallet-holder-status", has_text=short).wait_for()
        wallet.lock(page)
        page.locator("#wallet-holder-status", has_text="this peer's wallet").wait_for()
        page.set_viewport_size(PHONE)
        page.goto(net.viewer.url + f"#/creator/{net.creator.address}")
        page.locator("#wallet-holder", has_text="this peer's wallet").wait_for(timeout=30_000)
        page.locator("#wallet-holder").scroll_into_view_if_needed()
        screenshot(page, tmp_path, "peers-wallet-trade-phone")
        # a token that came by transfer only (no trade of the receiver's own): the creator
        # gets 1 ANA from the wallet; her portfolio lists it, its cost basis unknown
        wallet.transfer(net.token, net.creator.address, E18)
        gift = [
            p
            for p in net.creator.api.get("/api/v1/portfolio")["positions"]
            if p["token"] == net.token
        ]
        assert [(p["balance"], p["unpriced"], p["trades"]) for p in gift] == [
            (str(E18), str(E18), 0)
        ]
        assert int(gift[0]["value"]) > 0  # a real sell quote
        creator = context.new_page()
        creator.goto(net.creator.login_url() + "#/portfolio")
        received = creator.locator(".position", has_text="Ana Clips (ANA)")
        received.locator(".cost", has_text="unknown: received by transfer").wait_for(timeout=30_000)
        received.get_by_text("came by transfer: no cost is known").wait_for()
        screenshot(creator, tmp_path, "peers-portfolio-received-desktop")
        creator.set_viewport_size(PHONE)
        creator.wait_for_timeout(300)
        screenshot(creator, tmp_path, "peers-portfolio-received-phone")
        assert axe_violations(creator) == []
        creator.close()
        assert probe.problems() == []
    finally:
        context.close()


def test_upload_in_the_browser_reaches_the_viewer_as_a_new_clips_badge(
    net: Network, open_page: Any, tmp_path: Path, media: tuple[Path, Path]
) -> None:
    ensure_following(net)
    viewer = open_page(net.viewer.login_url() + "#/following", DESKTOP)
    viewer.page.locator("#state", has_text="online").wait_for()
    go_to(viewer.page, "Cat on a keyboard")
    go_to(viewer.page, "Sunset over the bay")  # scrolled into the feed

    author = open_page(net.creator.login_url() + "#/upload")
    page = author.page
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Browser upload")
    page.fill("#upload-tags", "ui")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_function(
        "() => /Published\\.|failed/.test(document.querySelector('#upload-status').textContent)",
        timeout=120_000,
    )
    assert page.locator("#upload-status").inner_text() == "Published."
    stages = page.locator(".stages li").evaluate_all("els => els.map(e => e.className)")
    assert set(stages) == {"done", "skipped"}  # a free clip skips "Encrypting (premium)"
    screenshot(page, tmp_path, "peers-upload-done-phone")
    assert author.problems() == []

    badge = viewer.page.get_by_role("button", name="1 new clip")
    badge.wait_for(timeout=60_000)
    assert viewer.page.locator(".card-clip.active .clip-title").inner_text() == (
        "Sunset over the bay"
    )
    badge.click()
    viewer.page.locator(".card-clip.active", has_text="Browser upload").wait_for()
    wait_playing(viewer.page)  # fetched from the creator over bitswap
    content = net.viewer.status()["content_url"]
    assert player_state(viewer.page)["src"].startswith(content + "ipfs/")
    assert viewer.problems() == []


def test_display_name_edited_on_the_status_page_is_published(net: Network, open_page: Any) -> None:
    probe = open_page(net.viewer.login_url() + "#/status")
    page = probe.page
    page.wait_for_function("() => !document.querySelector('#profile-name').disabled")
    name = f"Viewer {int(time.time()) % 10000}"
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.locator("#profile-out", has_text=f"Saved: your display name is now “{name}”.").wait_for()
    assert net.viewer.api.get("/api/v1/profile")["name"] == name
    assert probe.problems() == []


def test_a_creator_without_a_token_creates_one_and_buys_it(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    me = net.viewer.address
    probe = open_page(net.viewer.login_url() + f"#/creator/{me}", DESKTOP)
    page = probe.page
    page.fill("#token-name", "Viewer Clips")
    page.fill("#token-symbol", "VIEW")
    page.get_by_role("button", name="Create token").click()
    page.locator("#token-title", has_text="Viewer Clips (VIEW)").wait_for(timeout=30_000)
    page.fill("#trade-amount", "2")
    page.get_by_role("button", name="Get quote").click()
    confirm = page.get_by_role("button", name="Confirm buy of 2 VIEW")
    confirm.wait_for()
    token = net.viewer.api.get("/api/v1/profile")["token"]
    assert net.viewer.api.get(f"/api/v1/tokens/{token}/holders") == {"holders": []}
    confirm.click()
    page.locator("#toast", has_text="Bought 2 VIEW for").wait_for(timeout=30_000)
    page.locator(".holders td").get_by_text("2", exact=True).wait_for()
    holders = net.viewer.api.get(f"/api/v1/tokens/{token}/holders")["holders"]
    assert holders == [{"address": me, "balance": str(2 * E18)}]
    # the chart: the start price and the one trade, and said so
    page.locator(".chart figcaption", has_text="1 trade, now").wait_for()
    screenshot(page, tmp_path, "peers-own-creator-desktop")
    # the user's own page leads to the profile editor
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_label("Display name").wait_for()
    assert probe.problems() == []


PAGES = {
    "feed": ("#/", ".card-clip.active video"),
    "following": ("#/following", ".card-clip.active video"),
    "search": ("#/search?q=cats", ".grid .tile img[src]"),
    "creator": ("#/creator/{creator}", ".chart-svg"),
    "upload": ("#/upload", "form.upload-form"),
    "status": ("#/status", "#services .pill.ok"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_on_real_peers_passes_axe_and_is_captured(
    name: str, net: Network, open_page: Any, tmp_path: Path
) -> None:
    ensure_following(net)
    hash_, ready = PAGES[name]
    probe = open_page(net.viewer.login_url() + hash_.format(creator=net.creator.address), PHONE)
    page = probe.page
    if name in ("feed", "following"):
        go_to(page, "Cat on a keyboard")
    if name == "status":
        peer_id = net.viewer.status()["peer_id"]
        page.locator("#peer dd").get_by_text(peer_id, exact=True).wait_for()
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_selector(ready, timeout=30_000)
        if name in ("feed", "following"):
            wait_playing(page)
        page.wait_for_timeout(400)
        screenshot(page, tmp_path, f"peers-{name}-{label}")
        assert axe_violations(page) == [], f"{name} at {label}"
        if name in ("creator", "status", "upload"):  # the rest of a page taller than the window
            page.evaluate("() => { const m = document.querySelector('main'); m.scrollTop = 1e6; }")
            page.wait_for_timeout(200)
            screenshot(page, tmp_path, f"peers-{name}-{label}-end")
            page.evaluate("() => { document.querySelector('main').scrollTop = 0; }")
    assert probe.problems() == []


def second_fan_buys(net: Network, amount: int) -> None:
    """Another fan (dev account 7) buys on the chain itself: no peer of this test sees it
    coming, only the trade index's next round does."""
    import asyncio

    from eth_account import Account

    from tokens.client import ChainClient, ClientOptions
    from tokens.deployment import load_deployment
    from tokens.devnet import DEV_PRIVATE_KEYS

    rpc = net.creator.status()["chain"]["rpc_url"]
    deployment = load_deployment(net.creator.daemon.data_dir / "devnet" / "deployment.json")

    async def buy() -> None:
        options = ClientOptions(rpc_url=rpc, deployment=deployment)
        async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[7])) as fan:
            await fan.buy(net.token, amount * E18)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, buy()).result(60)


def test_the_creator_economy_dashboard_portfolio_and_chart(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    creator_api, viewer_api = net.creator.api, net.viewer.api
    earned_before = int(creator_api.get("/api/v1/dashboard")["earnings"]["total"])
    trade = viewer_api.post(f"/api/v1/tokens/{net.token}/buy", {"amount": "2", "confirm": True})
    # the creator's dashboard: the fee just earned, and the fan among the holders
    creator = open_page(net.creator.login_url() + f"#/creator/{net.creator.address}", DESKTOP)
    dashboard = creator.page.locator(".dashboard")
    dashboard.locator("td", has_text=net.viewer.address).wait_for(timeout=30_000)
    earned = int(creator_api.get("/api/v1/dashboard")["earnings"]["total"])
    assert earned - earned_before >= int(trade["cost"]) * 5 // 107  # 5 % creator fee on it
    dashboard.locator(".earned", has_text="TOK").wait_for()
    screenshot(creator.page, tmp_path, "peers-dashboard-desktop")
    creator.page.set_viewport_size(PHONE)
    creator.page.wait_for_timeout(300)
    screenshot(creator.page, tmp_path, "peers-dashboard-phone")
    assert axe_violations(creator.page) == []
    # the fan's portfolio: the position and its value; a second fan's buy (on the chain, seen
    # by the trade index) lifts the price, and the open page shows the gain without a reload
    fan = open_page(net.viewer.login_url() + "#/portfolio", PHONE)
    page = fan.page
    position = page.locator(".position", has_text="Ana Clips (ANA)")
    position.locator(".value", has_text="TOK").wait_for(timeout=30_000)
    before = viewer_api.get("/api/v1/portfolio")["positions"][0]
    second_fan_buys(net, 40)
    page.wait_for_function(
        "v => document.querySelector('.position .value')?.textContent !== v",
        arg=position.locator(".value").inner_text(),
        timeout=30_000,
    )
    after = viewer_api.get("/api/v1/portfolio")["positions"][0]
    assert int(after["value"]) > int(before["value"])
    assert int(after["gain"]) > 0
    position.locator(".gain.up").wait_for()
    screenshot(page, tmp_path, "peers-portfolio-phone")
    assert axe_violations(page) == []
    # selling from the portfolio: the same quote and confirmation as the creator page
    held = holding(net, net.viewer.address)
    position.get_by_role("button", name="Buy or sell").click()
    position.locator("select[id^=trade-side]").select_option("sell")
    position.locator("input[id^=trade-amount]").fill("1")
    position.get_by_role("button", name="Get quote").click()
    position.get_by_role("button", name="Confirm sell of 1 ANA").click()
    page.locator("#toast", has_text="Sold 1 ANA for").wait_for(timeout=30_000)
    assert holding(net, net.viewer.address) == held - E18
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(300)
    screenshot(page, tmp_path, "peers-portfolio-desktop")
    # the chart: axes, the curve's start price, and a mark for every trade so far
    page.goto(net.viewer.url + f"#/creator/{net.creator.address}")
    chart = page.locator(".token .chart-svg")
    chart.locator("circle.start").wait_for(timeout=30_000)
    trades = len(viewer_api.get(f"/api/v1/tokens/{net.token}/history")["points"])
    assert chart.locator("circle.buy, circle.sell").count() == trades >= 3
    assert chart.locator("line.chart-axis").count() == 2
    assert "starts at 0.01 TOK" in (chart.get_attribute("aria-label") or "")
    screenshot(page, tmp_path, "peers-chart-desktop")
    assert creator.problems() == []
    assert fan.problems() == []
