"""Reusable browser-test helpers: Chromium flags, viewports, a page probe that records console
errors and failed requests, axe-core checks and screenshots."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, Response, ViewportSize

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "bench-results" / "ui-screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1440, "height": 900}


@dataclass
class Probe:
    """A page with everything that went wrong on it recorded."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return list(self.errors)


def watch(page: Page, probe: Probe) -> None:
    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            probe.errors.append(f"console: {msg.text}")

    def failed(request: Request) -> None:
        failure = request.failure or ""
        # A media element that is paused or released aborts its own range request.
        if "ERR_ABORTED" in failure and request.resource_type == "media":
            return
        probe.errors.append(f"request failed: {request.url} {failure}")

    def response(resp: Response) -> None:
        if resp.status >= 400:
            probe.errors.append(f"HTTP {resp.status}: {resp.request.method} {resp.url}")

    page.on("console", console)
    page.on("pageerror", lambda exc: probe.errors.append(f"page error: {exc}"))
    page.on("requestfailed", failed)
    page.on("response", response)


def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    # add_script_tag would insert an inline <script>, which our CSP rightly blocks; evaluating
    # through the DevTools protocol is not subject to the page's CSP.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """Save a screenshot in the test's tmp dir and copy it to bench-results/ui-screenshots/."""
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(target, SHOTS / target.name)
    return target
