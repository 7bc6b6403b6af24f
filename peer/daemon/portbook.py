"""Stable ports: the p2p, UI and content ports a peer picked stay its ports across restarts.

A port configured as 0 ("pick a free one") is picked by the kernel on the first start; once
bound it is stored in ``<data>/ports.json`` and asked for again on every later start, so an open
browser tab and a shared ``/ipfs/`` link keep working, peers that remember our address reach us,
and a router mapping stays valid. If the stored port is taken by another program, a new one is
picked (and stored) and :attr:`PortBook.notices` says so (shown by ``toktok status``). A port
set explicitly in config is used as it is and never stored.

File format::

    {"v": 1, "ports": {"p2p": 40123, "ui": 40124, "content": 40125}}
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import os
import re
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from storage import untrusted

log = logging.getLogger(__name__)
FILE_VERSION: Final = 1
MAX_FILE_BYTES: Final = 4096
NAMES: Final = ("p2p", "ui", "content")
LABELS: Final = {"p2p": "p2p", "ui": "web UI", "content": "content"}
_AUTO_TCP: Final = re.compile(r"^/(ip4|ip6)/([^/]+)/tcp/0(/.*)?$")
_TCP_PORT: Final = re.compile(r"/tcp/(\d+)")


def stable_listen_addrs(addrs: Sequence[str], book: PortBook) -> tuple[list[str], bool]:
    """``addrs`` with ``tcp/0`` replaced by the stored p2p port when it is free on every such
    host; and whether any address left the port to us."""
    auto = [m for m in map(_AUTO_TCP.match, addrs) if m is not None]
    if not auto:
        return list(addrs), False
    hosts = [m.group(2) for m in auto]
    port = book.pick("p2p", 0, hosts[0])
    if port and not all(port_is_free(h, port) for h in hosts[1:]):
        port = 0
    if not port:
        return list(addrs), True
    out = []
    for addr in addrs:
        m = _AUTO_TCP.match(addr)
        out.append(f"/{m.group(1)}/{m.group(2)}/tcp/{port}{m.group(3) or ''}" if m else addr)
    return out, True


def first_tcp_port(addrs: Sequence[str]) -> int | None:
    """The TCP port of the first address that has one."""
    for addr in addrs:
        m = _TCP_PORT.search(addr)
        if m:
            return int(m.group(1))
    return None


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (TCP), so we can bind it again.

    SO_REUSEADDR is set (as the servers set it): connections of our own previous run still in
    TIME_WAIT do not count as taken, a listening socket of another program does.
    """
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


class PortBook:
    """The stored ports of one data dir; pick before binding, :meth:`record` after."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stored = self._load()
        self.notices: list[str] = []
        """What changed since the last start (e.g. a stored port was taken)."""

    @property
    def stored(self) -> dict[str, int]:
        return dict(self._stored)

    def pick(self, name: str, configured: int, host: str = "127.0.0.1") -> int:
        """The port to bind for ``name``: ``configured`` when set, else the stored one if it
        is free, else 0 (a new free port; the notice says why)."""
        if configured:
            return configured
        stored = self._stored.get(name)
        if stored is None:
            return 0
        if port_is_free(host, stored):
            return stored
        self.notices.append(
            f"the {LABELS[name]} port {stored} is taken by another program; a new one was picked"
            + (" (reload open tabs at the new address)" if name == "ui" else "")
        )
        log.warning("%s", self.notices[-1])
        return 0

    def record(self, bound: dict[str, int], configured: dict[str, int]) -> None:
        """Remember the ports bound where config left the choice to us (atomic write)."""
        changed = False
        for name, port in bound.items():
            if not configured.get(name) and port and self._stored.get(name) != port:
                self._stored[name] = port
                changed = True
        if changed:
            self._save()

    def _load(self) -> dict[str, int]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("cannot read %s (%s); picking new ports", self._path, exc)
            return {}
        try:
            doc = untrusted.loads(raw, max_bytes=MAX_FILE_BYTES, what="port file")
            ports = doc["ports"] if isinstance(doc, dict) and doc.get("v") == FILE_VERSION else {}
            return {
                name: port
                for name, port in dict(ports).items()
                if name in NAMES and type(port) is int and 0 < port < 65536
            }
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s is unreadable (%s); picking new ports", self._path, exc)
            return {}

    def _save(self) -> None:
        data = json.dumps({"v": FILE_VERSION, "ports": self._stored}, sort_keys=True).encode()
        try:
            fd, tmp = tempfile.mkstemp(prefix=".ports-", suffix=".tmp", dir=self._path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self._path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # the ports still work this time; only the next start differs
            log.warning("cannot write %s: %s", self._path, exc)
