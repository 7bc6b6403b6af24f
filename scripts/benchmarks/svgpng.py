"""Renders a benchmark's SVG chart to PNG with headless Chromium (the one renderer every
machine that runs the UI tests has): the charts of `bench testbed`, `bench nat` and
`bench summary`."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu"]


def render(parts: list[str], width: int, height: int, path: Path) -> None:
    """Write the SVG made of ``parts`` (from ``<svg …>`` to ``</svg>``) to ``path`` as PNG."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_content("<body style='margin:0'>" + "".join(parts) + "</body>")
        page.screenshot(path=str(path))
        browser.close()
