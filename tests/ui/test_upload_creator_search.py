"""Upload with stage progress, the creator page's quote-and-confirm trade, and search, in
Chromium against the contract fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.fake_api import ANA, E18, FakeServer

pytestmark = pytest.mark.ui


def test_upload_shows_every_stage_and_the_clip_reaches_the_feed(
    fake: FakeServer, open_page: Any, media: tuple[Path, Path]
) -> None:
    probe = open_page(fake.login_url() + "#/upload")
    page = probe.page
    page.set_input_files("#upload-file", str(media[0]))
    assert page.input_value("#upload-title") == "portrait"  # taken from the file name
    page.fill("#upload-title", "Fresh upload")
    page.fill("#upload-tags", "new, test")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("#upload-status >> text=Published.")
    states = page.locator(".stages li").evaluate_all("els => els.map(e => e.className)")
    encrypt = page.locator(".stages li[data-stage=encrypt]").get_attribute("class")
    assert encrypt == "skipped"  # a free clip is not encrypted, and is never shown as such
    assert set(states) == {"done", "skipped"}
    assert page.locator("progress").get_attribute("value") == "100"
    page.get_by_role("link", name="Watch it").click()
    page.wait_for_selector(".card-clip.active >> text=Fresh upload")
    assert fake.peer.posts[0]["tags"] == ["new", "test"]
    assert probe.problems() == []


def test_failed_publish_is_reported_and_the_form_stays_usable(
    fake: FakeServer, open_page: Any, media: tuple[Path, Path]
) -> None:
    probe = open_page(fake.login_url() + "#/upload")
    page = probe.page
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "fail me")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("#upload-status >> text=Publishing failed: not a video")
    assert page.get_by_role("button", name="Publish").is_enabled()
    assert page.input_value("#upload-title") == "fail me"
    assert probe.problems() == []


def test_upload_without_a_file_asks_for_one(fake: FakeServer, open_page: Any) -> None:
    page = open_page(fake.login_url() + "#/upload").page
    page.get_by_role("button", name="Publish").click()
    assert page.locator("#upload-status").inner_text() == "Choose a video first."
    page.check("#upload-premium")
    assert page.locator("#upload-min").is_visible()


def test_buy_shows_the_quote_and_sends_only_after_confirmation(
    fake: FakeServer, open_page: Any
) -> None:
    probe = open_page(fake.login_url() + f"#/creator/{ANA}")
    page = probe.page
    page.fill("#trade-amount", "2")
    page.select_option("#trade-slippage", "300")
    page.get_by_role("button", name="Get quote").click()
    quote = page.locator(".trade .quote")
    quote.get_by_text("0.5 TOK", exact=True).wait_for()  # cost of 2 at 0.25
    assert fake.peer.trades == []
    quote.get_by_role("button", name="Confirm buy of 2 ANA").click()
    page.locator("#toast", has_text="Bought 2 ANA for 0.5 TOK").wait_for()
    page.locator(".holders td").get_by_text("2", exact=True).wait_for()
    assert fake.peer.trades == [
        {"amount": "2", "confirm": True, "max_cost": str(int(0.5 * E18 * 1.03))}
    ]
    assert probe.problems() == []


def test_a_bad_amount_is_refused_before_any_request(fake: FakeServer, open_page: Any) -> None:
    page = open_page(fake.login_url() + f"#/creator/{ANA}").page
    page.fill("#trade-amount", "lots")
    page.get_by_role("button", name="Get quote").click()
    page.get_by_text("Enter an amount like 1 or 2.5.").wait_for()
    assert fake.peer.trades == []


def test_search_lists_only_matching_clips(fake: FakeServer, open_page: Any) -> None:
    page = open_page(fake.login_url() + "#/search").page
    page.fill("#search-q", "cats")
    page.keyboard.press("Enter")
    page.wait_for_selector(".grid .tile")
    titles = page.locator(".tile-title").all_inner_texts()
    assert sorted(titles) == ["Cat on a keyboard", "Members only cut"]
    assert "q=cats" in page.url


def test_upload_finishes_from_the_job_state_when_events_are_missed(
    fake: FakeServer, open_page: Any, media: tuple[Path, Path]
) -> None:
    fake.peer.quiet = True
    probe = open_page(fake.login_url() + "#/upload")
    page = probe.page
    page.set_input_files("#upload-file", str(media[0]))
    page.fill("#upload-title", "Quiet upload")
    page.get_by_role("button", name="Publish").click()
    page.locator("#upload-status", has_text="Published.").wait_for(timeout=15_000)
    page.get_by_role("link", name="Watch it").click()
    page.wait_for_selector(".card-clip.active >> text=Quiet upload")
    assert probe.problems() == []
