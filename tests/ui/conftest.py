"""Browser fixtures: one headless Debian Chromium per session, probed pages, sample media and the
contract fake (helpers live in tests/support/browser.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, ViewportSize, sync_playwright
from support.browser import CHROMIUM, FLAGS, PHONE, Probe, watch
from support.fake_api import ANA, BEN, FakePeer, FakeServer, serve_fake
from support.tools import tool_missing

from storage.media.samples import SampleSpec, make_sample


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        tool_missing(f"Debian chromium is not installed at {CHROMIUM} (scripts/setup installs it)")
    instance = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield instance
    instance.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Any]:
    """``open_page(url, viewport=PHONE)`` -> Probe; contexts are closed after the test."""
    contexts = []

    def opener(url: str, viewport: ViewportSize | None = None) -> Probe:
        context = browser.new_context(viewport=viewport or PHONE, color_scheme="dark")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        probe = Probe(page)
        watch(page, probe)
        page.goto(url)
        return probe

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 2 s 180x320 H.264/AAC clip and a poster image."""
    folder = tmp_path_factory.mktemp("media")
    clip = make_sample(SampleSpec("portrait", 180, 320, 2.0), folder)
    poster = folder / "poster.png"
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip)]
    subprocess.run(
        [*argv, "-frames:v", "1", str(poster)],
        check=True,
        timeout=60,
    )
    return clip, poster


@pytest.fixture
def fake(media: tuple[Path, Path]) -> Iterator[FakeServer]:
    """The contract fake with three free clips and one premium clip."""
    clip, poster = media
    peer = FakePeer(media=clip, poster=poster)
    peer.add_post(BEN, "Sunset over the bay", tags=["travel"])
    peer.add_post(ANA, "Members only cut", premium=True, tags=["cats"])
    peer.add_post(BEN, "Morning run", tags=["sport"])
    peer.add_post(ANA, "Cat on a keyboard", tags=["cats", "funny"])
    with serve_fake(peer) as server:
        yield server
