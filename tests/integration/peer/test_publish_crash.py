"""A publish killed at any stage (transcode, add, sign; probe runs its tool as transcode does)
leaves no debris: no ffmpeg running on, no work files, and no pin that no post references."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, StartDaemon, children_of, eventually, toktok

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from storage.media.samples import SampleSpec, make_sample
from tokens.devnet import dev_addresses

pytestmark = pytest.mark.integration
CREATOR = dev_addresses()[3]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(SampleSpec("clip", 180, 320, 1.0), tmp_path_factory.mktemp("clips"))


@pytest.fixture
def stopped() -> Iterator[list[int]]:
    """Pids the test SIGSTOPped: whatever is left of them is killed at the end."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running (a zombie or a missing process is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def child_named(parent: int, name: str) -> int | None:
    for pid in children_of(parent):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                return pid
        except OSError:
            continue
    return None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll fast (the stages of a 1 s clip are short): every 5 ms."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} not seen within {timeout} s"
        time.sleep(0.005)
    return found


def journal(data_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((data_dir / "publish-journal.json").read_text())["jobs"])
    except FileNotFoundError:
        return {}


def pins(data_dir: Path) -> list[str]:
    db = sqlite3.connect(f"file:{data_dir / 'store' / 'pins.sqlite'}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT cid FROM pins")]
    finally:
        db.close()


def work_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "tmp").rglob("*") if p.is_file())


def publish_in_process(data_dir: Path, clip: Path) -> subprocess.Popen[str]:
    """``toktok publish`` without a daemon: the media part runs in the CLI process."""
    return subprocess.Popen(
        toktok(data_dir, "publish", str(clip), "--title", "t", "--creator", CREATOR),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TOKTOK_CHAIN_MODE": "off"},
    )


def kill(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait(30)


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def test_a_publish_killed_at_any_stage_leaves_no_debris(
    start_daemon: StartDaemon, tmp_path: Path, clip: Path, stopped: list[int]
) -> None:
    data = tmp_path / "peer"

    # transcode: SIGKILL while ffmpeg runs (frozen, so the stage cannot pass); ffmpeg dies with
    # its parent and its work folder stays behind. ffprobe (the probe stage) is started by the
    # same run_tool with the same parent-death signal, and the probe stage leaves no work files
    # nor pins of its own: this kill covers it.
    cli = publish_in_process(data, clip)
    ffmpeg = wait_for(lambda: child_named(cli.pid, "ffmpeg"), "ffmpeg")
    os.kill(ffmpeg, signal.SIGSTOP)
    stopped.append(ffmpeg)
    kill(cli)
    eventually(lambda: not alive(ffmpeg), 5, "ffmpeg dying with its parent")
    assert list((data / "tmp" / "media").glob("transcode-*"))

    # add: hold the pin database's write lock from the transcode on, so the run stops at its
    # first pin (journalled, then waiting to be written); SIGKILL there
    cli = publish_in_process(data, clip)
    wait_for(lambda: child_named(cli.pid, "ffmpeg"), "ffmpeg")
    lock = sqlite3.connect(data / "store" / "pins.sqlite", isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        noted = wait_for(
            lambda: [e for e in journal(data).values() if e["pins"]], "a journalled pin"
        )
        kill(cli)
    finally:
        lock.close()
    assert noted[0]["result"] is None

    # The daemon's start sweeps tmp/ and releases the interrupted run's pins.
    env = {"TOKTOK_CHAIN_MODE": "devnet"}
    a = start_daemon(data, env=env)
    assert work_files(data) == []
    assert journal(data) == {}
    assert pins(data) == []

    # sign: anvil is frozen, so the job waits at the post; SIGKILL there
    anvil = int(json.loads((data / "devnet" / "endpoint.json").read_text())["pid"])
    os.kill(anvil, signal.SIGSTOP)
    stopped.append(anvil)
    job = client(a).post("/api/v1/publish/file", {"path": str(clip), "title": "t"})["job"]
    wait_for(lambda: client(a).get(f"/api/v1/publish/{job}")["stage"] == "sign", "sign stage")
    left = pins(data)
    a.process.kill()
    a.process.wait(30)
    os.kill(anvil, signal.SIGCONT)  # it ends: its parent is gone
    eventually(lambda: not alive(anvil), 30, "anvil stopping")
    assert len(left) >= 3, "the clip was pinned (renditions, poster, manifest)"

    a = start_daemon(data, env=env)
    assert pins(data) == [], "no post came of the killed publish: its pins are released"
    assert journal(data) == {}
    assert work_files(data) == []
    assert client(a).get("/api/v1/feed")["items"] == []
