"""A writer killed with SIGKILL at random moments never leaves a broken store.

After each kill: every block hashes to its key, every pin's DAG is complete, and every pin the
writer reported as committed (and did not start to unpin) is still there with its exact bytes.
At the end GC runs and loses nothing pinned.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.cid import CID
from storage.local import LocalStore

pytestmark = pytest.mark.integration

WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = int(os.environ.get("TOKTOK_CRASH_KILLS", "200"))


def content(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def run_and_kill(store_dir: Path, seed: int, delay: float) -> list[str]:
    """Start the writer, let it work ``delay`` seconds after ``ready``, SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(store_dir), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == "ready", first
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        out = proc.stdout.read()
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return out.splitlines()


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
    for round_no in range(KILLS):
        lines = run_and_kill(store_dir, rng.randrange(2**32), rng.uniform(0.0, 0.1))
        for line in lines:
            parts = line.split()
            if parts and parts[0] == "pinned":
                expected[parts[1]] = (int(parts[2]), int(parts[3]))
            elif parts and parts[0] == "unpinning":
                expected.pop(parts[1], None)
        store = LocalStore.open(store_dir)
        check(store, expected)
        if round_no % 50 == 49:
            store.gc()
            check(store, expected)
    store = LocalStore.open(store_dir)
    store.gc()
    check(store, expected)
    assert expected, "the writer never committed anything: the test exercised nothing"
