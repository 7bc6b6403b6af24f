"""Where the daemon's log lines go: Toktok's own on the console, everything in a file.

The console (stderr) shows records of Toktok's packages (``peer``, ``storage``, ``tokens``,
``webui``) at ``peer.log_level``; a newcomer sees what the peer does, not the internals of
py-libp2p, web3 or aiohttp. Every record, ours and the libraries', goes at DEBUG to
``<data>/logs/toktok.log`` (rotated: 4 files of at most 10 MiB), where a bug report can find it,
except py-libp2p's DEBUG records, which are not even created: it emits about 130 of them per
request/response exchange on a session stream (310 with a stream per exchange), which cost
more CPU than the exchange itself (measured: 10 vs 3-4 ms of CPU per exchange, both hosts).
Call ``configure`` after py-libp2p is imported (its import resets its own logger).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Final

OWN_PACKAGES: Final = ("peer", "storage", "tokens", "webui")
LOG_FILE: Final = "toktok.log"
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES: Final = 10 * 1024 * 1024
BACKUPS: Final = 3
_MARK: Final = "_toktok_handler"


def is_own(name: str) -> bool:
    """Whether a logger name belongs to one of Toktok's packages."""
    return name.split(".", 1)[0] in OWN_PACKAGES


class TolerantFormatter(logging.Formatter):
    """Formats a record whose arguments do not fit its message with the raw text and arguments.

    py-libp2p 0.8.1's gossipsub logs its network health with a format string split so that
    part of it lands among the arguments (``TypeError: must be real number, not str``); the
    stock formatter raises, and logging prints a "--- Logging error ---" traceback on stderr at
    every such record, however the handler's level is set.
    """

    def format(self, record: logging.LogRecord) -> str:
        try:
            return super().format(record)
        except (TypeError, ValueError, KeyError):
            record.msg, record.args = f"{record.msg} [unformatted: {record.args!r}]", ()
            return super().format(record)


class OwnRecords(logging.Filter):
    """Passes Toktok's records only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return is_own(record.name)


def configure(level: str, log_dir: Path | None) -> Path | None:
    """Set up the root logger (replacing handlers a previous call added); returns the file."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()
    console = logging.StreamHandler()
    console.setLevel(level.upper())
    console.addFilter(OwnRecords())
    console.setFormatter(TolerantFormatter(FORMAT))
    setattr(console, _MARK, True)
    root.addHandler(console)
    path = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = log_dir / LOG_FILE
        file = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        file.setLevel(logging.DEBUG)
        file.setFormatter(TolerantFormatter(FORMAT))
        setattr(file, _MARK, True)
        root.addHandler(file)
    root.setLevel(logging.DEBUG if path is not None else level.upper())
    # py-libp2p's import cuts its logger off (no handler, no propagation), so its warnings
    # and tracebacks reached stderr through logging's last-resort handler; route it here.
    libp2p = logging.getLogger("libp2p")
    libp2p.propagate = True
    libp2p.setLevel(logging.INFO if path is not None else logging.NOTSET)
    return path
