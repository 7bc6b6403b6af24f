"""A writer killed with SIGKILL at random moments never leaves a broken store.

The writer is a forked child process (no interpreter start-up per kill, so the kills stay fast)
that adds, pins, unpins and collects garbage in a loop until it is killed; it says which step it
starts and when the step is done, so the test knows where each kill landed. After each kill the
store is reopened as a restarted peer would: every block must hash to its key, every pin's DAG
must be complete, and every pin the writer reported as committed (and did not start to unpin)
must still be there with its exact bytes. Every other kill comes at a random moment; the others
come just after the writer starts a step it was told to do first (add, pin, unpin, GC, in
turn), so the quick steps are hit too. The test kills at least ``KILLS`` times, and on until
each step was interrupted at least ``PER_STEP`` times. At the end GC runs and loses nothing
pinned.
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

# at least 60 kills in the suite (half at random moments, half at the start of a step), and at
# least PER_STEP inside each step; TOKTOK_CRASH_KILLS=2000 for a soak run
KILLS = int(os.environ.get("TOKTOK_CRASH_KILLS", "60"))
PER_STEP = 5
MAX_KILLS = max(KILLS, 400)  # a step still not reached by then: the writer is broken
STEPS = {"adding": "add", "pinning": "pin", "unpinning": "unpin", "collecting": "gc"}
CHUNK = 262_144


def content(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def writer(store_dir: Path, seed: int, out: IO[str], first: str | None = None) -> None:
    """Work forever; report ``pinned <cid> <seed> <size>`` and ``unpinning <cid>``, and each
    step's start (``adding``, ``pinning``, ``unpinning``, ``collecting``) and end (``done``).
    With ``first`` (one of those step words) the first step is that one (an unpin, as in the
    loop, only once more than 3 pins exist: the writer adds until then)."""
    store = LocalStore.open(store_dir)
    rng = random.Random(seed)
    print("ready", file=out, flush=True)
    while True:
        roll = rng.random()
        pins = store.pins()
        step, first = first, None
        if step == "unpinning" and len(pins) <= 3:
            step, first = "adding", "unpinning"  # unpin as usual: only with more than 3 pins
        if step in ("adding", "pinning") or (step is None and roll < 0.55):
            data_seed = rng.randrange(2**32)
            size = rng.choice([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, rng.randrange(3 * CHUNK)])
            data = content(data_seed, size)
            pin_now = step != "pinning" and rng.random() < 0.7
            print("adding", file=out, flush=True)
            cid = store.import_chunks(
                [data[i : i + 65_536] for i in range(0, len(data), 65_536)],
                cid_version=rng.choice([0, 1]),
                pin=pin_now,
            )
            if not pin_now:
                print("pinning", file=out, flush=True)
                store.pin(cid, recursive=True)
            print(f"pinned {cid} {data_seed} {size}", file=out, flush=True)
        elif step == "unpinning" or (step is None and roll < 0.8 and len(pins) > 3):
            victim = rng.choice(pins).cid
            print(f"unpinning {victim}", file=out, flush=True)
            store.unpin(victim)
            print("done", file=out, flush=True)
        else:
            print("collecting", file=out, flush=True)
            store.gc()
            print("done", file=out, flush=True)


def said_word(buffer: bytearray, word: bytes) -> bool:
    """Whether a whole line in ``buffer`` starts with the word ``word``."""
    return any(line.split(b" ", 1)[0] == word for line in bytes(buffer).split(b"\n")[:-1])


def read_until(fd: int, buffer: bytearray, word: bytes, timeout: float = 30) -> None:
    """Read the writer's output into ``buffer`` until a line starts with ``word``."""
    deadline = time.monotonic() + timeout
    while not said_word(buffer, word):
        left = deadline - time.monotonic()
        assert left > 0, f"the writer did not say {word!r} within {timeout} s"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65_536)
            assert chunk, "the writer stopped"
            buffer += chunk


def run_and_kill(store_dir: Path, seed: int, delay: float, at_step: str | None = None) -> list[str]:
    """Fork the writer, let it work ``delay`` seconds after ``ready`` (or after it starts the
    step ``at_step``, which it then does first), SIGKILL it; returns what it said after
    ``ready``."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(read_fd)
        try:
            writer(store_dir, seed, os.fdopen(write_fd, "w"), at_step)
        finally:
            os._exit(1)
    os.close(write_fd)
    said = bytearray()
    try:
        try:
            read_until(read_fd, said, b"ready")
            if at_step is not None:
                read_until(read_fd, said, at_step.encode())
            time.sleep(delay)
        finally:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status)
        assert os.WTERMSIG(status) == signal.SIGKILL
        while chunk := os.read(read_fd, 65_536):
            said += chunk
    finally:
        os.close(read_fd)
    lines = said.decode().splitlines()
    assert lines[0] == "ready"
    return lines[1:]


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
    landed = dict.fromkeys(STEPS.values(), 0)  # kills inside each step
    events = 0
    verified = 0  # committed pins found intact after a kill, summed over the rounds
    round_no = 0
    while round_no < KILLS or min(landed.values()) < PER_STEP:
        assert round_no < MAX_KILLS, f"after {round_no} kills some step was never hit: {landed}"
        if round_no % 2:  # every other kill just after a step starts, each step in turn
            step = list(STEPS)[round_no // 2 % len(STEPS)]
            lines = run_and_kill(store_dir, rng.randrange(2**32), rng.uniform(0, 0.003), step)
        else:
            lines = run_and_kill(store_dir, rng.randrange(2**32), rng.uniform(0.0, 0.1))
        events += len(lines)
        for line in lines:
            parts = line.split()
            if parts[0] == "pinned":
                expected[parts[1]] = (int(parts[2]), int(parts[3]))
            elif parts[0] == "unpinning":
                expected.pop(parts[1], None)
        if lines and lines[-1].split()[0] in STEPS:
            landed[STEPS[lines[-1].split()[0]]] += 1
        store = LocalStore.open(store_dir)
        check(store, expected)
        verified += len(expected)
        if round_no % 50 == 49:
            store.gc()
            check(store, expected)
        round_no += 1
    print(f"{round_no} kills; inside each step: {landed}; pins checked: {verified}")  # -rP
    store = LocalStore.open(store_dir)
    store.gc()
    check(store, expected)
    # (the last round may have unpinned them all: count what the rounds checked)
    assert verified, "the writer never committed a pin: the test exercised nothing"
    assert events > 0, "no kill landed after the writer had done anything"
