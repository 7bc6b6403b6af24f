"""The social layer in the browser on real ``toktok run`` daemons: A (creator, own devnet, a
creator token, two clips), B (a viewer that got them over the network) and C (a third peer on the
same chain that never connected to A or B). Shared by the module.

Covers: the first-run screen (name and an avatar resized in the browser and stored in IPFS), a
share link copied on A opening the clip on C (which syncs A's log from the link's address), a
link whose addresses may not be dialled failing clearly, a follow, a like and a token buy raising
notifications on A live (bell and list, read state), a live like count that also drops on an
unlike, comments (live, hidden by the creator, deleted by their author and gone live on A,
holders-only), tag pages and creators to follow; axe-core and screenshots of every new view at
phone and desktop sizes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page
from support.browser import DESKTOP, PHONE, axe_violations, screenshot
from support.ui_network import Network, Peer, chain_env, creator_and_viewer, import_key, start_peer

from peer.errors import DaemonError

pytestmark = pytest.mark.ui

FREE = (("Sunset over the bay", ["travel"]), ("Cat on a keyboard", ["cats", "funny"]))
THIRD_KEY = 6  # dev account of peer C
E18 = 10**18


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, media: tuple[Path, Path]) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("social")
    with creator_and_viewer(folder, media[0], free=FREE, premium_min=0) as network:
        yield network


@pytest.fixture(scope="module")
def third(net: Network) -> Peer:
    """C: on A's chain, connected to nobody, no display name yet."""
    import_key(net.folder / "third", THIRD_KEY)
    return start_peer(net.folder / "third", chain_env(net.creator), net.daemons)


def both_sizes(page: Page, tmp_path: Path, name: str, ready: str | None = None) -> None:
    """Screenshot at phone and desktop size, each checked with axe-core."""
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        if ready:
            page.wait_for_selector(ready)
        page.wait_for_timeout(300)
        screenshot(page, tmp_path, f"social-{name}-{label}")
        assert axe_violations(page) == [], f"{name} at {label}"


def unread(page: Page) -> str:
    return page.locator(".bell").get_attribute("aria-label") or ""


def test_first_run_then_a_shared_link_opens_the_clip_on_a_peer_that_never_saw_the_creator(
    net: Network, third: Peer, open_page: Any, tmp_path: Path, media: tuple[Path, Path]
) -> None:
    cat = net.clips.free[1]
    # C's first run: the welcome screen instead of the feed
    c_probe = open_page(third.login_url())
    c = c_probe.page
    c.wait_for_url(re.compile(r"#/welcome$"))
    c.get_by_role("heading", name="Welcome to Toktok").wait_for()
    c.locator("#welcome-tokens", has_text="test tokens, with no value").wait_for()
    c.get_by_label("Display name").fill("Cleo")
    c.set_input_files("#welcome-avatar", str(media[1]))  # a 180x320 PNG, cropped and resized
    c.locator(".avatar-pick .avatar img[src^='data:image/jpeg']").wait_for()
    both_sizes(c, tmp_path, "welcome")
    c.get_by_role("button", name="Save and start").click()
    c.wait_for_url(re.compile(r"#/$"))
    profile = third.api.get("/api/v1/profile")
    assert profile["name"] == "Cleo"
    assert profile["avatar"].startswith("baf")
    with pytest.raises(DaemonError):
        third.api.get(f"/api/v1/posts/{cat}")  # C has never seen A's clips

    # A copies the clip's link, choosing to add its own address
    a_probe = open_page(net.creator.login_url() + f"#/post/{cat}", DESKTOP)
    a = a_probe.page
    card = a.locator(".card-clip.active")
    card.get_by_role("button", name="Share").click()
    field = card.locator(".share-link")
    a.wait_for_function("el => el.value.startsWith('web+toktok:post/')", arg=field.element_handle())
    assert "peer=" not in field.input_value()  # no relay, no bootstrap: no hint by default
    card.get_by_label(re.compile("Add my peer's address")).check()
    a.wait_for_function("el => el.value.includes('peer=')", arg=field.element_handle())
    card.get_by_role("button", name="Copy link").click()
    screenshot(a, tmp_path, "social-share-desktop")
    a.set_viewport_size(PHONE)
    a.wait_for_timeout(300)
    screenshot(a, tmp_path, "social-share-phone")
    assert axe_violations(a) == []
    link = field.input_value()
    assert link.startswith(f"web+toktok:post/{cat}?creator={net.creator.address}&peer=/ip4/127.")

    # C opens it (as the registered web+toktok: handler would) and plays the clip
    assert c_probe.problems() == []
    c_probe = open_page(third.login_url() + "#/open?link=" + quote(link, safe=""))
    c = c_probe.page
    c.wait_for_url(re.compile(f"#/post/{cat}$"), timeout=60_000)
    c.locator(".card-clip.active .clip-title", has_text="Cat on a keyboard").wait_for()
    c.locator(".card-clip.active .creator-chip", has_text="Ana").wait_for()
    assert third.api.get(f"/api/v1/posts/{cat}")["creator"] == net.creator.address
    assert c_probe.problems() == []
    assert a_probe.problems() == []


