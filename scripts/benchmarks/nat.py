"""Benchmark of NAT traversal on the test bed: pairs of peers behind routers of mixed kinds.

    scripts/bench nat [--pairs 20] [--runs 1] [--seed 1] [--clip-s 4] [--plays 3]
    scripts/bench nat --chart-only   # nat.png again from nat.json (after an interrupted run)

Needs root (network namespaces; see netbed). Setup of each run (not timed; a fresh bed per
run, seed ``--seed + run``): a chain host, a bootstrap host and a relay host (public; AutoNAT
servers; the relay's per-circuit limits raised to 64 MiB and 600 s so that relayed playback
can be measured at all, as on a relay run without public limits), a public "fan" host, and
``--pairs`` pairs of hosts, each host behind its own router, endpoint-independent or symmetric
(drawn with the seed); a real ``toktok run`` daemon on each, with the relay in ``p2p.relays``.

Measured:

- ``verdict_s``: from the daemon printing its UI URL to AutoNAT's verdict "private" (polled
  every 0.2 s); ``reservation_s``: from the verdict to a circuit address being announced.
- per pair, first contact: B dials A's circuit address; ``direct_s`` = time until B reports
  its connection to A as direct (hole punched; polled every 0.2 s, given up after 60 s); the
  share that ends direct, in all and by mapping mix.
- time to first frame (``ttff``), in Chromium inside the viewer's namespace (a fresh context,
  the session cookie set directly; navigation start to the first presented video frame,
  ``requestVideoFrameCallback``; ``media_ms`` = from the app setting the video's ``src`` to that
  frame, the part the path changes), each sample a clip of its own bytes, cold on the viewer:
  ``direct``: B plays A's clip over a hole-punched connection; ``relayed``: B plays A's clip
  over the relayed connection (A behind a symmetric router); ``replicated``: A (relayed)
  publishes, the public fan follows A through the relay and replicates the clip, and the B of
  another relayed pair, which never contacted A, plays it from the fan. Up to ``--plays``
  samples each; the relay's byte counter around each sample is recorded (``relay_bytes``).

Writes bench-results/nat.json (each run, and medians over the runs) and nat.png. Reusable code
comes from ``netbed`` (never from tests/).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import svgpng  # from scripts/benchmarks/, before it leaves sys.path

# scripts/benchmarks/ is on sys.path first and holds a storage.py: drop it for our imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from netbed import Bed
from netbed.nat import Mapping, add_nat_host
from netbed.peers import BedPeer, start_chain, start_peer
from storage.media.samples import SampleSpec, make_sample

OUT = ROOT / "bench-results"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-quic"]  # fmt: skip
ENV = {"TOKTOK_P2P_PUBLIC_RANGES": "198.18.0.0/15", "TOKTOK_PEER_LOG_LEVEL": "info"}
RELAY_ENV = {
    **ENV,
    "TOKTOK_P2P_RELAY_SERVICE": "true",
    "TOKTOK_P2P_RELAY_CIRCUIT_BYTES": str(64 * 1024 * 1024),
    "TOKTOK_P2P_RELAY_CIRCUIT_DURATION_S": "600",
}
PUNCH_GIVE_UP_S = 60.0
# Runs before the app: when the app first sets a media src, and the first presented frame.
PROBE = """
(() => {
  const m = (window.__bench = {src: null, frame: null});
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
    event.target.requestVideoFrameCallback((now) => { if (m.frame === null) m.frame = now; });
  }, true);
})();
"""


def reach(peer: BedPeer) -> dict[str, Any]:
    return dict(peer.status()["reachability"])


def poll(check: Any, give_up: float) -> float | None:
    """Seconds until ``check()`` is true (polled every 0.2 s), None after ``give_up``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < give_up:
        if check():
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def relayed_bytes(relay: BedPeer) -> int:
    return int(reach(relay)["relay_service"]["relayed_bytes"])


def pinned(peer: BedPeer) -> int:
    replication = peer.api.get("/api/v1/storage").get("replication") or {}
    return int(replication.get("pinned_posts", 0))


