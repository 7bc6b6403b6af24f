"""A write-ahead journal of the pins unfinished jobs make (``<data>/publish-journal.json``).

A job (one publish) is *begun*, each pin it is about to create is *noted* before the pin is
made, its result (the manifest CID) is *recorded*, and the job is *ended* once its outcome is
safe (the post is stored, or the pins were released). A job still in the journal when its
owner starts again was interrupted (SIGKILL, power loss): the owner then releases its noted
pins unless the outcome came of it after all. Pins that existed before the job are never
noted, so releasing never takes away a pin someone else made.

Every change is written atomically (temporary file, fsync, rename, fsync of the folder) before
the call returns; the methods block: call them from a worker thread. An unreadable file is
moved aside to ``publish-journal.json.corrupt`` and the journal starts empty (its pins are then
kept, never wrongly released).

File format::

    {"v": 1, "jobs": {"<job id>": {"pins": ["bafy..."], "result": "bafy..." | null}}}
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from storage import untrusted
from storage.errors import StoreIOError

FILE_VERSION: Final = 1
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
"""Far above any real journal (a few jobs of a few CIDs); a bigger file is unreadable."""
logger = logging.getLogger(__name__)


@dataclass
class JournalEntry:
    """What one unfinished job pinned so far."""

    pins: list[str] = field(default_factory=list)
    result: str | None = None


class PinJournal:
    """The journal file of one data dir (one owner at a time)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._jobs: dict[str, JournalEntry] = self._load()

    @property
    def path(self) -> Path:
        return self._path

    def pending(self) -> dict[str, JournalEntry]:
        """Jobs begun and not ended (after a restart: the interrupted ones)."""
        with self._lock:
            return {job: JournalEntry(list(e.pins), e.result) for job, e in self._jobs.items()}

    def begin(self, job: str) -> None:
        with self._lock:
            self._jobs.setdefault(job, JournalEntry())
            self._save()

    def note(self, job: str, cid: str) -> None:
        """``job`` is about to create a pin on ``cid`` (call before pinning)."""
        with self._lock:
            entry = self._jobs.setdefault(job, JournalEntry())
            if cid not in entry.pins:
                entry.pins.append(cid)
                self._save()

    def record_result(self, job: str, cid: str) -> None:
        """``job`` produced ``cid`` (e.g. the manifest a post will name)."""
        with self._lock:
            self._jobs.setdefault(job, JournalEntry()).result = cid
            self._save()

    def end(self, job: str) -> None:
        with self._lock:
            if self._jobs.pop(job, None) is not None:
                self._save()

    def _load(self) -> dict[str, JournalEntry]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreIOError(f"cannot read the pin journal {self._path}: {exc}") from exc
        try:
            doc = untrusted.loads(raw, max_bytes=MAX_FILE_BYTES, what="pin journal")
            if not isinstance(doc, dict) or doc.get("v") != FILE_VERSION:
                raise ValueError("not a version 1 journal")
            return {str(job): _entry(item) for job, item in dict(doc["jobs"]).items()}
        except (ValueError, KeyError, TypeError) as exc:
            # a cache of intents, like the peer book: a broken one must not stop the peer
            # (the pins it named are then kept, never wrongly released)
            aside = self._path.with_name(self._path.name + ".corrupt")
            logger.warning("pin journal %s is unreadable (%s); moved to %s", self._path, exc, aside)
            try:
                os.replace(self._path, aside)
            except OSError as move_exc:
                raise StoreIOError(
                    f"cannot move the broken {self._path} aside: {move_exc}"
                ) from exc
            return {}

    def _save(self) -> None:
        doc: dict[str, Any] = {
            "v": FILE_VERSION,
            "jobs": {job: {"pins": e.pins, "result": e.result} for job, e in self._jobs.items()},
        }
        folder = self._path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".journal-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(json.dumps(doc, sort_keys=True).encode())
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self._path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise StoreIOError(f"cannot write the pin journal {self._path}: {exc}") from exc


def _entry(item: object) -> JournalEntry:
    if not isinstance(item, dict):
        raise TypeError("a job entry must be an object")
    pins, result = item.get("pins"), item.get("result")
    if not isinstance(pins, list) or not all(isinstance(p, str) for p in pins):
        raise TypeError("pins must be a list of CID strings")
    if result is not None and not isinstance(result, str):
        raise TypeError("result must be a CID string or null")
    return JournalEntry(list(pins), result)
