"""UI benchmark: time to first frame in Chromium and the feed page's load time, on real peers.

Usage: scripts/bench ui [--runs 10]

Setup (not timed): a creator peer (``toktok run`` with its devnet) publishes one 540x960 4 s
H.264/AAC clip; a viewer peer on the same chain receives the post by gossip (both on loopback,
the web UIs served by the daemons themselves). Debian Chromium, headless, 390x844.

Every sample opens a fresh browser context (empty HTTP cache, no service worker) and is measured
in the page with an init script, on the page's own clock (``performance.now()``, 0 = navigation
start):

- ``local``: the creator's own UI opens the clip page (``#/post/<id>``); the clip is in the
  creator's block store. ``ttff_ms`` = navigation start to the first video frame presented
  (``requestVideoFrameCallback``; the ``playing`` event time is reported too); ``media_ms`` =
  from the moment the app sets the video's ``src`` to that frame (the media path alone);
  ``src_set_ms`` = navigation start to that moment (page, app and the ``/clip`` answer, which on
  the viewer also fetches the manifest over bitswap).
- ``remote``: the same on the viewer's UI, after ``storage gc`` on the viewer, so the clip's
  blocks come from the creator over bitswap in every run (the viewer does not pin what it
  plays). Each run's bitswap ``blocks_received``/``bytes_received`` delta is recorded, and the
  run is rejected if no block came over the network.
- ``feed``: the viewer's feed (``#/``): navigation start to the first clip card laid out and
  painted (first animation frame after the card is in the DOM), and to its first frame.

Medians (and min/max) of ``--runs`` samples each; the local case is the baseline for the
remote one (``remote_over_local``). Type-check with ``MYPYPATH=tests mypy scripts/benchmarks/ui.py``
(the harness lives in tests/support).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is on sys.path first and holds a storage.py: drop it for our imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the real-peer harness of the browser tests

from playwright.sync_api import Browser, sync_playwright
from support.browser import CHROMIUM, FLAGS, PHONE
from support.ui_network import Peer, creator_and_viewer

from peer.api.headers import SESSION_COOKIE
from storage.media.samples import SampleSpec, make_sample

# Runs before the app: records when the app first sets a media src, the first `playing` and the
# first presented video frame, and when the first clip card is painted.
PROBE = """
(() => {
  const m = (window.__bench = {src: null, playing: null, frame: null, card: null});
  const desc = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, "src");
  Object.defineProperty(HTMLMediaElement.prototype, "src", {
    configurable: true,
    get() { return desc.get.call(this); },
    set(value) {
      if (m.src === null && value) m.src = performance.now();
      desc.set.call(this, value);
    },
  });
  document.addEventListener("playing", (event) => {
    const video = event.target;
    if (m.playing !== null) return;
    m.playing = performance.now();
    video.requestVideoFrameCallback((now) => { m.frame = now; });
  }, true);
  new MutationObserver((_, observer) => {
    if (m.card === null && document.querySelector(".card-clip[data-id]")) {
      observer.disconnect();
      requestAnimationFrame((now) => { m.card = now; });
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""


def sample(browser: Browser, peer: Peer, route: str) -> dict[str, Any]:
    """Open ``route`` of ``peer``'s UI in a fresh context that holds the peer's session cookie
    (set directly, so the login redirect is not timed) and return the page's timings (ms from
    navigation)."""
    url = peer.url + route
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        context.add_cookies(
            [{"name": SESSION_COOKIE, "value": peer.api.creds.cookie, "url": peer.url}]
        )
        context.add_init_script(PROBE)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(
            "() => window.__bench.frame !== null && window.__bench.card !== null", timeout=60_000
        )
        marks: dict[str, Any] = page.evaluate(
            "() => ({...window.__bench, rendition:"
            " document.querySelector('.card-clip.active')?.dataset.rendition ?? null})"
        )
        return marks
    finally:
        context.close()


def bitswap_received(peer: Peer) -> tuple[int, int]:
    stats = peer.api.get("/api/v1/storage").get("bitswap") or {}
    client = stats.get("client", stats)
    return int(client.get("blocks_received", 0)), int(client.get("bytes_received", 0))


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing (scripts/setup installs Debian chromium)")
    with tempfile.TemporaryDirectory(prefix="toktok-bench-ui-") as tmp:
        folder = Path(tmp)
        clip = make_sample(SampleSpec("bench", 540, 960, 4.0), folder / "media")
        clip_bytes = clip.stat().st_size
        t0 = time.monotonic()
        free = (("Bench clip", ["bench"]),)
        with creator_and_viewer(folder, clip, free=free, premium_min=0) as net:
            setup_s = time.monotonic() - t0
            post = net.clips.free[0]
            route = f"#/post/{post}"
            local: list[dict[str, Any]] = []
            remote: list[dict[str, Any]] = []
            feed: list[dict[str, Any]] = []
            transfers: list[dict[str, int]] = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    sample(browser, net.creator, route)  # warm-up (browser start-up), not kept
                    for _ in range(args.runs):
                        local.append(sample(browser, net.creator, route))
                        gc = net.viewer.api.post("/api/v1/storage/gc", {})
                        blocks, size = bitswap_received(net.viewer)
                        remote.append(sample(browser, net.viewer, route))
                        blocks_after, size_after = bitswap_received(net.viewer)
                        transfers.append(
                            {
                                "gc_removed_blocks": int(gc.get("removed_blocks", 0)),
                                "blocks_received": blocks_after - blocks,
                                "bytes_received": size_after - size,
                            }
                        )
                        if blocks_after == blocks:
                            sys.exit("a remote run fetched nothing over bitswap: not measured")
                        feed.append(sample(browser, net.viewer, "#/"))
                finally:
                    browser.close()
            timings = dict(net.timings)
    local_ttff = [s["frame"] for s in local]
    remote_ttff = [s["frame"] for s in remote]
    result: dict[str, Any] = {
        "benchmark": "ui",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": args.runs,
        "clip": {"width": 540, "height": 960, "seconds": 4.0, "bytes": clip_bytes},
        "browser": f"{CHROMIUM} headless, {PHONE['width']}x{PHONE['height']}",
        "ttff_local_ms": summary(local_ttff),
        "ttff_remote_ms": summary(remote_ttff),
        "remote_over_local": round(
            statistics.median(remote_ttff) / statistics.median(local_ttff), 2
        ),
        "src_set_local_ms": summary([s["src"] for s in local]),
        "src_set_remote_ms": summary([s["src"] for s in remote]),
        "media_local_ms": summary([s["frame"] - s["src"] for s in local]),
        "media_remote_ms": summary([s["frame"] - s["src"] for s in remote]),
        "playing_local_ms": summary([s["playing"] for s in local]),
        "playing_remote_ms": summary([s["playing"] for s in remote]),
        "feed_first_card_ms": summary([s["card"] for s in feed]),
        "feed_first_frame_ms": summary([s["frame"] for s in feed]),
        "renditions_played": sorted({str(s["rendition"]) for s in local + remote + feed}),
        "remote_transfers": transfers,
        "setup_s": round(setup_s, 1),
        "setup": {k: round(v, 1) for k, v in timings.items()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results" / "ui.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
