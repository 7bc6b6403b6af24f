"""The web UI's pure ES modules (units, rendition choice, router, chart), run in Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.tools import tool_missing

STATIC = Path(__file__).resolve().parents[3] / "webui" / "static" / "js"
NODE = shutil.which("node")


def js(module: str, expression: str) -> Any:
    """Evaluate ``expression`` with ``m`` bound to the module; return its JSON value."""
    if NODE is None:
        tool_missing("node is not installed (scripts/setup installs it)")
    url = (STATIC / module).as_uri()
    script = (
        f"const m = await import({json.dumps(url)});\n"
        f"const out = await (async () => {{ {expression} }})();\n"
        "process.stdout.write(JSON.stringify(out === undefined ? null : out));"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_base_units_round_trip_exactly() -> None:
    assert js(
        "units.js",
        'return ["0", "1", "1500000000000000000", "123456789012345678901234567890"]'
        ".map(v => m.toWhole(v))",
    ) == ["0", "0.000000000000000001", "1.5", "123456789012.34567890123456789"]
    assert js(
        "units.js", 'return ["1", "2.5", "0.000000000000000001"].map(v => String(m.toBase(v)))'
    ) == [
        "1000000000000000000",
        "2500000000000000000",
        "1",
    ]


@pytest.mark.parametrize("bad", ["", "-1", "1e3", "1.0000000000000000001", "one", "1,5", " . "])
def test_bad_amounts_are_refused(bad: str) -> None:
    message = js(
        "units.js",
        f"try {{ m.toBase({json.dumps(bad)}); return 'accepted'; }}"
        " catch (e) { return e.message; }",
    )
    assert message == "Enter an amount like 1 or 2.5."


def test_tokens_needed_round_up_to_whole_tokens() -> None:
    e18 = 10**18
    cases = [(5 * e18, 0), (5 * e18, 4 * e18 + 1), (5 * e18, 5 * e18), (5 * e18, 6 * e18), (1, 0)]
    got = js(
        "units.js",
        f"return {json.dumps([[str(a), str(b)] for a, b in cases])}"
        ".map(([r, h]) => m.wholeTokensNeeded(r, h))",
    )
    assert got == ["5", "1", "0", "0", "1"]


def test_slippage_raises_the_cost_cap_and_lowers_the_refund_floor() -> None:
    got = js(
        "units.js",
        'return [m.withSlippage("10000", 100, "buy"), m.withSlippage("10000", 100, "sell"),'
        ' m.withSlippage("3", 100, "buy"), m.withSlippage("3", 100, "sell")]',
    )
    assert got == ["10100", "9900", "4", "2"]


RENDITIONS = [
    {"name": "1080p", "height": 1920, "bitrate": 6_000_000, "mime": "video/mp4"},
    {"name": "480p", "height": 854, "bitrate": 1_000_000, "mime": "video/mp4"},
    {"name": "720p", "height": 1280, "bitrate": 2_500_000, "mime": "video/mp4"},
]


def choose(**options: Any) -> str | None:
    return js(  # type: ignore[no-any-return]
        "player.js",
        f"const r = m.chooseRendition({json.dumps(RENDITIONS)}, {json.dumps(options)});"
        " return r && r.name;",
    )


def test_rendition_covers_the_viewport_without_wasting_pixels() -> None:
    assert choose(viewportHeight=844, dpr=1) == "480p"
    assert choose(viewportHeight=844, dpr=2) == "1080p"
    assert choose(viewportHeight=900, dpr=1.25) == "720p"
    assert choose(viewportHeight=4000, dpr=1) == "1080p"  # none covers it: the largest


def test_rendition_fits_the_measured_bandwidth() -> None:
    assert choose(viewportHeight=844, dpr=2, bandwidth=4_000_000) == "720p"
    assert choose(viewportHeight=844, dpr=2, bandwidth=10_000_000) == "1080p"
    assert choose(viewportHeight=844, dpr=2, bandwidth=500_000) == "480p"  # nothing fits: lowest


def test_no_playable_rendition_gives_none() -> None:
    got = js("player.js", "return m.chooseRendition([], {viewportHeight: 800})")
    assert got is None
    got = js(
        "player.js",
        f"return m.chooseRendition({json.dumps(RENDITIONS)},"
        " {viewportHeight: 800, canPlay: () => false})",
    )
    assert got is None


def test_bandwidth_meter_takes_the_median_and_skips_tiny_samples() -> None:
    got = js(
        "player.js",
        "const b = new m.BandwidthMeter(3); const first = b.estimate();"
        " b.record(1000, 1); b.record(1e6, 1); b.record(2e6, 1);"
        " b.record(4e6, 0.5); b.record(9e6, 1);"
        " return [first, b.estimate()];",
    )
    assert got == [None, 64e6]  # window of 3: 16, 64, 72 Mbit/s


def test_hash_routes() -> None:
    creator = "0x" + "ab" * 20
    post = "0x" + "cd" * 32
    got = js(
        "router.js",
        "return ['', '#/', '#/following', '#/search?q=cats%20dogs', "
        f"'#/creator/{creator}', '#/creator/0x12', '#/post/{post}', '#/upload', '#/status', '#/x']"
        ".map(h => m.parseHash(h))",
    )
    assert [r["name"] for r in got] == [
        "feed",
        "feed",
        "feed",
        "search",
        "creator",
        "notfound",
        "post",
        "upload",
        "status",
        "notfound",
    ]
    assert got[2]["tab"] == "following"
    assert got[3]["query"] == {"q": "cats dogs"}
    assert got[4]["param"] == creator
    assert got[6]["param"] == post


def test_chart_starts_at_the_curve_price_marks_every_trade_and_labels_the_price_axis() -> None:
    e18 = 10**18
    history = {
        "start_price": str(e18 // 100),
        "points": [
            {"side": "buy", "price": str(e18 // 50), "amount": str(e18), "timestamp": 10},
            {"side": "buy", "price": str(e18 // 25), "amount": str(e18), "timestamp": 20},
            {"side": "sell", "price": str(3 * e18 // 100), "amount": str(e18), "timestamp": 30},
        ],
    }
    empty_history = {"start_price": str(e18), "points": []}
    model, empty = js(
        "chart.js",
        f"return [m.chartModel({json.dumps(history)}), m.chartModel({json.dumps(empty_history)})];",
    )
    marks = model["marks"]
    assert [m["side"] for m in marks] == ["start", "buy", "buy", "sell"]
    assert marks[0]["x"] == model["box"]["LEFT"]  # the start sits on the price axis
    assert [m["x"] for m in marks] == sorted(m["x"] for m in marks)
    ys = [m["y"] for m in marks]
    assert ys[2] < ys[3] < ys[1] < ys[0]  # higher price, higher on screen
    assert [t["label"] for t in model["ticks"]] == ["0.04", "0.02", "0"]  # axis from 0 up
    assert model["trades"] == 3
    assert [m["side"] for m in empty["marks"]] == ["start"]


def test_publish_progress_moves_with_the_conversion_and_skips_encryption_for_free_clips() -> None:
    all_stages = '["upload","probe","transcode","encrypt","add","manifest","sign","gossip"]'
    free, premium, during, before, after, end = js(
        "publish-progress.js",
        f"const all = {all_stages};"
        "const free = m.stagesFor(false, all), premium = m.stagesFor(true, all);"
        "return [free, premium,"
        " [0, 0.25, 0.5, 0.75, 1].map(f => m.overallPercent(free, 'transcode', f)),"
        " m.overallPercent(free, 'upload', 0), m.overallPercent(free, 'gossip', 1),"
        " m.overallPercent(premium, 'gossip', 1)];",
    )
    assert "encrypt" not in free
    assert "encrypt" in premium
    assert during == sorted(during)  # the overall bar follows the conversion
    assert during[-1] - during[0] >= 50  # conversion is most of the work, not a fixed share
    assert (before, after, end) == (0, 100, 100)
