"""Summary: every benchmark at a size that fits about ten minutes, in one table of ours against
the anchor measured in the same run, with the ratio and the performance goal beside each row.

    scripts/bench summary [--only storage,rpc,...] [--skip ui,...]

Runs the benchmarks one after the other, each in its own process with the arguments in
``BENCHES`` (smaller than their defaults; each still takes medians of several runs and measures
its anchor in the same run), records the 1-minute load average before and after each, reads the
JSON each one writes and writes bench-results/summary.md, summary.json and summary.png (a bar
chart of the ratios, rendered by headless Chromium). A benchmark that fails gives a row saying
so and the others still run. Not run here: ``testbed`` and ``nat`` (they need the bed: root,
network namespaces and several minutes each) and ``tokens`` (gas figures, no anchor).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import svgpng  # scripts/benchmarks/ (the script's own folder)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench-results"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    """One line of the table: our figure, the anchor's from the same run, and the goal."""

    benchmark: str
    what: str
    unit: str
    ours: float | None
    anchor_name: str
    anchor: float | None
    goal: str
    status: str  # met / missed / "" (no goal)
    better: str  # "higher" or "lower": which way is better for ours

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.anchor in (None, 0):
            return None
        assert self.anchor is not None
        return round(self.ours / self.anchor, 3)


def judged(ok: bool) -> str:
    return "met" if ok else "missed"


def dig(doc: dict[str, Any], *keys: str) -> Any:
    value: Any = doc
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


# ---- rows per benchmark --------------------------------------------------------------------


def storage_rows(doc: dict[str, Any]) -> list[Row]:
    helia = num(dig(doc, "median_mb_s", "helia"))
    rows = []
    for key, label in (("add_fsync", "add, fsync"), ("add_no_fsync", "add, no fsync")):
        rows.append(
            Row(
                "storage",
                f"{label}",
                "MB/s",
                num(dig(doc, "median_mb_s", key)),
                "Helia to blockstore-fs",
                helia,
                "no regression",
                "",
                "higher",
            )
        )
    return rows


def storage_net_rows(doc: dict[str, Any]) -> list[Row]:
    ours = num(dig(doc, "ours_fetch_mb_s", "median"))
    helia = num(dig(doc, "helia_to_helia_mb_s", "median"))
    ttfb = num(dig(doc, "ttfb_range_read_remote_ms", "median"))
    ratio = ours / helia if ours is not None and helia else None
    return [
        Row(
            "storage-net",
            f"bitswap fetch {doc.get('file_mb')} MB",
            "MB/s",
            ours,
            "Helia to Helia",
            helia,
            "≥ 1.5× Helia",
            judged(ratio is not None and ratio >= 1.5),
            "higher",
        ),
        Row(
            "storage-net",
            "Range read, first byte from a remote peer",
            "ms",
            ttfb,
            "",
            None,
            "≤ 30 ms",
            judged(ttfb is not None and ttfb <= 30),
            "lower",
        ),
    ]


def propagation_rows(doc: dict[str, Any]) -> list[Row]:
    by = {(c.get("implementation"), c.get("n")): c for c in doc.get("results", [])}
    rows = []
    for n in dig(doc, "settings", "sizes") or []:
        ours, js = by.get(("ours", n), {}), by.get(("js", n), {})
        p99, js_p99 = num(ours.get("p99_ms")), num(js.get("p99_ms"))
        cpu = num(dig(ours, "cpu", "cpu_s_per_post"))
        js_cpu = num(dig(js, "cpu", "cpu_s_per_post"))
        rows += [
            Row(
                "propagation",
                f"N={n}: median time to all peers",
                "ms",
                num(ours.get("median_ms")),
                "js-libp2p gossipsub",
                num(js.get("median_ms")),
                "",
                "",
                "lower",
            ),
            Row(
                "propagation",
                f"N={n}: p99 time to all peers",
                "ms",
                p99,
                "js-libp2p gossipsub",
                js_p99,
                "≤ 1.0× js",
                judged(p99 is not None and js_p99 is not None and p99 <= js_p99),
                "lower",
            ),
            Row(
                "propagation",
                f"N={n}: CPU per post, all peers (gross)",
                "ms",
                None if cpu is None else cpu * 1000,
                "js-libp2p gossipsub",
                None if js_cpu is None else js_cpu * 1000,
                "≤ 1.5× js",
                judged(cpu is not None and js_cpu is not None and cpu <= 1.5 * js_cpu),
                "lower",
            ),
        ]
    return rows