def test_a_link_whose_addresses_may_not_be_dialled_fails_clearly(
    net: Network, third: Peer, open_page: Any, tmp_path: Path
) -> None:
    post = "0x" + "ee" * 32
    link = (
        f"web+toktok:post/{post}?creator={net.creator.address}"
        "&peer=/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWQ2dBEKxKJ8Nq4R4u8Y3pt5FcKk4Bz8jrqgS5fKxMG4xN"
    )
    page = open_page(third.login_url() + "#/open?link=" + quote(link, safe="")).page
    alert = page.get_by_role("alert").filter(has_text="dial")
    alert.wait_for(timeout=30_000)
    assert "may not dial any address" in alert.inner_text()
    page.locator(".steps li", has_text="not dialled: this peer listens on loopback only").wait_for()
    both_sizes(page, tmp_path, "open-link-refused")


def test_follow_like_and_buy_raise_notifications_on_the_creator_live(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    a_probe = open_page(net.creator.login_url() + f"#/post/{net.clips.free[0]}", DESKTOP)
    a = a_probe.page
    a.locator("#state", has_text="online").wait_for()
    before = net.creator.api.get("/api/v1/notifications")["unread"]
    card = a.locator(".card-clip.active")
    likes = int(net.creator.api.get(f"/api/v1/posts/{net.clips.free[0]}")["likes"])
    card.get_by_role("button", name=f"Like ({likes})").wait_for()

    b = net.viewer.api
    b.post(f"/api/v1/creators/{net.creator.address}/follow", {"on": False})
    b.post(f"/api/v1/creators/{net.creator.address}/follow", {"on": True})
    b.post(f"/api/v1/posts/{net.clips.free[0]}/like", {})
    b.post(f"/api/v1/tokens/{net.token}/buy", {"amount": "1", "confirm": True})

    # the like count on A's card moves without a reload, up and down again
    card.get_by_role("button", name=f"Like ({likes + 1})").wait_for(timeout=30_000)
    b.post(f"/api/v1/posts/{net.clips.free[0]}/unlike", {})
    card.get_by_role("button", name=f"Like ({likes})").wait_for(timeout=30_000)
    b.post(f"/api/v1/posts/{net.clips.free[0]}/like", {})
    a.wait_for_function(
        "n => /Notifications, (\\d+) unread/.test(document.querySelector('.bell')"
        ".getAttribute('aria-label')) && Number(document.querySelector('.bell')"
        ".getAttribute('aria-label').match(/(\\d+) unread/)[1]) >= n",
        arg=before + 3,
        timeout=45_000,
    )
    kinds = {n["type"] for n in net.creator.api.get("/api/v1/notifications")["items"]}
    assert {"follow", "like", "trade"} <= kinds
    a.locator(".bell").click()
    page_list = a.locator(".notifications")
    page_list.locator(".notification[data-type=follow]", has_text="followed you").first.wait_for()
    page_list.locator(
        ".notification[data-type=like]", has_text="Sunset over the bay"
    ).first.wait_for()
    page_list.locator(
        ".notification[data-type=trade]", has_text="bought 1 of your token"
    ).first.wait_for()
    a.wait_for_function(
        "() => document.querySelector('.bell').getAttribute('aria-label')"
        " === 'Notifications, none unread'"
    )
    assert net.creator.api.get("/api/v1/notifications")["unread"] == 0  # read state is kept
    both_sizes(a, tmp_path, "notifications")
    assert a_probe.problems() == []


def test_tag_pages_and_creators_to_follow(
    net: Network, third: Peer, open_page: Any, tmp_path: Path
) -> None:
    probe = open_page(net.viewer.login_url() + "#/tag/cats")
    page = probe.page
    page.get_by_role("heading", name="#cats").wait_for()
    page.locator(".card-clip.active .clip-title", has_text="Cat on a keyboard").wait_for()
    assert page.locator(".card-clip").count() == 1
    tag = page.locator(".card-clip.active .tags a", has_text="#funny")
    assert tag.get_attribute("href") == "#/tag/funny"
    both_sizes(page, tmp_path, "tag")
    # C knows A (it synced A's log through the link; connected here if this test runs alone)
    # and does not follow A
    if not third.api.get("/api/v1/suggested-creators")["creators"]:
        third.api.post("/api/v1/peers/connect", {"multiaddr": net.creator.status()["p2p_addrs"][0]})
    deadline = time.monotonic() + 60
    while not third.api.get("/api/v1/suggested-creators")["creators"]:
        assert time.monotonic() < deadline, "C never learnt of a creator"
        time.sleep(0.5)
    c = open_page(third.login_url() + "#/search").page
    panel = c.get_by_role("region", name="Creators to follow")
    panel.get_by_role("link", name=re.compile("Ana")).wait_for()
    panel.get_by_role("button", name="Follow").first.wait_for()
    both_sizes(c, tmp_path, "search-suggested")
    assert probe.problems() == []


def test_comments_live_the_creator_hides_one_and_a_holders_only_post_takes_a_buy(
    net: Network, open_page: Any, tmp_path: Path
) -> None:
    sunset, cat = net.clips.free
    b = net.viewer.api
    if not b.get(f"/api/v1/creators/{net.creator.address}")["following"]:
        b.post(f"/api/v1/creators/{net.creator.address}/follow", {"on": True})
    a_probe = open_page(net.creator.login_url() + f"#/post/{sunset}", DESKTOP)
    a = a_probe.page
    a.locator("#state", has_text="online").wait_for()
    a_sheet = a.locator(".card-clip.active .comment-sheet")
    a.locator(".card-clip.active").get_by_role("button", name=re.compile("^Comments")).click()
    a_sheet.wait_for()
    b_probe = open_page(net.viewer.login_url() + f"#/post/{sunset}")
    v = b_probe.page
    v.locator("#state", has_text="online").wait_for()
    v.locator(".card-clip.active").get_by_role("button", name=re.compile("^Comments")).click()
    b_sheet = v.locator(".card-clip.active .comment-sheet")
    b_sheet.get_by_label("Add a comment").fill("Lovely light")
    b_sheet.get_by_role("button", name="Send").click()
    b_sheet.locator(".comment", has_text="Lovely light").wait_for()
    # A sees it live, and hides it; B's sheet updates
    comment = a_sheet.locator(".comment", has_text="Lovely light")
    comment.wait_for(timeout=45_000)
    both_sizes(v, tmp_path, "comments")
    # B deletes a comment of B's; it vanishes live on A (withdrawal over gossip, then SSE)
    b_sheet.get_by_label("Add a comment").fill("Wrong clip, sorry")
    b_sheet.get_by_role("button", name="Send").click()
    regret = b_sheet.locator(".comment", has_text="Wrong clip, sorry")
    a_sheet.locator(".comment", has_text="Wrong clip, sorry").wait_for(timeout=45_000)
    assert (
        a_sheet.locator(".comment", has_text="Lovely light")
        .get_by_role("button", name="Delete")
        .count()
        == 0
    ), "A may hide B's comment, never delete it"
    regret.get_by_role("button", name="Delete").click()
    regret.get_by_role("button", name="Confirm: delete this comment for everyone").wait_for()
    both_sizes(v, tmp_path, "comments-delete")
    regret.get_by_role("button", name="Confirm: delete this comment for everyone").click()
    regret.wait_for(state="detached")
    a_sheet.locator(".comment", has_text="Wrong clip, sorry").wait_for(
        state="detached", timeout=45_000
    )
    assert "Wrong clip" not in str(net.creator.api.get(f"/api/v1/posts/{sunset}/comments"))
    comment.get_by_role("button", name="Hide").click()
    a_sheet.locator(".hidden-comment", has_text="Lovely light").wait_for()
    b_sheet.locator(".comment", has_text="Lovely light").wait_for(state="detached", timeout=45_000)
    kinds = {n["type"] for n in net.creator.api.get("/api/v1/notifications")["items"]}
    assert "comment" in kinds

    # holders-only: B holds less than the creator asks, is told so, buys, then comments
    held = sum(
        int(h["balance"])
        for h in b.get(f"/api/v1/tokens/{net.token}/holders")["holders"]
        if h["address"].lower() == net.viewer.address.lower()
    )
    need = held + 2 * E18
    net.creator.api.post(f"/api/v1/posts/{cat}/comment-policy", {"min_balance": str(need)})
    deadline = time.monotonic() + 45
    while b.get(f"/api/v1/posts/{cat}/comments")["min_balance"] != str(need):
        assert time.monotonic() < deadline, "the policy never reached B"
        time.sleep(0.5)
    v_probe = open_page(net.viewer.login_url() + f"#/post/{cat}")
    v = v_probe.page
    v.locator(".card-clip.active").get_by_role("button", name=re.compile("^Comments")).click()
    sheet = v.locator(".card-clip.active .comment-sheet")
    sheet.locator(".comment-gate", has_text="2 more are needed").wait_for()
    screenshot(v, tmp_path, "social-comments-holders-only-phone")
    assert axe_violations(v) == []
    sheet.get_by_role("button", name="Get a quote").click()
    sheet.get_by_role("button", name=re.compile(r"^Buy 2 ANA for up to [\d.]+ TOK$")).click()
    sheet.locator(".comment-gate", has_text="you hold").wait_for(timeout=30_000)
    sheet.get_by_label("Add a comment").fill("Worth holding")
    deadline = time.monotonic() + 30
    out = sheet.locator(".comment-out")
    posted = sheet.locator(".comment", has_text="Worth holding")
    while True:  # the bought tokens count once held for the holding window (2 s on the devnet)
        sheet.get_by_role("button", name="Send").click()
        while out.inner_text() == "Sending…":
            time.sleep(0.2)
        if out.inner_text() == "":
            posted.wait_for()
            break
        assert time.monotonic() < deadline, out.inner_text()
        time.sleep(1)
    assert b_probe.problems() == []
    assert a_probe.problems() == []