def first_frame(viewer: BedPeer, post: str) -> dict[str, Any]:
    """Open ``viewer``'s UI on the post in Chromium inside its namespace; ms from navigation
    start to the first presented frame, and from the src being set to it."""
    from playwright.sync_api import sync_playwright

    creds = viewer.api.client.creds
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(viewer.host.wrapper(CHROMIUM)), args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.add_cookies([{"name": "toktok_session", "value": creds.cookie,
                                  "url": viewer.url}])  # fmt: skip
            context.add_init_script(PROBE)
            page = context.new_page()
            page.goto(viewer.url + f"#/post/{post}")
            page.wait_for_function("() => window.__bench.frame !== null", timeout=120_000)
            marks = page.evaluate("() => window.__bench")
        finally:
            browser.close()
    return {
        "ttff_ms": round(marks["frame"], 1),
        "media_ms": round(marks["frame"] - marks["src"], 1),
    }


def one_run(args: argparse.Namespace, seed: int, clips: list[Path]) -> dict[str, Any]:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="toktok-bench-nat-"))
    kinds = [Mapping.EIM, Mapping.SYMMETRIC]
    result: dict[str, Any] = {"pairs": args.pairs, "seed": seed}
    with Bed(work / "bed", seed=seed) as bed:
        chain_h, boot_h, relay_h, fan_h = (
            bed.add_host(n) for n in ("chain", "boot", "relay", "fan")
        )
        mix = [(rng.choice(kinds), rng.choice(kinds)) for _ in range(args.pairs)]
        hosts = [
            (add_nat_host(bed, f"a{i}", ma), add_nat_host(bed, f"b{i}", mb))
            for i, (ma, mb) in enumerate(mix)
        ]
        chain = start_chain(chain_h)
        with ThreadPoolExecutor(2) as pool:
            boot, relay = pool.map(
                lambda he: start_peer(he[0], chain=chain, env=he[1]),
                [(boot_h, ENV), (relay_h, RELAY_ENV)],
            )
        relay.connect(boot)
        env = {**ENV, "TOKTOK_P2P_RELAYS": relay.multiaddr}
        seeds = [boot.multiaddr, relay.multiaddr]
        fan = start_peer(fan_h, chain=chain, env=ENV, bootstrap=seeds, dev_key=9)

        def start(host: Any, index: int) -> tuple[BedPeer, float | None, float | None]:
            # a wallet for each A (the publishers): dev account (pair % 9); the fan has 9
            key = (index // 2) % 9 if index % 2 == 0 else None
            peer = start_peer(host, chain=chain, env=env, bootstrap=seeds, dev_key=key)
            verdict = poll(lambda: reach(peer)["state"] == "private", 120)
            reserved = poll(lambda: bool(reach(peer)["circuits"]), 120)
            return peer, verdict, reserved

        flat = [h for pair in hosts for h in pair]
        with ThreadPoolExecutor(4) as pool:
            started = list(pool.map(start, flat, range(len(flat))))
        peers = [s[0] for s in started]
        result["verdict_s"] = _summary([s[1] for s in started if s[1] is not None], len(started))
        result["reservation_s"] = _summary(
            [s[2] for s in started if s[2] is not None], len(started)
        )

        def punch(i: int) -> dict[str, Any]:
            a, b = peers[2 * i], peers[2 * i + 1]
            a_id = a.status()["peer_id"]
            circuit = reach(a)["circuits"][0]
            b.api.post("/api/v1/peers/connect", {"multiaddr": circuit})
            took = poll(lambda: reach(b)["connections"].get(a_id) == "direct", PUNCH_GIVE_UP_S)
            return {"a": mix[i][0].value, "b": mix[i][1].value,
                    "direct": took is not None, "direct_s": took}  # fmt: skip

        with ThreadPoolExecutor(4) as pool:
            pairs = list(pool.map(punch, range(args.pairs)))
        result["pairs_detail"] = pairs
        by_mix: dict[str, list[bool]] = {}
        for p in pairs:
            by_mix.setdefault(f"{p['a']} + {p['b']}", []).append(bool(p["direct"]))
        result["direct_share"] = {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_mix.items())}
        result["direct_share_all"] = round(sum(p["direct"] for p in pairs) / len(pairs), 3)
        times = [float(p["direct_s"]) for p in pairs if p["direct"]]
        result["direct_s"] = _summary(times, len(pairs))
        result["ttff"] = playback(args, peers, pairs, relay, fan, clips)
        result["relay_service"] = reach(relay)["relay_service"]
    return result


