"""Run ffmpeg / ffprobe safely: argument lists, a wall-clock timeout, hardened inputs.

Every invocation built here:

* passes an argument list to ``exec`` (no shell); the input is always ``file:<absolute path>``,
  so a name starting with ``-`` or containing ``:`` is never read as an option or a protocol;
* names the demuxer explicitly (``-f`` from :class:`~storage.media.sniff.Container`), never lets
  ffmpeg guess the format, and sets ``-protocol_whitelist file`` so no playlist, reference or
  side file can make ffmpeg open a network URL; MP4 external data references stay disabled
  (``-enable_drefs 0``);
* bounds ``-probesize`` / ``-analyzeduration`` and the largest single allocation
  (``-max_alloc``);
* runs with stdin closed, a minimal environment (no proxy variables), in its own session, and is
  killed when its timeout elapses or the calling task is cancelled;
* gets SIGKILL from the kernel when the process that started it dies, even by SIGKILL
  (Linux ``PR_SET_PDEATHSIG``, set between fork and exec), so a crashed peer leaves no ffmpeg
  running. The signal follows the *thread* that forked: asyncio forks from the event loop's
  thread, which lives as long as the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from storage.media.errors import ToolError, ToolMissing, ToolTimeout
from storage.media.sniff import Container

_STDERR_KEEP: Final = 16 * 1024
_PR_SET_PDEATHSIG: Final = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGKILL when ``parent`` dies (Linux; no-op elsewhere).

    libc is loaded in the parent, so the child makes one C call between fork and exec. If the
    parent died before the call took effect the child is already orphaned: it exits at once.
    """

    def setup() -> None:
        if _LIBC is None:
            return
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return setup


@dataclass(frozen=True, slots=True)
class ToolOptions:
    """Where ffmpeg lives and how far an input may be inspected."""

    ffmpeg: str = "ffmpeg"
    """ffmpeg executable (name looked up on PATH, or a path)."""
    ffprobe: str = "ffprobe"
    """ffprobe executable (name looked up on PATH, or a path)."""
    probesize: int = 5_000_000
    """Bytes ffmpeg may read to detect stream parameters (``-probesize``)."""
    analyzeduration_us: int = 5_000_000
    """Microseconds of media analysed to detect stream parameters (``-analyzeduration``)."""
    max_alloc: int = 512 * 1024 * 1024
    """Largest single heap allocation ffmpeg may make (``-max_alloc``), bytes."""


@dataclass(frozen=True, slots=True)
class ToolRun:
    """The outcome of one finished ffmpeg / ffprobe process."""

    returncode: int
    stdout: bytes
    stderr_tail: str
    """The last few KiB of stderr, for diagnostics (never shown to users verbatim)."""


def input_url(path: Path) -> str:
    """The URL ffmpeg gets for a local file: ``file:`` plus the absolute path."""
    return "file:" + str(Path(os.path.abspath(path)))


def global_args(options: ToolOptions) -> list[str]:
    """Options every ffmpeg / ffprobe run starts with (ffmpeg also gets ``-nostdin``)."""
    return ["-hide_banner", "-loglevel", "error", "-max_alloc", str(options.max_alloc)]


def demuxer_options(container: Container, options: ToolOptions) -> dict[str, str | int]:
    """Per-input options (before ``-i``) that pin the demuxer and bound what it may do."""
    opts: dict[str, str | int] = {
        "f": container.value,
        "protocol_whitelist": "file",
        "probesize": options.probesize,
        "analyzeduration": options.analyzeduration_us,
    }
    if container is Container.MP4:
        opts["enable_drefs"] = 0
    return opts


def ffprobe_argv(path: Path, container: Container, options: ToolOptions) -> list[str]:
    """The ffprobe command that reports ``path``'s format and streams as JSON."""
    argv = [options.ffprobe, *global_args(options)]
    for key, value in demuxer_options(container, options).items():
        argv += [f"-{key}", str(value)]
    argv += ["-print_format", "json", "-show_format", "-show_streams", "-i", input_url(path)]
    return argv


def _tool_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    # ffmpeg reads fontconfig/XDG dirs for some filters; a home dir avoids warnings, nothing more.
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


async def run_tool(
    argv: list[str],
    *,
    timeout_s: float,
    on_stdout_line: Callable[[bytes], None] | None = None,
    max_stdout: int = 16 * 1024 * 1024,
) -> ToolRun:
    """Run ``argv`` and wait for it; kill it on timeout (:class:`ToolTimeout`) or cancellation.

    With ``on_stdout_line`` set, stdout is delivered line by line and not collected; otherwise
    at most ``max_stdout`` bytes are collected (more is a :class:`ToolError`, e.g. a file that
    declares thousands of streams).
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_tool_env(),
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"{argv[0]} is not installed; install ffmpeg (it provides both)") from exc
    except PermissionError as exc:
        raise ToolMissing(f"{argv[0]} is not executable; check the ffmpeg installation") from exc
    stdout_chunks: list[bytes] = []
    stderr_buf = bytearray()

    async def pump_stdout() -> None:
        assert proc.stdout is not None
        if on_stdout_line is None:
            size = 0
            while chunk := await proc.stdout.read(65536):
                size += len(chunk)
                if size > max_stdout:
                    raise ToolError(f"{Path(argv[0]).name} produced more output than expected")
                stdout_chunks.append(chunk)
            return
        while line := await proc.stdout.readline():
            on_stdout_line(line)

    async def pump_stderr() -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(4096):
            stderr_buf.extend(chunk)
            del stderr_buf[:-_STDERR_KEEP]

    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(pump_stdout(), pump_stderr())
            returncode = await proc.wait()
    except TimeoutError as exc:
        await _kill(proc)
        raise ToolTimeout(
            f"{Path(argv[0]).name} did not finish within {timeout_s:g} s and was stopped"
        ) from exc
    except BaseException:
        await _kill(proc)
        raise
    return ToolRun(
        returncode=returncode,
        stdout=b"".join(stdout_chunks),
        stderr_tail=stderr_buf.decode("utf-8", "replace"),
    )


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    # Reap it even if our own task is being cancelled, so no zombie and no open pipe remains.
    await asyncio.shield(proc.wait())
