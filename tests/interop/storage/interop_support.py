"""Drives the Helia node script (``helia_node.mjs``) as a subprocess over JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
HELIA_SCRIPT = HERE / "helia_node.mjs"


def node22() -> Path:
    """The Node >= 22 binary from node_modules (Helia needs it); a clear failure if absent."""
    binary = ROOT / "node_modules" / ".bin" / "node"
    if not binary.exists() or not (ROOT / "node_modules" / "helia").is_dir():
        raise AssertionError(
            "Node 22 / Helia are not installed in node_modules: run scripts/setup "
            "(it runs 'npm ci' from the root package-lock.json)"
        )
    return binary


class HeliaProcess:
    """A running Helia node; ``call`` sends one command and returns its JSON answer."""

    def __init__(self, node: Path) -> None:
        self._node = node
        self._proc: asyncio.subprocess.Process | None = None
        self.peer_id = ""
        self.addrs: list[str] = []

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            str(self._node),
            str(HELIA_SCRIPT),
            cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        hello = await self._line(60)
        self.peer_id, self.addrs = hello["peerId"], hello["addrs"]

    async def call(self, timeout: float = 120, **request: Any) -> dict[str, Any]:  # noqa: ASYNC109
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request).encode() + b"\n")
        await self._proc.stdin.drain()
        answer = await self._line(timeout)
        if "error" in answer:
            raise AssertionError(f"helia {request.get('cmd')} failed: {answer['error']}")
        return answer

    async def _line(self, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        if not line:
            err = b""
            if self._proc.stderr is not None:
                err = await self._proc.stderr.read()
            raise AssertionError(f"helia exited: {err.decode(errors='replace')[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.write(b'{"cmd":"stop"}\n')
                await proc.stdin.drain()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
