"""Every page of the web UI in Chromium against the contract fake: clean loads, accessibility,
screenshots at phone and desktop sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.browser import DESKTOP, PHONE, axe_violations, screenshot
from support.fake_api import ANA, FakeServer

pytestmark = pytest.mark.ui

PAGES = {
    "feed": ("#/", ".card-clip.active video"),
    "following": ("#/following", ".card-clip"),
    "search": ("#/search?q=cats", ".grid .tile"),
    "creator": (f"#/creator/{ANA}", ".chart-svg"),
    "upload": ("#/upload", "form.upload-form"),
    "status": ("#/status", "#peer dd"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_errors_and_passes_axe(
    name: str, fake: FakeServer, open_page: Any, tmp_path: Path
) -> None:
    hash_, ready = PAGES[name]
    probe = open_page(fake.url + hash_, PHONE)
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        probe.page.set_viewport_size(viewport)
        probe.page.wait_for_selector(ready)
        probe.page.wait_for_timeout(300)
        screenshot(probe.page, tmp_path, f"{name}-{label}")
        assert axe_violations(probe.page) == [], f"{name} at {label}"
        assert probe.problems() == [], f"{name} at {label}"


def test_unknown_route_shows_not_found(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.url + "#/nowhere")
    assert probe.page.locator("h1").inner_text() == "Page not found"
    assert probe.problems() == []
