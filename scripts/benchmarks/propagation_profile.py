"""Where a gossiping peer's CPU goes: py-spy samples of ``scripts/bench propagation --profile``
sorted into the parts of the gossip path.

py-spy's raw output has one line per distinct stack, ``frame;frame;...;frame COUNT`` from the
thread (root) to the running function (leaf), each frame ``function (file:line)``. A stack whose
leaf waits (epoll, a selector, a queue or a thread-pool worker with nothing to do) is idle and
left out; every other sample goes to the first part in ``PARTS`` with a pattern found in one of
its frames (so a signature check inside the validator counts as a signature check, and a socket
write under a yamux window update as a window update).

    python scripts/benchmarks/propagation_profile.py FILE...   # prints the breakdown as JSON
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

IDLE_LEAVES = (
    ".get_events (trio/_core/_io_epoll.py",
    "EpollSelector.select (selectors.py",
    "_worker (concurrent/futures/thread.py",
    "Writer._run (peer/feed/db.py",
    "Condition.wait (threading.py",
    "Queue.get (queue.py",
)

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "signature checks",
        (
            "crypto_sign",
            "VerifyKey.verify",
            "Ed25519PublicKey.verify",
            "PrivateKey.sign",
            "Envelope.validate",
            "coincurve",
            "peer/feed/signatures.py",
            "signature_validator",
        ),
    ),
    (
        "SQLite write",
        ("peer/feed/db.py", "sqlite3", "sqlite_utils", "peer/feed/index", "peer/feed/ingest.py"),
    ),
    (
        "message decoding",
        ("ParseFromString", "FromString", "_pb2.py", "google/protobuf", "peer/feed/wire.py"),
    ),
    ("validator", ("peer/feed/",)),
    ("yamux window updates", ("send_window_update",)),
    (
        "control messages",
        (
            "heartbeat",
            "emit_",
            "handle_ihave",
            "handle_iwant",
            "handle_graft",
            "handle_prune",
            "handle_idontwant",
            "mcache",
            "libp2p/pubsub/score.py",
        ),
    ),
    ("re-publish to the mesh", ("Pubsub.write_msg", "handle_sending_messages", ".publish (")),
    (
        "trio/asyncio hop",
        (
            "TrioThread.run (",
            "TrioThread.post",
            "TrioThread.call_asyncio",
            "call_soon_threadsafe",
            "run_coroutine_threadsafe",
            "_write_to_self",
            "_read_from_self",
            "WakeupSocketpair",
        ),
    ),
    (
        "receive path (yamux, noise, socket reads)",
        ("continuously_read_stream", "YamuxStream.read", "Yamux.", "SecureSession.read"),
    ),
    ("asyncio loop", ("asyncio/",)),
    ("trio scheduler", ("trio/",)),
)
OTHER = "other"


def parse(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """(frames root to leaf, count) of each line of py-spy's raw format."""
    out = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            out.append((stack.split(";"), int(count)))
    return out


def is_idle(frames: list[str]) -> bool:
    leaf = frames[-1]
    return leaf.startswith("thread (") or any(p in leaf for p in IDLE_LEAVES)


def part_of(frames: list[str]) -> str:
    for name, patterns in PARTS:
        if any(p in frame for frame in frames for p in patterns):
            return name
    return OTHER


def breakdown(stacks: list[tuple[list[str], int]], top: int = 12) -> dict[str, Any]:
    """Samples per part (busy samples only), their shares, and the busiest leaf functions."""
    parts: dict[str, int] = {}
    leaves: dict[str, int] = {}
    idle = busy = 0
    for frames, count in stacks:
        if is_idle(frames):
            idle += count
            continue
        busy += count
        name = part_of(frames)
        parts[name] = parts.get(name, 0) + count
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
    ordered = sorted(parts.items(), key=lambda kv: -kv[1])
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "parts": {k: {"samples": v, "share": round(v / busy, 3)} for k, v in ordered},
        "top_leaves": [
            {"frame": k, "samples": v} for k, v in sorted(leaves.items(), key=lambda kv: -kv[1])
        ][:top],
    }


def main() -> None:
    stacks: list[tuple[list[str], int]] = []
    for name in sys.argv[1:]:
        stacks += parse(Path(name).read_text().splitlines())
    print(json.dumps(breakdown(stacks), indent=2))


if __name__ == "__main__":
    main()
