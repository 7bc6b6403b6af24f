"""The peer book: good peers (connected and answered sync), kept in ``<data>/p2p/peers.json``.

The sync service records a peer here after it answered a heads exchange, and redials the book's
peers at start and, while they stay unreachable, with exponential backoff
(``backoff_base_s * 2**failures``, capped at ``backoff_max_s``). Each address counts its failed
redials in a row; one that failed ``max_addr_failures`` times is dropped (a peer that restarted on
a new port leaves its old address behind; the new one comes with its next good sync). Writes are
atomic (temporary file in the same folder, fsync, rename). An unreadable file is moved aside to
``peers.json.corrupt`` (kept for inspection) and the book starts empty: the book is a cache, a
broken one must not stop the daemon. At most ``max_peers`` entries are kept (the longest unseen
go first).

File format::

    {"v": 1, "peers": [{"peer": "12D3Koo...", "addrs": ["/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo..."],
                        "last_good": 1764460800.0, "failures": 0, "next_dial": 0.0,
                        "addr_failures": [0]}]}

(``addr_failures``, one count per address, may be absent: all zero.)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from peer.sync.errors import PeerBookError
from storage import untrusted

logger = logging.getLogger(__name__)

FILE_VERSION: Final = 1
MAX_ADDRS: Final = 8
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
"""Refuse a larger peer book file (200 peers of 8 addresses take about 200 KB)."""


@dataclass(frozen=True, slots=True)
class PeerBookOptions:
    """Settings of the peer book."""

    path: Path
    """The JSON file, normally ``<data>/p2p/peers.json``."""
    max_peers: int = 200
    """Most peers remembered; the ones seen longest ago are dropped first."""
    backoff_base_s: float = 5.0
    """Wait after the first failed redial (seconds); doubles with each further failure."""
    backoff_max_s: float = 3600.0
    """Longest wait between redials of an unreachable peer (seconds)."""
    max_addr_failures: int = 5
    """Failed redials in a row after which an address is dropped from the book."""


@dataclass(frozen=True, slots=True)
class PeerEntry:
    """One remembered peer."""

    peer: str
    addrs: tuple[str, ...]
    """Full multiaddrs, each ending in ``/p2p/<peer>``."""
    last_good: float
    """When it last answered sync (Unix seconds)."""
    failures: int = 0
    """Failed redials in a row."""
    next_dial: float = 0.0
    """Not redialled before this time (Unix seconds)."""
    addr_failures: tuple[int, ...] = ()
    """Failed redials in a row of each address (same order as ``addrs``; empty: none)."""

    def failures_of(self, addr: str) -> int:
        if addr not in self.addrs or not self.addr_failures:
            return 0
        return self.addr_failures[self.addrs.index(addr)]


def full_addr(addr: str, peer: str) -> str:
    """``addr`` ending in ``/p2p/<peer>`` (appended when missing)."""
    return addr if "/p2p/" in addr else f"{addr.rstrip('/')}/p2p/{peer}"


class PeerBook:
    """Good peers of this data dir. ``load()`` once, then note and ``save()``."""

    def __init__(self, options: PeerBookOptions) -> None:
        self._options = options
        self._peers: dict[str, PeerEntry] = {}

    @property
    def path(self) -> Path:
        return self._options.path

    def entries(self) -> list[PeerEntry]:
        """Every remembered peer, most recently good first."""
        return sorted(self._peers.values(), key=lambda e: (-e.last_good, e.peer))

    def get(self, peer: str) -> PeerEntry | None:
        return self._peers.get(peer)

    def load(self) -> None:
        """Read the file (a missing file is an empty book; a broken one is moved aside)."""
        path = self._options.path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self._peers = {}
            return
        except OSError as exc:
            raise PeerBookError(f"cannot read {path}: {exc}") from exc
        try:
            self._peers = _parse(raw)
        except ValueError as exc:
            aside = path.with_name(path.name + ".corrupt")
            logger.warning("peer book %s is unreadable (%s); moved to %s", path, exc, aside)
            try:
                os.replace(path, aside)
            except OSError as move_exc:
                raise PeerBookError(f"cannot move the broken {path} aside: {move_exc}") from exc
            self._peers = {}
        self._trim()

    def save(self) -> None:
        """Write the book atomically (blocking: call it from a worker thread)."""
        path = self._options.path
        data = json.dumps(
            {"v": FILE_VERSION, "peers": [_entry_json(e) for e in self.entries()]},
            indent=1,
        ).encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".peers-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise PeerBookError(f"cannot write {path}: {exc}") from exc

    def note_good(self, peer: str, addrs: tuple[str, ...], now: float) -> bool:
        """``peer`` answered sync; True if the file content changed beyond the timestamp."""
        full = tuple(dict.fromkeys(full_addr(a, peer) for a in addrs))[:MAX_ADDRS]
        old = self._peers.get(peer)
        if old is None:
            self._peers[peer] = PeerEntry(peer, full, now)
            self._trim()
            return True
        keep = full or old.addrs
        self._peers[peer] = PeerEntry(peer, keep, now)
        return keep != old.addrs or old.failures != 0

    def note_failure(self, peer: str, now: float) -> PeerEntry | None:
        """A redial of ``peer`` failed: back off exponentially. Returns the new entry."""
        old = self._peers.get(peer)
        if old is None:
            return None
        failures = old.failures + 1
        wait = min(
            self._options.backoff_base_s * 2 ** min(failures - 1, 60), self._options.backoff_max_s
        )
        entry = replace(old, failures=failures, next_dial=now + wait)
        self._peers[peer] = entry
        return entry

    def note_addr_failure(self, peer: str, addr: str) -> PeerEntry | None:
        """A redial of ``peer`` at ``addr`` failed; after ``max_addr_failures`` in a row the
        address is dropped. Returns the new entry (None for an unknown peer or address)."""
        old = self._peers.get(peer)
        if old is None or addr not in old.addrs:
            return None
        counts = list(old.addr_failures or (0,) * len(old.addrs))
        index = old.addrs.index(addr)
        counts[index] += 1
        addrs = list(old.addrs)
        if counts[index] >= self._options.max_addr_failures:
            logger.info("peer book: dropping %s, unreachable %d times", addr, counts[index])
            del addrs[index], counts[index]
        entry = replace(old, addrs=tuple(addrs), addr_failures=tuple(counts))
        self._peers[peer] = entry
        return entry

    def note_addr_ok(self, peer: str, addr: str) -> None:
        """A redial of ``peer`` at ``addr`` succeeded: its count starts again."""
        old = self._peers.get(peer)
        if old is None or not old.failures_of(addr):
            return
        counts = list(old.addr_failures)
        counts[old.addrs.index(addr)] = 0
        self._peers[peer] = replace(old, addr_failures=tuple(counts))

    def due(self, now: float, connected: set[str]) -> list[PeerEntry]:
        """Peers to redial now: not connected, with addresses, past their backoff."""
        return [
            e for e in self.entries() if e.peer not in connected and e.addrs and e.next_dial <= now
        ]

    def _trim(self) -> None:
        extra = len(self._peers) - self._options.max_peers
        if extra > 0:
            for entry in sorted(self._peers.values(), key=lambda e: (e.last_good, e.peer))[:extra]:
                del self._peers[entry.peer]


def _entry_json(entry: PeerEntry) -> dict[str, Any]:
    out = asdict(entry)
    out["addrs"] = list(entry.addrs)
    out["addr_failures"] = list(entry.addr_failures or (0,) * len(entry.addrs))
    return out


def _parse(raw: bytes) -> dict[str, PeerEntry]:
    try:
        obj = untrusted.loads(raw, max_bytes=MAX_FILE_BYTES, what="peer book")
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("v") != FILE_VERSION:
        raise ValueError("not a version 1 peer book")
    items = obj.get("peers")
    if not isinstance(items, list):
        raise ValueError("peers must be a list")
    peers: dict[str, PeerEntry] = {}
    for item in items:
        entry = _parse_entry(item)
        if entry is not None:
            peers[entry.peer] = entry
    return peers


def _parse_entry(item: object) -> PeerEntry | None:
    """One entry, or None if it is malformed (skipped, the others are kept)."""
    if not isinstance(item, dict):
        return None
    peer, addrs = item.get("peer"), item.get("addrs")
    numbers = [item.get(k) for k in ("last_good", "next_dial")]
    failures = item.get("failures")
    if (
        not isinstance(peer, str)
        or not peer
        or not isinstance(addrs, list)
        or not all(isinstance(a, str) and a.endswith("/p2p/" + peer) for a in addrs)
        or not all(type(n) in (int, float) for n in numbers)
        or type(failures) is not int
        or failures < 0
    ):
        return None
    counts = item.get("addr_failures", [0] * len(addrs))
    if (
        not isinstance(counts, list)
        or len(counts) != len(addrs)
        or not all(type(c) is int and c >= 0 for c in counts)
    ):
        counts = [0] * len(addrs)  # a count is a hint: never worth losing the entry
    last_good, next_dial = (float(n) for n in numbers)  # type: ignore[arg-type]
    kept = addrs[:MAX_ADDRS]
    return PeerEntry(peer, tuple(kept), last_good, failures, next_dial, tuple(counts[: len(kept)]))
