"""The data dir: layout, single-owner lock and the running daemon's API credentials.

One process owns a data dir (ARCHITECTURE "Concurrency"). The owner holds an exclusive
``flock`` on ``daemon.lock`` for its whole life; the kernel releases it when the process dies, so
a crashed daemon never leaves a stale lock. A daemon additionally writes ``api.json`` (mode 0600):
the URL of its API, the CLI credential (``cli_token``) which CLI commands use to reach it, and the
browser session's cookie and secret (``cookie``, ``secret``) for scripts that read it. The browser
session itself is kept in ``session.json`` (0600) so that it outlives a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from peer.errors import DataDirError, DataDirLockedError

log = logging.getLogger(__name__)
LOCK_FILE = "daemon.lock"
API_FILE = "api.json"
SESSION_FILE = "session.json"


@dataclass(frozen=True)
class DataDir:
    """Paths of everything one peer keeps (ARCHITECTURE data-dir layout)."""

    root: Path

    @property
    def p2p(self) -> Path:
        return self.root / "p2p"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def wallet(self) -> Path:
        return self.root / "wallet"

    @property
    def devnet(self) -> Path:
        return self.root / "devnet"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tmp(self) -> Path:
        """Work files of the owner (transcodes, uploads); swept when ownership is taken."""
        return self.root / "tmp"

    @property
    def publish_journal(self) -> Path:
        """Pins of unfinished publishes (``storage.pinjournal``)."""
        return self.root / "publish-journal.json"

    @property
    def lock_file(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def api_file(self) -> Path:
        return self.root / API_FILE

    @property
    def session_file(self) -> Path:
        return self.root / SESSION_FILE

    def contains(self, path: Path) -> bool:
        """True when ``path``, with every symlink resolved, is the data dir or inside it, or is
        a hard link to one of its files (the content store aside: its blocks are content)."""
        root = self.root.resolve()
        target = Path(path).resolve()
        if target == root or target.is_relative_to(root):
            return True
        try:
            info = target.stat()
        except OSError:
            return False
        return info.st_nlink > 1 and (info.st_dev, info.st_ino) in self._private_inodes()

    def _private_inodes(self) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for folder, dirs, files in os.walk(self.root):
            if Path(folder) == self.root:
                dirs[:] = [d for d in dirs if d != self.store.name]
            for name in files:
                with contextlib.suppress(OSError):
                    info = os.stat(os.path.join(folder, name), follow_symlinks=False)
                    found.add((info.st_dev, info.st_ino))
        return found

    def ensure(self) -> None:
        """Create the data dir and its sub-folders, private to the user: an existing one whose
        mode lets others in (a 0777 folder made by hand) is set to 0700, ``mkdir`` alone would
        keep its mode."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private(self.root)
            for sub in (
                self.p2p,
                self.store,
                self.index,
                self.wallet,
                self.devnet,
                self.keys,
                self.logs,
            ):
                sub.mkdir(exist_ok=True, mode=0o700)
                _private(sub)
        except OSError as exc:
            raise DataDirError(f"cannot create data dir {self.root}: {exc.strerror}") from exc


def _private(folder: Path) -> None:
    """Take group and other permissions off ``folder`` (the owner's bits are kept)."""
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        folder.chmod(mode & 0o700)


class DataDirLock:
    """Exclusive ownership of a data dir; use as a context manager or acquire/release."""

    def __init__(self, data_dir: DataDir) -> None:
        self._data_dir = data_dir
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DataDirLockedError` naming the owner."""
        self._data_dir.ensure()
        path = self._data_dir.lock_file
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirLockedError(str(self._data_dir.root), read_owner_pid(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        sweep_tmp(self._data_dir)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def sweep_tmp(data_dir: DataDir) -> int:
    """Remove everything under ``<data>/tmp`` (call only as the owner: nobody else may be
    writing there). Work files of a process that died (transcodes, uploads) go; returns how many
    entries were removed."""
    removed = 0
    try:
        entries = list(data_dir.tmp.iterdir())
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise DataDirError(f"cannot list {data_dir.tmp}: {exc.strerror}") from exc
    for entry in entries:
        for child in list(entry.iterdir()) if entry.is_dir() and not entry.is_symlink() else []:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed += 1
        if not entry.is_dir() or entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %d work files an earlier run left in %s", removed, data_dir.tmp)
    return removed


def read_owner_pid(lock_file: Path) -> int | None:
    """The pid written by the lock's owner, if readable."""
    try:
        text = lock_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def is_locked(data_dir: DataDir) -> bool:
    """True when some process holds the data dir's lock (checked by trying to take it)."""
    if not data_dir.lock_file.exists():
        return False
    fd = os.open(data_dir.lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we may just have taken
    return False


@dataclass(frozen=True)
class ApiCredentials:
    """How to reach the running daemon: its URLs, the CLI credential (per launch) and the
    browser session's cookie and CSRF secret (kept for scripts that read ``api.json``)."""

    url: str
    content_url: str
    secret: str
    cookie: str
    cli_token: str
    pid: int

    @staticmethod
    def generate(url: str, content_url: str) -> ApiCredentials:
        return ApiCredentials(
            url=url,
            content_url=content_url,
            secret=secrets.token_urlsafe(32),
            cookie=secrets.token_urlsafe(32),
            cli_token=secrets.token_urlsafe(32),
            pid=os.getpid(),
        )


def write_credentials(data_dir: DataDir, creds: ApiCredentials) -> None:
    """Write ``api.json`` atomically with mode 0600."""
    path = data_dir.api_file
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(creds), fh)
    os.replace(tmp, path)


def read_credentials(data_dir: DataDir) -> ApiCredentials | None:
    """The running daemon's credentials, or None when no daemon owns the data dir."""
    if not is_locked(data_dir):
        return None
    try:
        raw = json.loads(data_dir.api_file.read_text())
        return ApiCredentials(**raw)
    except (OSError, ValueError, TypeError):
        return None


def remove_credentials(data_dir: DataDir) -> None:
    with contextlib.suppress(FileNotFoundError):
        data_dir.api_file.unlink()
