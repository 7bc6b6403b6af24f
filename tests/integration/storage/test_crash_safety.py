"""A writer killed with SIGKILL at random moments never leaves a broken store.

The writer is a forked child process (no interpreter start-up per kill, so the 200 kills stay
fast) that adds, pins, unpins and collects garbage in a loop until it is killed. After each
kill the store is reopened as a restarted peer would: every block must hash to its key, every
pin's DAG must be complete, and every pin the writer reported as committed (and did not start
to unpin) must still be there with its exact bytes. At the end GC runs and loses nothing pinned.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from pathlib import Path
from typing import IO

import pytest

from storage.cid import CID
from storage.local import LocalStore

pytestmark = pytest.mark.integration

# 120 random kill points in the suite (about 30 s); TOKTOK_CRASH_KILLS=2000 for a soak run
KILLS = int(os.environ.get("TOKTOK_CRASH_KILLS", "120"))
CHUNK = 262_144


def content(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def writer(store_dir: Path, seed: int, out: IO[str]) -> None:
    """Work forever; report ``pinned <cid> <seed> <size>`` and ``unpinning <cid>``."""
    store = LocalStore.open(store_dir)
    rng = random.Random(seed)
    print("ready", file=out, flush=True)
    while True:
        roll = rng.random()
        pins = store.pins()
        if roll < 0.55:
            data_seed = rng.randrange(2**32)
            size = rng.choice([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, rng.randrange(3 * CHUNK)])
            data = content(data_seed, size)
            pin_now = rng.random() < 0.7
            cid = store.import_chunks(
                [data[i : i + 65_536] for i in range(0, len(data), 65_536)],
                cid_version=rng.choice([0, 1]),
                pin=pin_now,
            )
            if not pin_now:
                store.pin(cid, recursive=True)
            print(f"pinned {cid} {data_seed} {size}", file=out, flush=True)
        elif roll < 0.8 and len(pins) > 3:
            victim = rng.choice(pins).cid
            print(f"unpinning {victim}", file=out, flush=True)
            store.unpin(victim)
        else:
            store.gc()


def run_and_kill(store_dir: Path, seed: int, delay: float) -> list[str]:
    """Fork the writer, let it work ``delay`` seconds after ``ready``, SIGKILL it."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(read_fd)
        try:
            writer(store_dir, seed, os.fdopen(write_fd, "w"))
        finally:
            os._exit(1)
    os.close(write_fd)
    with os.fdopen(read_fd, "r") as lines:
        try:
            ready, _, _ = select.select([lines], [], [], 30)
            assert ready, "writer did not start"
            assert lines.readline().strip() == "ready"
            time.sleep(delay)
        finally:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status)
        assert os.WTERMSIG(status) == signal.SIGKILL
        return lines.read().splitlines()


def check(store: LocalStore, expected: dict[str, tuple[int, int]]) -> None:
    report = store.verify()
    assert report.ok, report
    pinned = {str(p.cid) for p in store.pins()}
    for cid, (seed, size) in expected.items():
        assert cid in pinned, f"committed pin {cid} lost"
        assert b"".join(store.iter_file(CID.parse(cid))) == content(seed, size)


def test_sigkill_at_random_moments_never_corrupts_the_store(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    store_dir = tmp_path / "store"
    expected: dict[str, tuple[int, int]] = {}  # committed pins the writer did not unpin
    events = 0
    for round_no in range(KILLS):
        lines = run_and_kill(store_dir, rng.randrange(2**32), rng.uniform(0.0, 0.1))
        events += len(lines)
        for line in lines:
            parts = line.split()
            if parts[0] == "pinned":
                expected[parts[1]] = (int(parts[2]), int(parts[3]))
            elif parts[0] == "unpinning":
                expected.pop(parts[1], None)
        store = LocalStore.open(store_dir)
        check(store, expected)
        if round_no % 50 == 49:
            store.gc()
            check(store, expected)
    store = LocalStore.open(store_dir)
    store.gc()
    check(store, expected)
    assert expected, "the writer never committed a pin: the test exercised nothing"
    assert events > 0, "no kill landed after the writer had done anything"
