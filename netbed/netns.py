"""Thin wrappers of ``ip`` and ``tc``, and switching a thread into a network namespace.

Nothing here touches the root namespace's routes, links, firewall or sysctls: links are created
directly inside bed namespaces (``ip link add ... netns NS``), and every other command runs
inside one (``ip -n NS ...`` / ``ip netns exec NS ...``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from netbed.errors import BedUnavailableError, CommandError

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def available() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_SYS_ADMIN); this process is not root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"'{tool}' is missing (install the Debian package iproute2: scripts/setup)"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing (the delay line needs a TUN device)"
    return None


def require_available() -> None:
    reason = available()
    if reason:
        raise BedUnavailableError(reason)


def run(*argv: str, check: bool = True, input_text: str | None = None) -> str:
    """Run a command; its stdout, or :class:`CommandError` with its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, input=input_text, check=False)
    if check and done.returncode != 0:
        raise CommandError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def ip(ns: str, *args: str, check: bool = True) -> str:
    """``ip -n NS ARGS``."""
    return run("ip", "-n", ns, *args, check=check)


def ip_json(ns: str, *args: str) -> list[dict[str, Any]]:
    out = ip(ns, "-j", *args)
    return list(json.loads(out)) if out.strip() else []


def in_ns(ns: str, *argv: str) -> list[str]:
    """The argv that runs ``argv`` inside namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *argv]


def sysctl(ns: str, key: str, value: str) -> None:
    """Set a sysctl inside ``ns`` (never in the root namespace)."""
    run(*in_ns(ns, "sysctl", "-q", "-w", f"{key}={value}"))


def namespaces() -> list[str]:
    """Names of the named network namespaces (``/run/netns``)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir())


def add_namespace(ns: str) -> None:
    """A new namespace with its loopback up and IPv6 off (the bed is IPv4 only)."""
    run("ip", "netns", "add", ns)
    for scope in ("all", "default"):
        sysctl(ns, f"net.ipv6.conf.{scope}.disable_ipv6", "1")
    ip(ns, "link", "set", "lo", "up")


def delete_namespace(ns: str) -> None:
    run("ip", "netns", "del", ns, check=False)


def pids_in(ns: str) -> list[int]:
    """Pids of the processes whose network namespace is ``ns``."""
    out = run("ip", "netns", "pids", ns, check=False)
    return [int(p) for p in out.split()]


def inode_of(ns: str) -> int:
    return (NETNS_DIR / ns).stat().st_ino


def pids_with_netns_inode(inode: int) -> list[int]:
    """Pids of live processes in the network namespace with that inode (even if unnamed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "ns" / "net").stat().st_ino == inode:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise CommandError(f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def entered(ns: str) -> Iterator[None]:
    """Run the body with the calling THREAD in namespace ``ns`` (sockets it opens live there);
    the thread's own namespace comes back on exit. Other threads are not affected."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(NETNS_DIR / ns, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)