def rpc_rows(doc: dict[str, Any]) -> list[Row]:
    session = num(dig(doc, "session", "median_ms"))
    per_exchange = num(dig(doc, "stream_per_exchange", "median_ms"))
    return [
        Row(
            "rpc",
            "p2p request round trip on a session stream, median",
            "ms",
            session,
            "js-libp2p, one stream",
            num(dig(doc, "js_libp2p_one_stream", "median_ms")),
            "≤ 2 ms",
            judged(session is not None and session <= 2.0),
            "lower",
        ),
        Row(
            "rpc",
            "p2p request round trip, a stream per exchange, median",
            "ms",
            per_exchange,
            "js-libp2p, a stream per exchange",
            num(dig(doc, "js_libp2p_stream_per_exchange", "median_ms")),
            "",
            "",
            "lower",
        ),
    ]


def unlock_rows(doc: dict[str, Any]) -> list[Row]:
    rate = num(dig(doc, "throughput", "unlocks_per_s_median"))
    handler = num(dig(doc, "throughput", "baseline_handler_only_unlocks_per_s_median"))
    p50 = num(dig(doc, "latency_ms", "median"))
    holders = dig(doc, "setup", "holders")
    ok = rate is not None and handler is not None and rate >= 250 and rate >= 0.85 * handler
    return [
        Row(
            "unlock",
            f"unlocks/s, {holders} holders",
            "/s",
            rate,
            "the key server's handler alone",
            handler,
            "≥ 250/s and ≥ 0.85× handler",
            judged(ok),
            "higher",
        ),
        Row(
            "unlock",
            "unlock latency, median",
            "ms",
            p50,
            "p2p request round trip",
            num(dig(doc, "baselines_ms", "p2p_request_round_trip_median")),
            "≤ 30 ms",
            judged(p50 is not None and p50 <= 30),
            "lower",
        ),
    ]


def feed_rows(doc: dict[str, Any]) -> list[Row]:
    wall = dig(doc, "ingest", "posts_per_wall_s_median") or {}
    ingest = num(wall.get("validate+store"))
    rows = [
        Row(
            "feed",
            "validated ingest into the index",
            "posts/s",
            ingest,
            "validation alone",
            num(wall.get("validate-only")),
            "≥ 5,000/s",
            judged(ingest is not None and ingest >= 5000),
            "higher",
        ),
    ]
    queries = dig(doc, "queries", "queries") or {}
    rows_n = dig(doc, "queries", "rows")
    base = num(queries.get("baseline_read_median_ms"))
    worst = None
    for name, stats in queries.items():
        if isinstance(stats, dict) and "first_page_p90_ms" in stats:
            p90 = max(num(stats["first_page_p90_ms"]) or 0, num(stats["page_11_p90_ms"]) or 0)
            if worst is None or p90 > worst[1]:
                worst = (name, p90)
    if worst is not None:
        rows.append(
            Row(
                "feed",
                f"slowest query page of 20 at {rows_n:,} posts, p90 ({worst[0]})",
                "ms",
                worst[1],
                "a trivial read through the same pool",
                base,
                "≤ 5 ms (p99 asked; p90 measured)",
                judged(worst[1] <= 5),
                "lower",
            )
        )
    return rows


