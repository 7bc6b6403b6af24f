"""The feed in Chromium: keyboard navigation, autoplay, preload, sound, likes, follows, seeking
and the premium lock overlay (against the contract fake)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from support.browser import screenshot
from support.fake_api import ANA, BEN, E18, FakeServer

pytestmark = pytest.mark.ui


def active_title(page: Page) -> str:
    return page.locator(".card-clip.active .clip-title").inner_text()


def wait_playing(page: Page, selector: str = ".card-clip.active video") -> None:
    """The video fired ``playing`` and its clock moves."""
    page.wait_for_function(
        "sel => { const v = document.querySelector(sel);"
        " return v && !v.paused && v.readyState >= 3 && v.currentTime > 0.2; }",
        arg=selector,
    )


def test_arrow_keys_and_j_k_move_between_clips(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    page.wait_for_selector(".card-clip.active")
    assert active_title(page) == "Cat on a keyboard"
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.querySelector('.card-clip.active')?.dataset.id")
    page.wait_for_selector(".card-clip.active >> text=Morning run")
    page.keyboard.press("j")
    page.wait_for_selector(".card-clip.active >> text=Members only cut")
    page.keyboard.press("k")
    page.wait_for_selector(".card-clip.active >> text=Morning run")
    page.keyboard.press("ArrowUp")
    page.wait_for_selector(".card-clip.active >> text=Cat on a keyboard")
    # the active card is the one scrolled into view
    page.wait_for_function(
        "() => Math.abs(document.querySelector('.card-clip.active').getBoundingClientRect().top"
        " - document.querySelector('.cards').getBoundingClientRect().top) < 2"
    )
    assert probe.problems() == []


def test_active_clip_autoplays_muted_looping_and_next_is_preloaded(
    fake: FakeServer, open_page: Any
) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    page.wait_for_selector(".card-clip.active video")
    wait_playing(page)
    state = page.evaluate(
        "() => { const [a, b, , d] = document.querySelectorAll('.card-clip video');"
        " return {muted: a.muted, loop: a.loop, next: b.preload, nextSrc: !!b.getAttribute('src'),"
        " nextPaused: b.paused, farSrc: !!d.getAttribute('src')}; }"
    )
    assert state == {
        "muted": True,
        "loop": True,
        "next": "auto",
        "nextSrc": True,
        "nextPaused": True,
        "farSrc": False,
    }
    assert probe.problems() == []


def test_m_key_and_the_sound_hint_toggle_sound_and_a_tap_pauses(
    fake: FakeServer, open_page: Any
) -> None:
    page = open_page(fake.login_url()).page
    page.wait_for_selector(".card-clip.active video")
    muted = "() => document.querySelector('.card-clip.active video').muted"
    paused = "() => document.querySelector('.card-clip.active video').paused"
    hint = page.locator(".card-clip.active").get_by_role("button", name="Tap for sound")
    page.keyboard.press("m")
    assert page.evaluate(muted) is False
    assert hint.is_hidden()
    page.keyboard.press("m")
    assert page.evaluate(muted) is True
    hint.click()  # visible while the sound is off
    assert page.evaluate(muted) is False
    assert hint.is_hidden()
    wait_playing(page)
    page.locator(".card-clip.active video").click()  # tap: pause, and say so
    assert page.evaluate(paused) is True
    page.locator(".card-clip.active .paused-mark").wait_for()
    page.locator(".card-clip.active video").click()
    page.locator(".card-clip.active .paused-mark").wait_for(state="hidden")
    wait_playing(page)


def test_like_unlike_and_follow_reach_the_peer(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    card = page.locator(".card-clip.active")
    card.get_by_role("button", name="Like (0)").click()
    page.wait_for_selector(".card-clip.active button[aria-label='Like (1)'][aria-pressed=true]")
    card.get_by_role("button", name="Like (1)").click()  # pressed again: the like is taken back
    page.wait_for_selector(".card-clip.active button[aria-label='Like (0)'][aria-pressed=false]")
    assert fake.peer.posts[0]["likes"] == 0
    page.keyboard.press("l")
    page.wait_for_selector(".card-clip.active button[aria-label='Like (1)'][aria-pressed=true]")
    card.get_by_role("button", name="Follow").click()
    page.wait_for_selector(".card-clip.active .follow[aria-pressed=true]")
    assert fake.peer.posts[0]["likes"] == 1
    assert ANA in fake.peer.following
    assert probe.problems() == []


def test_seek_bar_moves_the_playhead(fake: FakeServer, open_page: Any) -> None:
    page = open_page(fake.login_url()).page
    wait_playing(page)
    page.evaluate(
        "() => { const s = document.querySelector('.card-clip.active .seek');"
        " s.value = '500'; s.dispatchEvent(new Event('input')); }"
    )
    position = page.evaluate("() => document.querySelector('.card-clip.active video').currentTime")
    assert 0.9 <= position <= 1.3


def test_premium_clip_is_locked_until_bought_and_then_plays(
    fake: FakeServer, open_page: Any, tmp_path: Path
) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    page.wait_for_selector(".card-clip.active")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.wait_for_selector(".card-clip.active >> text=Members only cut")
    lock = page.locator(".card-clip.active .lock")
    lock.get_by_role("button", name="Unlock").click()
    buy = lock.get_by_role("button", name="Buy 5 to unlock (up to 1.2625 TOK)")
    buy.wait_for()
    page.wait_for_timeout(700)  # let the smooth scroll settle for the screenshot
    screenshot(page, tmp_path, "feed-locked-phone")
    assert fake.peer.balance == 0  # nothing bought before the user confirms
    buy.click()
    wait_playing(page)
    assert lock.is_hidden()
    src = page.evaluate("() => document.querySelector('.card-clip.active video').src")
    assert "/api/v1/clips/" in src
    assert fake.peer.balance == 5 * E18
    assert fake.peer.trades == [{"buy": True, "max_cost": str(int(1.25 * E18) * 101 // 100)}]
    assert probe.problems() == []


def test_unlock_with_enough_tokens_asks_nothing(fake: FakeServer, open_page: Any) -> None:
    fake.peer.balance = 5 * E18
    premium = next(p for p in fake.peer.posts if p["premium"])
    probe = open_page(fake.login_url() + f"#/post/{premium['id']}")
    page = probe.page
    page.locator(".card-clip.active .lock").get_by_role("button", name="Unlock").click()
    wait_playing(page)
    assert fake.peer.trades == []
    assert probe.problems() == []


def titles(page: Page) -> list[str]:
    return page.locator(".card-clip .clip-title").all_inner_texts()


def test_new_clips_badge_waits_for_a_click_then_puts_them_on_top(
    fake: FakeServer, open_page: Any, tmp_path: Path
) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    page.locator("#state", has_text="online").wait_for()  # the event stream is open
    page.keyboard.press("j")
    page.wait_for_selector(".card-clip.active >> text=Morning run")
    fake.call(fake.peer.arrive, BEN, "Breaking clip")
    fake.call(fake.peer.arrive, ANA, "Another one")
    badge = page.locator(".new-posts-region[aria-live=polite]").get_by_role(
        "button", name="2 new clips"
    )
    badge.wait_for()
    page.wait_for_timeout(300)
    screenshot(page, tmp_path, "feed-new-clips-badge-phone")
    # nothing moved under the user
    assert active_title(page) == "Morning run"
    assert titles(page) == [
        "Cat on a keyboard",
        "Morning run",
        "Members only cut",
        "Sunset over the bay",
    ]
    page.evaluate(
        "() => { window.__played = [];"
        " document.addEventListener('playing', (e) => window.__played.push("
        " e.target.closest('.card-clip').querySelector('.clip-title').textContent), true); }"
    )
    badge.click()
    page.wait_for_selector(".card-clip.active >> text=Another one")
    wait_playing(page)
    page.wait_for_timeout(800)
    # straight to the newest: the cards in between were not started on the way
    assert set(page.evaluate("() => window.__played")) == {"Another one"}
    assert active_title(page) == "Another one"
    assert titles(page) == [
        "Another one",
        "Breaking clip",
        "Cat on a keyboard",
        "Morning run",
        "Members only cut",
        "Sunset over the bay",
    ]
    assert badge.is_hidden()
    # the clip the user was on is where it was, three cards down now
    for _ in range(3):
        page.keyboard.press("j")
    page.wait_for_selector(".card-clip.active >> text=Morning run")
    positions = page.locator(".card-clip").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-posinset'))"
    )
    assert positions == ["1", "2", "3", "4", "5", "6"]
    assert probe.problems() == []


def test_following_feed_counts_only_new_clips_of_followed_creators(
    fake: FakeServer, open_page: Any
) -> None:
    fake.peer.following.add(ANA)
    probe = open_page(fake.login_url() + "#/following")
    page = probe.page
    page.locator("#state", has_text="online").wait_for()
    page.wait_for_selector(".card-clip.active")
    fake.call(fake.peer.arrive, BEN, "Not followed")
    fake.call(fake.peer.arrive, ANA, "Followed")
    page.get_by_role("button", name="1 new clip").wait_for()
    page.get_by_role("button", name="1 new clip").click()
    page.wait_for_selector(".card-clip.active >> text=Followed")
    assert "Not followed" not in titles(page)
    assert probe.problems() == []


def test_an_empty_feed_shows_new_clips_at_once(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.login_url() + "#/following")
    page = probe.page
    page.locator("#state", has_text="online").wait_for()
    page.get_by_text("Clips of creators you follow appear here.").wait_for()
    fake.peer.following.add(BEN)
    fake.call(fake.peer.arrive, BEN, "First one")
    page.wait_for_selector(".card-clip.active >> text=First one")
    assert page.get_by_text("Clips of creators you follow appear here.").count() == 0
    assert probe.problems() == []


def test_a_post_nobody_serves_is_shown_as_unavailable(fake: FakeServer, open_page: Any) -> None:
    # the peer could not get this post's manifest from anyone lately (FeedItem.available)
    fake.call(functools.partial(fake.peer.add_post, available=False), BEN, "Gone with the peer")
    probe = open_page(fake.login_url())
    page = probe.page
    page.wait_for_selector(".card-clip.active >> text=Gone with the peer")
    card = page.locator(".card-clip.active")
    assert "unavailable" in (card.get_attribute("class") or "")
    assert "Unavailable" in card.locator(".clip-status").inner_text()
