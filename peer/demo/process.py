"""A ``toktok run`` child process of the launcher: start, wait until ready, stop.

Children run in their own process group, so a Ctrl-C in the terminal reaches only the launcher,
which then stops each child once (a second SIGINT during a peer's shutdown would interrupt it).
On Linux each child also gets ``PR_SET_PDEATHSIG``: if the launcher is killed outright, its
peers get SIGTERM and stop what they started (the devnet) instead of living on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.demo.errors import DemoPeerError

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 45.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class PeerProcess:
    """One ``toktok --data-dir DIR run ARGS`` child."""

    def __init__(
        self,
        data_dir: Path,
        run_args: tuple[str, ...],
        env: Mapping[str, str],
        *,
        output: IO[str] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        """``output``: a file for the child's stdout and stderr; else its stdout is piped,
        each line passed to ``echo``, and stderr is inherited."""
        self.data_dir = data_dir
        self._argv = [sys.executable, "-m", "peer.cli", "--data-dir", str(data_dir), "run"]
        self._argv += list(run_args)
        self._env = dict(env)
        self._output = output
        self._echo = echo
        self.process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self.url: str | None = None
        self._url_seen = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    async def start(self, within_s: float = START_TIMEOUT_S) -> DaemonClient:
        """Start the peer; return a client of its API once it is ready."""
        piped = self._output is None
        self.process = await asyncio.create_subprocess_exec(
            *self._argv,
            env=self._env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if piped else self._output,
            stderr=None if piped else asyncio.subprocess.STDOUT,
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        if piped:
            self._pump = asyncio.create_task(self._read_stdout())
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise DemoPeerError(
                    f"the peer in {self.data_dir} exited with {self.process.returncode}"
                )
            creds = read_credentials(DataDir(self.data_dir))
            if creds is not None and creds.pid == self.process.pid and (self.url or not piped):
                self.url = creds.url
                return DaemonClient(creds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._url_seen.wait(), 0.2)
        raise DemoPeerError(f"the peer in {self.data_dir} did not start within {within_s:.0f} s")

    async def _read_stdout(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            text = line.decode(errors="replace")
            if self._echo is not None:
                self._echo(text)
            if text.startswith("http://127.0.0.1:"):
                self.url = text.strip()
                self._url_seen.set()

    def signal_stop(self, sig: int = signal.SIGINT) -> None:
        """Ask the peer to stop (what Ctrl-C would send it)."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    async def wait(self, within_s: float | None = STOP_TIMEOUT_S) -> int:
        """Wait for the peer to exit (killed after ``within_s``, if given); its exit code."""
        if self.process is None:
            return 0
        try:
            code = await asyncio.wait_for(self.process.wait(), within_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            code = await self.process.wait()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 5)
        return code

    async def stop(self) -> int:
        self.signal_stop()
        return await self.wait()