def sync_rows(doc: dict[str, Any]) -> list[Row]:
    rows = []
    page = doc.get("page_size")
    for res in doc.get("results", []):
        seconds = num(res.get("sync_real_libp2p_s"))
        posts = res.get("posts")
        goal, status = (
            ("≤ 4 s", judged(seconds is not None and seconds <= 4)) if posts == 10_000 else ("", "")
        )
        rows.append(
            Row(
                "sync",
                f"sync of {posts:,} posts from one peer (pages of {res.get('page_size', page)})",
                "s",
                seconds,
                "local ingest of the same records",
                num(res.get("local_ingest_baseline_s")),
                goal,
                status,
                "lower",
            )
        )
    return rows


def ui_rows(doc: dict[str, Any]) -> list[Row]:
    local = num(dig(doc, "ttff_local_ms", "median"))
    remote = num(dig(doc, "ttff_remote_ms", "median"))
    return [
        Row(
            "ui",
            "first frame in Chromium, local clip",
            "ms",
            local,
            "",
            None,
            "≤ 150 ms",
            judged(local is not None and local <= 150),
            "lower",
        ),
        Row(
            "ui",
            "first frame, clip from another peer",
            "ms",
            remote,
            "the local clip",
            local,
            "≤ 500 ms",
            judged(remote is not None and remote <= 500),
            "lower",
        ),
    ]


def p2p_rows(doc: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "p2p",
            "gossip round trip through the asyncio bridge, median",
            "ms",
            num(dig(doc, "round_trip_ms", "bridged_separate_processes", "median")),
            "py-libp2p natively in one trio process",
            num(dig(doc, "round_trip_ms", "native_one_trio_process", "median")),
            "",
            "",
            "lower",
        ),
    ]


def media_rows(doc: dict[str, Any]) -> list[Row]:
    ratio = num(dig(doc, "ratios_median", "add_vs_write_fsync"))
    return [
        Row(
            "media",
            "add of the renditions vs copy + fsync of them (time ratio)",
            "×",
            ratio,
            "",
            None,
            "",
            "",
            "lower",
        ),
    ]


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    rows: Callable[[dict[str, Any]], list[Row]]
    json_name: str = ""


BENCHES = (
    Bench("storage", ("--size-mb", "100", "--runs", "3", "--skip-big"), storage_rows),
    Bench("storage-net", ("--size-mb", "50", "--runs", "3"), storage_net_rows),
    Bench("rpc", ("--requests", "200", "--runs", "3"), rpc_rows),
    Bench("unlock", ("--samples", "100", "--seconds", "4", "--runs", "3"), unlock_rows),
    Bench("feed", ("--posts", "20000", "--baseline-posts", "5000", "--runs", "3"), feed_rows),
    Bench("sync", ("--posts", "10000", "--runs", "3"), sync_rows),
    Bench(
        "propagation",
        ("--sizes", "10,30", "--posts", "30", "--warmup", "3", "--tail", "10"),
        propagation_rows,
    ),
    Bench(
        "p2p", ("--runs", "3", "--messages", "200", "--flood", "500", "--stream-mb", "8"), p2p_rows
    ),
    Bench("ui", ("--runs", "3"), ui_rows),
    Bench("media", ("--runs", "2", "--duration", "10"), media_rows),
)


