"""Test harness: real ``toktok`` CLI calls and ``toktok run`` daemons in their own processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

START_TIMEOUT_S = 120  # generous: a devnet daemon on a loaded 2-core machine took > 60 s


@dataclass
class Daemon:
    """A running ``toktok run`` process: ``url`` is its UI origin (with a trailing slash) and
    ``login_url`` the one-time login link it printed."""

    data_dir: Path
    process: subprocess.Popen[str]
    url: str = ""
    login_url: str = ""
    output: list[str] = field(default_factory=list)

    def cli_headers(self) -> dict[str, str]:
        """The CLI credential, read from the daemon's api.json as the toktok command does."""
        creds = json.loads((self.data_dir / "api.json").read_text())
        return {"Authorization": f"Bearer {creds['cli_token']}"}

    def get(self, path: str, host: str | None = None, auth: bool = True) -> tuple[int, Any]:
        """GET ``path`` as the CLI does (with ``auth``), or with no credential at all."""
        request = urllib.request.Request(self.url.rstrip("/") + path)
        if auth:
            for name, value in self.cli_headers().items():
                request.add_header(name, value)
        if host:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Stop it (SIGTERM, so it stops what it started), SIGKILL if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def toktok(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), *args]


def run_cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one ``toktok`` command (chain off unless ``env`` says otherwise)."""
    return subprocess.run(
        toktok(data_dir, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TOKTOK_CHAIN_MODE": "off", **(env or {})},
    )


class StartDaemon(Protocol):
    def __call__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Daemon: ...


def spawn_daemon(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> Daemon:
    """Start ``toktok run`` and return once it printed its login URL (or fail with its
    output)."""
    process = subprocess.Popen(
        toktok(data_dir, *args, "run"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TOKTOK_CHAIN_MODE": "off", **(env or {})},
    )
    daemon = Daemon(data_dir, process)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        daemon.output.append(line)
        if line.startswith("http://127.0.0.1:"):
            daemon.login_url = line.strip()
            daemon.url = daemon.login_url.split("login?", 1)[0]
            return daemon
    daemon.kill()
    raise AssertionError("daemon did not start:\n" + "".join(daemon.output))


def spawn_daemons(
    *data_dirs: Path, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT_S
) -> list[Daemon]:
    """Start one ``toktok run`` per data dir at the same time (a daemon spends its start-up
    in its own process, so two cores start two in about the time of one); returns them in
    the order given, or stops the ones that started and fails with the first error."""
    with ThreadPoolExecutor(max_workers=len(data_dirs)) as pool:
        futures = [pool.submit(spawn_daemon, d, env=env, timeout=timeout) for d in data_dirs]
    started = [f.result() for f in futures if f.exception() is None]
    for future in futures:
        error = future.exception()
        if error is not None:
            for daemon in started:
                daemon.kill()
            raise error
    return started


def start_together(
    start: StartDaemon, *data_dirs: Path, env: dict[str, str] | None = None
) -> list[Daemon]:
    """``start`` (the ``start_daemon`` fixture) for each data dir at the same time; the fixture
    stops every one that started at teardown."""
    with ThreadPoolExecutor(max_workers=len(data_dirs)) as pool:
        futures = [pool.submit(start, d, env=env) for d in data_dirs]
    return [f.result() for f in futures]


def children_of(pid: int) -> list[int]:
    """Pids of the live child processes of ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append(int(entry.name))
    return found


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``check`` every 0.25 s until it returns something truthy (returned), or fail with
    an AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout} s")
        time.sleep(0.25)


@pytest.fixture
def start_daemon() -> Iterator[StartDaemon]:
    """Start daemons; every one still running at teardown is killed (import it in a conftest)."""
    daemons: list[Daemon] = []

    def start(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Daemon:
        daemon = spawn_daemon(data_dir, *args, env=env)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()
