"""Run records: which process owns which bed namespaces, and removal of dead runs' leftovers.

Every bed run has a run id (6 hex digits). Its namespaces are named ``tb<run id>-<host>`` and
its record ``/run/toktok-testbed/<run id>.json`` (written BEFORE the first namespace) names the
owning process by pid and start time. A run whose owner is gone (or whose pid was reused) is
dead: :func:`remove_dead_runs` stops the processes in its namespaces and deletes them. Runs of
live owners are never touched, so two beds can run at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from netbed import netns

RECORDS_DIR = Path("/run/toktok-testbed")
NS_NAME = re.compile(r"^tb([0-9a-f]{6})-[a-z0-9]+$")
STOP_GRACE_S = 5.0


def new_run_id() -> str:
    return secrets.token_hex(3)


def process_start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of process ``pid``, None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass
class RunRecord:
    run_id: str
    pid: int
    start_time: int
    created: float

    @property
    def path(self) -> Path:
        return RECORDS_DIR / f"{self.run_id}.json"

    def alive(self) -> bool:
        return process_start_time(self.pid) == self.start_time

    def write(self) -> None:
        RECORDS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.__dict__))

    @classmethod
    def mine(cls, run_id: str) -> RunRecord:
        pid = os.getpid()
        start = process_start_time(pid)
        assert start is not None
        return cls(run_id, pid, start, time.time())


def records() -> dict[str, RunRecord]:
    found: dict[str, RunRecord] = {}
    if not RECORDS_DIR.is_dir():
        return found
    for path in RECORDS_DIR.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            data = json.loads(path.read_text())
            found[path.stem] = RunRecord(
                str(data["run_id"]), int(data["pid"]), int(data["start_time"]), data["created"]
            )
    return found


def namespaces_of(run_id: str) -> list[str]:
    return [ns for ns in netns.namespaces() if ns.startswith(f"tb{run_id}-")]


def bed_namespaces() -> dict[str, list[str]]:
    """``{run id: [namespace, ...]}`` of every bed namespace on the machine."""
    runs: dict[str, list[str]] = {}
    for ns in netns.namespaces():
        match = NS_NAME.match(ns)
        if match:
            runs.setdefault(match.group(1), []).append(ns)
    return runs


def stop_processes(namespaces: list[str]) -> None:
    """SIGTERM every process in these namespaces, SIGKILL what is left after a grace period."""
    pids = {pid for ns in namespaces for pid in netns.pids_in(ns)}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while pids and time.monotonic() < deadline:
        pids = {p for p in pids if process_start_time(p) is not None and not _zombie(p)}
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def remove_run(run_id: str) -> list[str]:
    """Stop the run's processes, delete its namespaces (their links go with them) and its
    record. Returns the namespaces removed."""
    namespaces = namespaces_of(run_id)
    stop_processes(namespaces)
    for ns in namespaces:
        netns.delete_namespace(ns)
    with contextlib.suppress(FileNotFoundError):
        (RECORDS_DIR / f"{run_id}.json").unlink()
    return namespaces


def dead_runs() -> list[str]:
    """Run ids with leftovers (namespaces or a record) whose owner is not alive."""
    recs = records()
    ids = set(recs) | set(bed_namespaces())
    return sorted(r for r in ids if r not in recs or not recs[r].alive())


def remove_dead_runs() -> list[str]:
    """Remove every dead run's leftovers; the run ids removed."""
    removed = dead_runs()
    for run_id in removed:
        remove_run(run_id)
    return removed
