"""Data-dir lock and API credentials."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from peer.datadir import (
    ApiCredentials,
    DataDir,
    DataDirLock,
    is_locked,
    read_credentials,
    write_credentials,
)
from peer.errors import DataDirLockedError

HOLD_LOCK = """
import sys, time
from pathlib import Path
from peer.datadir import DataDir, DataDirLock
lock = DataDirLock(DataDir(Path(sys.argv[1])))
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "peer")
    with DataDirLock(data):
        assert is_locked(data)
        with pytest.raises(DataDirLockedError) as excinfo:
            DataDirLock(data).acquire()
        assert excinfo.value.pid == os.getpid()
    assert not is_locked(data)
    DataDirLock(data).acquire()  # free again after release


def test_lock_held_by_another_process_is_refused_and_freed_when_it_dies(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "peer")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirLockedError, match=f"process {holder.pid}"):
            DataDirLock(data).acquire()
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL leaves the lock file behind but the kernel released the lock itself.
    assert data.lock_file.exists()
    with DataDirLock(data):
        pass


def test_ensure_creates_private_layout(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "peer")
    data.ensure()
    for sub in ("p2p", "store", "index", "wallet", "devnet", "keys", "logs"):
        assert (data.root / sub).is_dir()
    assert stat.S_IMODE(data.root.stat().st_mode) == 0o700


def test_credentials_are_private_and_only_visible_while_the_owner_runs(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "peer")
    creds = ApiCredentials.generate("http://127.0.0.1:1/", "http://127.0.0.1:2/")
    with DataDirLock(data):
        write_credentials(data, creds)
        assert stat.S_IMODE(data.api_file.stat().st_mode) == 0o600
        assert read_credentials(data) == creds
    # A leftover file of a dead daemon is not trusted.
    assert read_credentials(data) is None


def test_taking_ownership_sweeps_work_files_an_earlier_owner_left(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    data.ensure()
    (data.tmp / "media" / "transcode-abc").mkdir(parents=True)
    (data.tmp / "media" / "transcode-abc" / "r0.mp4").write_bytes(b"x" * 10)
    (data.tmp / "uploads").mkdir()
    (data.tmp / "uploads" / "clip.mp4").write_bytes(b"y")
    (data.tmp / "stray").write_bytes(b"z")
    outside = tmp_path / "keep.txt"
    outside.write_text("not ours to delete")
    (data.tmp / "media" / "link").symlink_to(outside)

    lock = DataDirLock(data)
    lock.acquire()
    try:
        assert sorted(p.name for p in data.tmp.rglob("*")) == ["media", "uploads"]
        assert outside.read_text() == "not ours to delete"
    finally:
        lock.release()


def test_a_data_dir_that_is_owned_elsewhere_is_not_swept(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    data.ensure()
    with DataDirLock(data):
        (data.tmp / "media").mkdir(parents=True)
        (data.tmp / "media" / "busy").write_bytes(b"in use")
        with pytest.raises(DataDirLockedError):
            DataDirLock(data).acquire()
        assert (data.tmp / "media" / "busy").exists()