def run_bench(bench: Bench, log: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    out = OUT / f"{bench.name}.json"
    before = os.getloadavg()[0]
    started = time.monotonic()
    stamp = out.stat().st_mtime if out.exists() else 0.0
    with log.open("w") as sink:
        proc = subprocess.run(
            [sys.executable, str(HERE / f"{bench.name}.py"), *bench.args],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    meta = {
        "args": list(bench.args),
        "seconds": round(time.monotonic() - started, 1),
        "load_1m_before": round(before, 2),
        "load_1m_after": round(os.getloadavg()[0], 2),
        "exit_code": proc.returncode,
        "log": str(log.relative_to(ROOT)),
    }
    if proc.returncode != 0 or not out.exists() or out.stat().st_mtime == stamp:
        return None, meta
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc, meta


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(rows: list[Row], meta: dict[str, dict[str, Any]], when: str) -> str:
    lines = [
        f"# Benchmark summary ({when})",
        "",
        "Ours against an anchor measured in the same run (medians of each benchmark's runs); "
        "ratio = ours / anchor; `better` says which way is better for ours.",
        "",
        "| benchmark | what | ours | anchor (same run) | ratio | better | goal | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        anchor = f"{fmt(r.anchor)} {r.unit} ({r.anchor_name})" if r.anchor_name else "—"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        lines.append(
            f"| {r.benchmark} | {r.what} | {fmt(r.ours)} {r.unit} | {anchor} | {ratio} | "
            f"{r.better} | {r.goal or '—'} | {r.status or '—'} |"
        )
    lines += [
        "",
        "| benchmark | arguments | seconds | load 1 min before / after | exit |",
        "|---|---|---|---|---|",
    ]
    for name, m in meta.items():
        lines.append(
            f"| {name} | `{' '.join(m['args'])}` | {m['seconds']} | "
            f"{m['load_1m_before']} / {m['load_1m_after']} | {m['exit_code']} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[Row], path: Path) -> None:
    """Horizontal bars of ours/anchor on a log scale, 1 marked, coloured by which way is
    better; rendered by headless Chromium to PNG."""
    import math

    shown = [r for r in rows if r.ratio is not None and r.ratio > 0]
    width, left, row_h = 1000, 430, 26
    height = 70 + row_h * max(len(shown), 1)
    lo, hi = math.log10(0.02), math.log10(100.0)
    span = width - 30 - left

    def x_of(value: float) -> float:
        return left + span * (min(max(math.log10(value), lo), hi) - lo) / (hi - lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="18">ours / anchor (same run), log scale; green: ours better, '
        "red: anchor better</text>",
    ]
    for tick in (0.1, 0.5, 1.0, 2.0, 10.0, 50.0):
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="30" y2="{height - 22}" '
            f'stroke="{"#333" if tick == 1.0 else "#ddd"}"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{tick:g}×</text>')
    for i, r in enumerate(shown):
        assert r.ratio is not None
        y = 40 + i * row_h
        good = r.ratio <= 1 if r.better == "lower" else r.ratio >= 1
        x0, x1 = sorted((x_of(1.0), x_of(r.ratio)))
        label = f"{r.benchmark}: {r.what}"[:70].replace("&", "&amp;").replace("<", "&lt;")
        parts.append(f'<text x="10" y="{y + 13}">{label}</text>')
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{row_h - 8}" fill="{"#2e7d32" if good else "#c62828"}"/>'
        )
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 13}">{r.ratio:.2f}</text>')
    parts.append("</svg>")
    svgpng.render(parts, width, height, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--skip", default="", help="comma-separated benchmark names")
    args = parser.parse_args()
    names = {b.name for b in BENCHES}
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    if unknown := (only | skip) - names:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    logs = OUT / "summary-logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    meta: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for bench in BENCHES:
        if (only and bench.name not in only) or bench.name in skip:
            continue
        print(f"summary: {bench.name} {' '.join(bench.args)}", flush=True)
        doc, meta[bench.name] = run_bench(bench, logs / f"{bench.name}.log")
        if doc is None:
            rows.append(
                Row(
                    bench.name,
                    f"failed (see {meta[bench.name]['log']})",
                    "",
                    None,
                    "",
                    None,
                    "",
                    "",
                    "",
                )
            )
            continue
        rows += bench.rows(doc)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = {
        "benchmark": "summary",
        "when": when,
        "elapsed_s": round(time.monotonic() - started, 1),
        "cores": os.cpu_count(),
        "rows": [asdict(r) | {"ratio": r.ratio} for r in rows],
        "runs": meta,
    }
    (OUT / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(rows, meta, when)
    (OUT / "summary.md").write_text(text)
    chart(rows, OUT / "summary.png")
    print(text)


if __name__ == "__main__":
    main()
