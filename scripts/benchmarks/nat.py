"""Benchmark of NAT traversal on the test bed: pairs of peers behind routers of mixed kinds.

    scripts/bench nat [--pairs 20] [--seed 1] [--clip-s 8]

Needs root (network namespaces; see netbed). Setup (not timed): a bed with a bootstrap host and
a relay host (public; AutoNAT servers; the relay's per-circuit byte limit raised to 64 MiB so
that relayed throughput can be measured at all), and ``--pairs`` pairs of hosts, each host behind
its own router, endpoint-independent or symmetric (drawn with the seed); a real ``toktok run``
daemon on each, with the relay in ``p2p.relays``, and a chain host (publishing needs it).

Measured:

- ``verdict_s``: from the daemon printing its UI URL to AutoNAT's verdict "private" (polled
  every 0.2 s); ``reservation_s``: from the verdict to a circuit address being announced.
- per pair: B dials A's circuit address; ``direct_s`` = time until B reports its connection to A
  as direct (hole punched; polled every 0.2 s, given up after 60 s); the share that ends direct
  by mapping mix.
- throughput: A publishes a ``--clip-s`` clip; B fetches the largest rendition through its own
  content port (bytes compared with A's); MB/s over a direct and over a relayed connection.

Writes bench-results/nat.json. Reusable code comes from ``netbed`` (never from tests/).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from netbed import Bed
from netbed.nat import Mapping, add_nat_host
from netbed.peers import BedPeer, start_chain, start_peer
from storage.media.samples import SampleSpec, make_sample

OUT = ROOT / "bench-results"
ENV = {"TOKTOK_P2P_PUBLIC_RANGES": "198.18.0.0/15", "TOKTOK_PEER_LOG_LEVEL": "info"}
RELAY_ENV = {
    **ENV,
    "TOKTOK_P2P_RELAY_SERVICE": "true",
    "TOKTOK_P2P_RELAY_CIRCUIT_BYTES": str(64 * 1024 * 1024),
    "TOKTOK_P2P_RELAY_CIRCUIT_DURATION_S": "600",
}
PUNCH_GIVE_UP_S = 60.0


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


def largest(peer: BedPeer, post: str) -> dict[str, Any]:
    clip = peer.api.get(f"/api/v1/posts/{post}/clip")
    return dict(max(clip["renditions"], key=lambda r: int(r["size"])))


def fetch_rate(a: BedPeer, b: BedPeer, clip: Path) -> dict[str, Any]:
    post = a.publish(clip, "bench", ["bench"])
    poll(lambda: b.has_post(post), 120)
    theirs, mine = largest(a, post), largest(b, post)
    t0 = time.monotonic()
    data = b.fetch(mine["url"], timeout=300)
    seconds = time.monotonic() - t0
    same = hashlib.sha256(data).digest() == hashlib.sha256(a.fetch(theirs["url"])).digest()
    return {"bytes": len(data), "seconds": round(seconds, 2),
            "mb_per_s": round(len(data) / seconds / 1e6, 2), "bytes_equal": same}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clip-s", type=float, default=8.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="toktok-bench-nat-"))
    clip = make_sample(SampleSpec("natbench", 360, 640, args.clip_s), work / "clips")
    kinds = [Mapping.EIM, Mapping.SYMMETRIC]
    result: dict[str, Any] = {"pairs": args.pairs, "seed": args.seed}
    with Bed(work / "bed", seed=args.seed) as bed:
        chain_h, boot_h, relay_h = (bed.add_host(n) for n in ("chain", "boot", "relay"))
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

        def start(host: Any, index: int) -> tuple[BedPeer, float | None, float | None]:
            # a wallet for each A (the publishers; dev accounts repeat beyond 10 pairs)
            key = (index // 2) % 10 if index % 2 == 0 else None
            peer = start_peer(host, chain=chain, env=env, bootstrap=seeds, dev_key=key)
            verdict = poll(lambda: reach(peer)["state"] == "private", 120)
            reserved = poll(lambda: bool(reach(peer)["circuits"]), 120)
            return peer, verdict, reserved

        flat = [h for pair in hosts for h in pair]
        with ThreadPoolExecutor(4) as pool:
            started = list(pool.map(start, flat, range(len(flat))))
        peers = [s[0] for s in started]
        verdicts = [s[1] for s in started if s[1] is not None]
        reservations = [s[2] for s in started if s[2] is not None]
        result["verdict_s"] = _summary(verdicts, len(started))
        result["reservation_s"] = _summary(reservations, len(started))

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
        result["direct_share"] = {k: f"{sum(v)}/{len(v)}" for k, v in by_mix.items()}
        result["direct_share_all"] = round(sum(p["direct"] for p in pairs) / len(pairs), 3)
        times = [float(p["direct_s"]) for p in pairs if p["direct"]]
        result["direct_s"] = _summary(times, len(pairs))
        direct = next((i for i, p in enumerate(pairs) if p["direct"]), None)
        relayed = next((i for i, p in enumerate(pairs) if not p["direct"]), None)
        for name, i in (("direct", direct), ("relayed", relayed)):
            if i is not None:
                result[f"throughput_{name}"] = fetch_rate(peers[2 * i], peers[2 * i + 1], clip)
        result["relay_service"] = reach(relay)["relay_service"]
    OUT.mkdir(exist_ok=True)
    (OUT / "nat.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _summary(values: list[float], out_of: int) -> dict[str, Any]:
    if not values:
        return {"n": 0, "of": out_of}
    return {"n": len(values), "of": out_of, "median": round(statistics.median(values), 2),
            "max": round(max(values), 2), "min": round(min(values), 2)}  # fmt: skip


if __name__ == "__main__":
    main()
