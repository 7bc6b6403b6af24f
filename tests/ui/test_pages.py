"""Pages against the contract fake in states the real-peer tests do not reach (an empty feed, an
unknown route). Every page on real peers, with axe and screenshots: test_real_peers.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.browser import DESKTOP, PHONE, axe_violations, screenshot
from support.fake_api import FakeServer

pytestmark = pytest.mark.ui


def test_empty_following_feed_explains_itself_and_passes_axe(
    fake: FakeServer, open_page: Any, tmp_path: Path
) -> None:
    probe = open_page(fake.login_url() + "#/following", PHONE)
    page = probe.page
    page.get_by_text("Clips of creators you follow appear here.").wait_for()
    assert page.get_by_role("link", name="Upload a clip").is_visible()
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)
        screenshot(page, tmp_path, f"following-empty-{label}")
        assert axe_violations(page) == [], label
    assert probe.problems() == []


def test_unknown_route_shows_not_found(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.login_url() + "#/nowhere")
    assert probe.page.locator("h1").inner_text() == "Page not found"
    assert axe_violations(probe.page) == []
    assert probe.problems() == []
