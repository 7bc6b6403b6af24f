"""Drives the Helia node script (``helia_node.mjs``) as a subprocess over JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from support.tools import tool_missing

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "interop" / "storage"  # the Node scripts and the js-ipfs fixture
HELIA_SCRIPT = HERE / "helia_node.mjs"


def node22() -> Path:
    """The Node >= 22 binary from node_modules (Helia needs it); ``tool_missing`` if absent."""
    binary = ROOT / "node_modules" / ".bin" / "node"
    if not binary.exists() or not (ROOT / "node_modules" / "helia").is_dir():
        tool_missing(
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


JSIPFS = HERE / "jsipfs"


def jsipfs_cache_root() -> Path:
    """Where installed js-ipfs fixture trees are kept, one per lockfile hash, for every checkout of
    this machine: ``$XDG_CACHE_HOME/toktok`` (``~/.cache/toktok``), or ``$TOKTOK_TEST_CACHE``."""
    explicit = os.environ.get("TOKTOK_TEST_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "toktok"


def _installed(modules: Path, want: str) -> bool:
    stamp = modules / ".toktok-installed"
    return (modules / ".bin" / "jsipfs").exists() and stamp.exists() and stamp.read_text() == want


def ensure_jsipfs() -> Path:
    """The js-ipfs CLI of the fixture folder; its ``node_modules`` is installed once per lockfile.

    The install (~1000 packages, 3-4 min on a loaded machine, most of it waiting on the registry)
    goes to ``jsipfs_cache_root()/jsipfs-<hash of package.json and package-lock.json>`` and the
    fixture's ``node_modules`` is a symlink to it, so a fresh clone on the same machine (CI's)
    reuses it; a changed lockfile gets a new tree, as a CI cache keyed by the lockfile would.

    ``npm install`` with the committed lockfile, not ``npm ci``: js-ipfs 0.66 pulls the optional
    ``wrtc``, whose dependency ``headless`` is a GitHub tarball that the lockfile cannot record,
    so ``npm ci`` refuses the tree on a clean clone; ``npm install`` keeps the locked versions
    and skips that optional package.
    """
    local = JSIPFS / "node_modules"
    want = hashlib.sha256(
        (JSIPFS / "package.json").read_bytes() + (JSIPFS / "package-lock.json").read_bytes()
    ).hexdigest()
    if _installed(local, want):
        return local / ".bin" / "jsipfs"
    npm = shutil.which("npm")
    if npm is None:
        tool_missing("npm is not installed: run scripts/setup (installs Node and npm)")
    cached = jsipfs_cache_root() / f"jsipfs-{want[:16]}"
    cached.mkdir(parents=True, exist_ok=True)
    with (cached.parent / "jsipfs-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(cached / "node_modules", want):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(JSIPFS / name, cached / name)
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--no-save"],
                cwd=cached,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if done.returncode != 0:
                raise AssertionError(
                    f"npm install of the js-ipfs fixture failed:\n{done.stderr[-3000:]}"
                )
            (cached / "node_modules" / ".toktok-installed").write_text(want)
        if local.is_symlink() or local.is_file():
            local.unlink()
        elif local.is_dir():
            shutil.rmtree(local)
        local.symlink_to(cached / "node_modules", target_is_directory=True)
    return local / ".bin" / "jsipfs"


def prefetch_jsipfs() -> threading.Thread:
    """Start ``ensure_jsipfs`` in a background thread and return it.

    The suite calls this once collection shows a test that needs the js-ipfs daemon: on a
    machine without the cached tree (CI's first run) the install, mostly waiting on the
    registry, then overlaps the tests that run before the interop folder instead of adding to
    the suite's time. The fixture still calls ``ensure_jsipfs`` itself: the install lock makes
    it wait for this thread, and if the thread failed it retries and reports the failure there.
    """

    def install() -> None:
        with contextlib.suppress(BaseException):  # the fixture's own call reports any failure
            ensure_jsipfs()

    thread = threading.Thread(target=install, name="jsipfs-prefetch", daemon=True)
    thread.start()
    return thread


class JsIpfsDaemon:
    """A js-ipfs daemon (Kubo-compatible RPC API) on loopback with an empty repo (sync API,
    so a session-scoped fixture can own it)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.api = ""
        self.swarm = ""
        self._proc: subprocess.Popen[str] | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["IPFS_PATH"] = str(self.repo)
        env["NODE_OPTIONS"] = f"--import {JSIPFS / 'polyfill.mjs'}"
        return env

    def start(self) -> None:
        cli = ensure_jsipfs()
        node = shutil.which("node")
        if node is None:
            tool_missing("node is not installed: run scripts/setup")
        init = subprocess.run(
            [node, str(cli), "init", "--profile", "test", "--empty-repo"],
            env=self._env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if init.returncode != 0:
            raise AssertionError(f"jsipfs init failed: {init.stdout}{init.stderr}")
        config_path = self.repo / "config"
        config = json.loads(config_path.read_text())
        config["Addresses"].update(
            Swarm=["/ip4/127.0.0.1/tcp/0"],
            API="/ip4/127.0.0.1/tcp/0",
            Gateway="/ip4/127.0.0.1/tcp/0",
            RPC="/ip4/127.0.0.1/tcp/0",
            Delegates=[],
        )
        config["Bootstrap"] = []
        config["Discovery"] = {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}}
        config_path.write_text(json.dumps(config, indent=2))
        self._proc = subprocess.Popen(
            [node, str(JSIPFS / "daemon.mjs")],
            env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        log: list[str] = []
        for line in self._proc.stdout:  # js-ipfs prints its addresses, then "Daemon is ready"
            log.append(line)
            if line.startswith("Swarm listening on") and not self.swarm:
                self.swarm = line.split()[-1]
            if line.startswith("Daemon is ready"):
                break
        else:
            raise AssertionError("js-ipfs daemon exited:\n" + "".join(log))
        self.api = (self.repo / "api").read_text().strip()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdout is not None:
            for _ in proc.stdout:
                pass

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
