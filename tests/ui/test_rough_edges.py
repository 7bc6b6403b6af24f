"""Rough edges a new user hit (issue 25), each shown in Chromium against the contract fake:
390-px layouts, prices after a trade, following oneself, a premium upload without a token, the
upload's overall bar, and the lock overlay naming the token and the cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.fake_api import ANA, ANA_TOKEN, E18, ME, FakeServer

pytestmark = pytest.mark.ui

NAMELESS = "0xC0ffee254729296a45a3885639AC7E10F9d54979"  # a new user: no display name yet


def page_width(page: Any) -> int:
    """The right edge of the widest element (the page clips overflow, so scrollWidth hides it)."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, ...[...document"
            ".querySelectorAll('main *')].map(e => Math.ceil(e.getBoundingClientRect().right)))"
        )
    )


def test_search_results_a_nameless_creator_and_the_welcome_screen_fit_a_phone(
    fake: FakeServer, open_page: Any
) -> None:
    fake.peer.add_post(NAMELESS, "Cats of a new creator", tags=["cats"])
    probe = open_page(fake.login_url() + "#/search?q=cats")
    page = probe.page
    page.locator(".creator-chip").first.wait_for()
    assert page_width(page) <= 390, "search results overflow a 390 px screen"
    page.goto(fake.url + f"#/creator/{NAMELESS}")
    page.locator(".grid .tile").first.wait_for()
    assert page_width(page) <= 390, "a nameless creator's page overflows a 390 px screen"
    fake.peer.name = ""  # the user's own page, before they chose a display name
    page.goto(fake.url + f"#/creator/{ME}")
    page.get_by_role("link", name="Edit profile").wait_for()
    assert page_width(page) <= 390, "the user's own page overflows a 390 px screen"
    page.goto(fake.url + "#/welcome")  # first run: the file input's own width once widened it
    page.locator("#welcome-avatar").wait_for()
    assert page_width(page) <= 390, "the welcome screen overflows a 390 px screen"
    assert probe.problems() == []


def card_price(page: Any, title: str) -> str:
    card = page.locator(".card-clip", has_text=title)
    return str(card.locator(".price").inner_text())


def test_prices_in_the_feed_follow_a_trade_and_wallet_events_without_a_reload(
    fake: FakeServer, open_page: Any
) -> None:
    probe = open_page(fake.login_url())
    page = probe.page
    page.locator(".card-clip", has_text="Cat on a keyboard").locator(
        ".price", has_text="0.25 TOK"
    ).wait_for()
    page.evaluate("() => { location.hash = '#/creator/" + ANA + "'; }")
    page.fill("#trade-amount", "2")
    page.get_by_role("button", name="Get quote").click()
    page.get_by_role("button", name="Confirm buy of 2 ANA").click()
    page.locator("#toast", has_text="Bought 2 ANA").wait_for()
    page.evaluate("() => { location.hash = '#/'; }")  # no reload: the same page state
    page.locator(".card-clip", has_text="Cat on a keyboard").locator(
        ".price", has_text="0.252 TOK"
    ).wait_for()
    # a trade the page did not make (the CLI's, another tab's) arrives as wallet.tx
    fake.peer.balance += 3 * E18
    tx = {"action": "buy", "tx": "0x" + "cd" * 32, "token": ANA_TOKEN, "amount": str(3 * E18)}
    fake.call(fake.peer.emit_event, "wallet.tx", tx)
    page.locator(".card-clip", has_text="Cat on a keyboard").locator(
        ".price", has_text="0.255 TOK"
    ).wait_for()
    assert probe.problems() == []


def test_own_clips_offer_no_follow_button(fake: FakeServer, open_page: Any) -> None:
    own = fake.peer.add_post(ME, "My own clip")
    probe = open_page(fake.login_url() + f"#/post/{own}")
    page = probe.page
    page.locator(".card-clip.active .price").wait_for(state="attached")
    page.wait_for_function(
        "() => !document.querySelector('.card-clip.active .follow')", timeout=10_000
    )
    page.evaluate("() => { location.hash = '#/'; }")
    sunset = page.locator(".card-clip", has_text="Sunset over the bay")
    sunset.locator(".follow").wait_for(state="attached")  # other creators' clips offer it
    assert probe.problems() == []


def test_premium_upload_without_a_token_offers_the_token_and_uploads_nothing(
    fake: FakeServer, open_page: Any, media: tuple[Path, Path], tmp_path: Path
) -> None:
    probe = open_page(fake.login_url() + "#/upload")
    page = probe.page
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Members cut")
    page.check("#upload-premium")
    offer = page.locator(".token-offer")
    offer.get_by_role("heading", name="Premium clips need your token").wait_for()
    page.get_by_role("button", name="Publish").click()
    page.locator("#upload-status", has_text="Create your token first").wait_for()
    assert fake.peer.jobs == {}  # nothing was sent, nothing converted
    assert "premium-without-token" not in page.content()
    offer.locator("#token-name").fill("My Clips")
    offer.locator("#token-symbol").fill("MINE")
    offer.get_by_role("button", name="Create token").click()
    offer.get_by_text("Token created: you can publish now.").wait_for()
    page.get_by_role("button", name="Publish").click()
    page.locator("#upload-status", has_text="Published.").wait_for()
    encrypt = page.locator(".stages li[data-stage=encrypt]")
    assert encrypt.get_attribute("class") == "done"  # a premium clip is encrypted
    assert len(fake.peer.jobs) == 1
    assert probe.problems() == []


def test_upload_bar_follows_the_stages_and_a_free_clip_skips_encryption(
    fake: FakeServer, open_page: Any, media: tuple[Path, Path]
) -> None:
    probe = open_page(fake.login_url() + "#/upload")
    page = probe.page
    page.evaluate(
        "() => { window.__bar = []; new MutationObserver(() => window.__bar.push("
        "Number(document.querySelector('progress').value))).observe("
        "document.querySelector('progress'), {attributes: true}); }"
    )
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Free clip")
    page.get_by_role("button", name="Publish").click()
    page.locator("#upload-status", has_text="Published.").wait_for()
    encrypt = page.locator(".stages li[data-stage=encrypt]")
    assert encrypt.get_attribute("class") == "skipped"
    assert encrypt.is_hidden()
    values = page.evaluate("() => window.__bar")
    assert values[-1] == 100
    assert values == sorted(values), values  # one overall bar: it never goes back
    assert probe.problems() == []


def test_the_lock_overlay_names_the_token_and_the_cost_before_unlock(
    fake: FakeServer, open_page: Any
) -> None:
    premium = next(p for p in fake.peer.posts if p["premium"])
    probe = open_page(fake.login_url() + f"#/post/{premium['id']}")
    lock = probe.page.locator(".card-clip.active .lock")
    lock.get_by_text("Premium clip: hold 5 ANA (Ana Coin) to watch.").wait_for()
    lock.get_by_text("You need 5 more ANA: about 1.25 TOK with fees.").wait_for()
    assert fake.peer.trades == []
    assert probe.problems() == []
