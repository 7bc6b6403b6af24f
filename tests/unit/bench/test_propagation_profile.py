"""The breakdown of ``scripts/bench propagation --profile``: py-spy raw stacks sorted into the
parts of the gossip path, idle waits left out."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "benchmarks" / "propagation_profile.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("propagation_profile", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pp = _load()
TRIO = [
    "thread (1): toktok-p2p",
    "TrioThread._thread_main (peer/p2p/bridge.py:97)",
    "run (trio/_core/_run.py:2535)",
]
READ = [*TRIO, "Pubsub.continuously_read_stream (libp2p/pubsub/pubsub.py:558)"]
MAIN = ["thread (2): MainThread", "validate (peer/feed/validation.py:90)"]
SEND = "_SocketType._nonblocking_helper (trio/_socket.py:1050)"
YAMUX_READ = "YamuxStream.read (libp2p/stream_muxer/yamux/yamux.py:581)"
STACKS = [
    ([*TRIO, "EpollIOManager.get_events (trio/_core/_io_epoll.py:243)"], 50),
    (
        [
            *READ,
            "maybe_consume_signed_record (libp2p/pubsub/utils.py:39)",
            "Envelope.validate (envelope.py:128)",
            "crypto_sign_open (nacl/bindings/crypto_sign.py:103)",
        ],
        7,
    ),
    (
        [*READ, YAMUX_READ, "YamuxStream.send_window_update (yamux/yamux.py:371)", SEND],
        5,
    ),
    ([*READ, YAMUX_READ], 4),
    ([*TRIO, "Pubsub.handle_sending_messages (libp2p/pubsub/pubsub.py:1266)", SEND], 3),
    ([*MAIN, "store (peer/feed/ingest.py:64)"], 2),
    ([*MAIN, "decode (peer/feed/wire.py:40)"], 2),
    (MAIN, 1),
    (["thread (2): MainThread"], 9),
]
RAW = "\n".join(";".join(frames) + f" {count}" for frames, count in STACKS) + "\nnot a stack\n"


def test_stacks_are_sorted_into_parts_and_idle_is_left_out() -> None:
    result = pp.breakdown(pp.parse(RAW.splitlines()))
    assert result["idle_samples"] == 59
    assert result["busy_samples"] == 24
    parts = {k: v["samples"] for k, v in result["parts"].items()}
    assert parts == {
        "signature checks": 7,
        "yamux window updates": 5,
        "receive path (yamux, noise, socket reads)": 4,
        "re-publish to the mesh": 3,
        "SQLite write": 2,
        "message decoding": 2,
        "validator": 1,
    }
    assert list(result["parts"]) == list(parts), "largest first"
    assert result["parts"]["signature checks"]["share"] == round(7 / 24, 3)
    assert result["top_leaves"][0] == {
        "frame": "_SocketType._nonblocking_helper (trio/_socket.py:1050)",
        "samples": 8,
    }