def playback(
    args: argparse.Namespace,
    peers: list[BedPeer],
    pairs: list[dict[str, Any]],
    relay: BedPeer,
    fan: BedPeer,
    clips: list[Path],
) -> dict[str, list[dict[str, Any]]]:
    """Time to first frame per path (see the module docstring)."""
    # pairs whose A has a wallet no other publisher uses (dev accounts repeat every 9 pairs)
    usable = [i for i in range(len(pairs)) if i < 9]
    direct = [i for i in usable if pairs[i]["direct"]][: args.plays]
    relayed = [i for i in usable if not pairs[i]["direct"]]
    # A symmetric creator for the relayed samples; the replicated ones take the rest
    stuck = [i for i in relayed if pairs[i]["a"] == Mapping.SYMMETRIC.value] or relayed
    via_relay = stuck[: args.plays]
    creators = [i for i in relayed if i not in via_relay]  # wallets of their own (i < 9)
    # viewers: the B of any pair not used for the relayed samples (each contacted its A only)
    viewers = [i for i in range(len(pairs)) if i not in via_relay and i not in direct]
    viewers += direct  # last resort: a B that played its own A's clip
    samples: dict[str, list[dict[str, Any]]] = {"direct": [], "relayed": [], "replicated": []}
    pool = iter(clips)

    def sample(kind: str, creator: BedPeer, viewer: BedPeer, before_play: Any = None) -> None:
        post = creator.publish(next(pool), f"bench {kind}", ["bench"])
        if before_play is not None and not before_play(post):
            samples[kind].append({"error": "the fan did not replicate the clip in 180 s"})
            return
        if poll(lambda: viewer.has_post(post), 120) is None:
            samples[kind].append({"error": "the post did not reach the viewer in 120 s"})
            return
        before = relayed_bytes(relay)
        try:
            marks = first_frame(viewer, post)
        except Exception as exc:  # a sample that failed is recorded, not hidden
            samples[kind].append({"error": f"{type(exc).__name__}: {exc}"[:300]})
            return
        marks["relay_bytes"] = relayed_bytes(relay) - before
        samples[kind].append(marks)

    for i in direct:
        sample("direct", peers[2 * i], peers[2 * i + 1])
    for i in via_relay:
        sample("relayed", peers[2 * i], peers[2 * i + 1])
    # replicated: creator A of one relayed pair, viewer B of another, the public fan between
    used: set[int] = set()
    for creator_i in creators:
        if len(samples["replicated"]) >= args.plays:
            break
        if creator_i in used:
            continue
        free = [v for v in viewers if v != creator_i and v not in used]
        viewer_i = next((v for v in free if v not in creators), free[0] if free else None)
        if viewer_i is None:
            break
        used.update((creator_i, viewer_i))
        creator, viewer = peers[2 * creator_i], peers[2 * viewer_i + 1]
        fan.api.post("/api/v1/peers/connect", {"multiaddr": reach(creator)["circuits"][0]})
        viewer.connect(fan)
        fan.api.post(f"/api/v1/creators/{creator.address}/follow", {"on": True})
        count = pinned(fan)

        def replicated(post: str, before: int = count) -> bool:
            return poll(lambda: pinned(fan) > before, 180) is not None

        sample("replicated", creator, viewer, replicated)
    return samples


def _summary(values: list[float], out_of: int) -> dict[str, Any]:
    if not values:
        return {"n": 0, "of": out_of}
    return {"n": len(values), "of": out_of, "median": round(statistics.median(values), 2),
            "max": round(max(values), 2), "min": round(min(values), 2)}  # fmt: skip


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Over all runs: the share direct, median seconds to direct, and ttff per path."""
    pairs = [p for r in runs for p in r["pairs_detail"]]
    by_mix: dict[str, list[bool]] = {}
    for p in pairs:
        by_mix.setdefault(f"{p['a']} + {p['b']}", []).append(bool(p["direct"]))
    out: dict[str, Any] = {
        "runs": len(runs),
        "direct_share_all": round(sum(p["direct"] for p in pairs) / len(pairs), 3),
        "direct_share": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_mix.items())},
        "direct_s": _summary([float(p["direct_s"]) for p in pairs if p["direct"]], len(pairs)),
        "verdict_s_median_per_run": [r["verdict_s"].get("median") for r in runs],
    }
    for kind in ("direct", "relayed", "replicated"):
        ok = [s for r in runs for s in r["ttff"][kind] if "ttff_ms" in s]
        failed = sum(1 for r in runs for s in r["ttff"][kind] if "error" in s)
        out[f"ttff_{kind}_ms"] = {
            **_summary([s["ttff_ms"] for s in ok], len(ok) + failed),
            "media_median_ms": round(statistics.median([s["media_ms"] for s in ok]), 1)
            if ok
            else None,
            "relay_bytes_median": statistics.median([s["relay_bytes"] for s in ok]) if ok else None,
        }
    return out


def chart(summary: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> None:
    """Strip plot: seconds to direct per pair, and time to first frame per path (every sample
    of every run), rendered by headless Chromium to PNG."""
    rows: list[tuple[str, list[float]]] = [
        ("first contact to direct", [float(p["direct_s"]) for r in runs
                                     for p in r["pairs_detail"] if p["direct"]]),
    ] + [
        (f"first frame, {kind}", [s["ttff_ms"] / 1000 for r in runs for s in r["ttff"][kind]
                                  if "ttff_ms" in s])
        for kind in ("direct", "relayed", "replicated")
    ]  # fmt: skip
    top = max([v for _, vals in rows for v in vals] + [1.0])
    width, left, row_h = 900, 190, 46
    height = 90 + row_h * len(rows)
    share = summary["direct_share_all"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20">NAT traversal on the bed: {len(runs)} run(s) of '
        f"{runs[0]['pairs']} pairs; direct {share:.0%} "
        f"({', '.join(f'{_short(k)}: {v}' for k, v in summary['direct_share'].items())})</text>",
        '<text x="10" y="38">seconds; dots: samples, bar: median</text>',
    ]
    for i, (label, vals) in enumerate(rows):
        y = 66 + i * row_h
        parts.append(f'<text x="10" y="{y + 4}">{label} (n={len(vals)})</text>')
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        for v in vals:
            x = left + (width - 20 - left) * v / top
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="4" fill="#1565c0" fill-opacity="0.6"/>')
        if vals:
            x = left + (width - 20 - left) * statistics.median(vals) / top
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 12}" y2="{y + 12}"'
                         ' stroke="#c62828" stroke-width="3"/>')  # fmt: skip
    step = max(1, round(top / 10))
    for t in range(0, int(top) + 1, step):
        x = left + (width - 20 - left) * t / top
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{t}</text>')
    parts.append("</svg>")
    svgpng.render(parts, width, height, path)


def _short(mix: str) -> str:
    """ "endpoint-independent + address-and-port-dependent" -> "EIM+sym"."""
    names = {Mapping.EIM.value: "EIM", Mapping.SYMMETRIC.value: "sym"}
    return "+".join(names.get(k.strip(), k) for k in mix.split(" + "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clip-s", type=float, default=4.0)
    parser.add_argument("--plays", type=int, default=3, help="ttff samples per path and run")
    parser.add_argument(
        "--chart-only", action="store_true", help="redraw nat.png from bench-results/nat.json"
    )
    args = parser.parse_args()
    if args.chart_only:
        saved = json.loads((OUT / "nat.json").read_text())
        chart(medians(saved["runs"]), saved["runs"], OUT / "nat.png")
        return
    clips_dir = Path(tempfile.mkdtemp(prefix="toktok-bench-nat-clips-"))
    # every sample its own bytes (nothing is cached on a viewer)
    clips = [
        make_sample(SampleSpec(f"natbench{n}", 360, 640, args.clip_s + 0.1 * n), clips_dir)
        for n in range(3 * args.plays)
    ]
    runs: list[dict[str, Any]] = []
    OUT.mkdir(exist_ok=True)
    for run in range(args.runs):
        runs.append(one_run(args, args.seed + run, clips))
        summary = medians(runs)
        (OUT / "nat.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))
    summary = medians(runs)
    chart(summary, runs, OUT / "nat.png")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
