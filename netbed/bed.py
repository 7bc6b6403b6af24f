"""The bed: hosts in their own network namespaces, joined by veth pairs to a backbone namespace
that routes between them through the delay line.

    host "a" (tb<run>-a) eth0 198.18.0.6/30 ──veth── h1 198.18.0.5 ┐
    host "b" (tb<run>-b) eth0 198.18.0.10/30 ─veth── h2 198.18.0.9 ┼ backbone (tb<run>-bb)
    ...                                                            ┘   └ dl0: the delay line

Each host has one route, 198.18.0.0/15 via its backbone address, and no default route. In the
backbone, packets arriving on a host link go (policy routing, table 100) into the delay line's
TUN; packets coming back out of the TUN are routed to the receiver's link. Bandwidth caps are
``tbf`` qdiscs on both ends of a host's link. Partitions are ``blackhole`` rules in the
backbone, ahead of everything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from netbed import isolation, netns, registry
from netbed.addressing import BED_NET, backbone_address, host_address, require_bed_address
from netbed.errors import BedError

REPO = Path(__file__).resolve().parents[1]
HOST_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
TUN = "dl0"
DELAY_TABLE = "100"
RULE_PRIORITY_PARTITION = 100
RULE_PRIORITY_DELAY = 1000
READY_TIMEOUT_S = 20.0


@dataclass
class LinkSpec:
    """One host's access link, each way: ``latency_ms`` ± ``jitter_ms``, ``loss`` (0..1) and an
    optional bandwidth cap."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    rate_mbit: float | None = None

    def validate(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise BedError("latency_ms and jitter_ms must be >= 0")
        if self.jitter_ms > self.latency_ms:
            raise BedError("jitter_ms must not exceed latency_ms")
        if not 0 <= self.loss < 1:
            raise BedError("loss is a fraction in [0, 1)")
        if self.rate_mbit is not None and self.rate_mbit <= 0:
            raise BedError("rate_mbit must be > 0")


class Host:
    """One machine of the bed: a namespace with one address."""

    def __init__(self, bed: Bed, name: str, index: int, link: LinkSpec) -> None:
        self.bed = bed
        self.name = name
        self.index = index
        self.link = link
        self.ns = f"tb{bed.run_id}-{name}"
        self.address = str(host_address(index))
        self.wan_address = self.address  # what the backbone sees (a router's, behind a NAT)
        self.gateway = str(backbone_address(index))
        self.backbone_dev = f"h{index}"
        self.dir = bed.workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Host({self.name!r}, {self.address})"

    def exec(
        self, *argv: str, check: bool = True, timeout: float = 120, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside this host's namespace and wait for it."""
        self.bed.check_isolation()
        return subprocess.run(
            netns.in_ns(self.ns, *argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
            check=check,
        )

    def popen(
        self,
        argv: list[str],
        *,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        stdin: int | None = subprocess.DEVNULL,
        stdout: int | IO[Any] | None = None,
    ) -> subprocess.Popen[str]:
        """Start a long-running process inside this host's namespace (stopped at the bed's end).
        Its output goes to ``log`` (default: ``<host dir>/<program>.log``)."""
        self.bed.check_isolation()
        if stdout is None:
            log = log or self.dir / f"{Path(argv[0]).name}.log"
            stdout = open(log, "a")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            netns.in_ns(self.ns, *argv),
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # a Ctrl-C reaches the bed, which stops them in order
        )
        self.bed.processes.append(proc)
        return proc

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """The calling thread's sockets open inside this host's namespace during the body."""
        with netns.entered(self.ns):
            yield

    def wrapper(self, executable: str) -> Path:
        """A script that runs ``executable`` (with its arguments) inside this host's namespace:
        for tools that start their own programs, e.g. Playwright's ``executable_path``."""
        path = self.dir / f"in-{self.name}-{Path(executable).name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.ns} {executable} "$@"\n')
        path.chmod(0o755)
        return path

    def set_link(self, link: LinkSpec) -> None:
        """Change this host's latency, jitter, loss (and bandwidth cap) now."""
        link.validate()
        self.link = link
        self.bed.apply_link(self)

    def run_peer(self, **kwargs: Any) -> Any:
        """Start a ``toktok run`` daemon on this host (see :func:`netbed.peers.start_peer`)."""
        from netbed.peers import start_peer

        return start_peer(self, **kwargs)


class Bed:
    """A set of hosts joined by the backbone; a context manager (everything goes at exit)."""

    def __init__(self, workdir: Path | None = None, *, seed: int | None = None) -> None:
        self.run_id = registry.new_run_id()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"toktok-bed-{self.run_id}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.backbone = f"tb{self.run_id}-bb"
        self.hosts: dict[str, Host] = {}
        self.processes: list[subprocess.Popen[str]] = []
        self.partitions: set[tuple[str, str]] = set()
        self._delay: subprocess.Popen[str] | None = None
        self._started = False
        self._closed = False

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> Bed:
        netns.require_available()
        registry.remove_dead_runs()
        registry.RunRecord.mine(self.run_id).write()
        self._started = True
        try:
            netns.add_namespace(self.backbone)
            bb = self.backbone
            netns.sysctl(bb, "net.ipv4.ip_forward", "1")
            for scope in ("all", "default"):
                netns.sysctl(bb, f"net.ipv4.conf.{scope}.rp_filter", "0")
                netns.sysctl(bb, f"net.ipv4.conf.{scope}.send_redirects", "0")
            self.check_isolation()
            self._start_delay_line()
            netns.ip(bb, "route", "add", str(BED_NET), "dev", TUN, "table", DELAY_TABLE)
            self.check_isolation()
        except BaseException:
            self.close()
            raise
        return self

    def _start_delay_line(self) -> None:
        argv = [sys.executable, "-m", "netbed.delayline", "--tun", TUN]
        if self.seed is not None:
            argv += ["--seed", str(self.seed)]
        self._delay = subprocess.Popen(
            netns.in_ns(self.backbone, *argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            start_new_session=True,
        )
        self.processes.append(self._delay)
        reply = self._delay_reply()
        if not reply.get("ready"):
            raise BedError(f"the delay line did not start: {reply}")
        netns.sysctl(self.backbone, f"net.ipv4.conf.{TUN}.rp_filter", "0")

    def _delay_reply(self) -> dict[str, Any]:
        assert self._delay is not None
        assert self._delay.stdout is not None
        line = self._delay.stdout.readline()
        if not line:
            raise BedError(f"the delay line exited ({self._delay.poll()})")
        return dict(json.loads(line))

    def delay_command(self, **command: Any) -> dict[str, Any]:
        assert self._delay is not None
        assert self._delay.stdin is not None
        self._delay.stdin.write(json.dumps(command) + "\n")
        self._delay.stdin.flush()
        return self._delay_reply()

    def close(self) -> None:
        """Stop every process of the bed, delete its namespaces (and so its links), its record
        and (if the bed made it) its work dir. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._delay is not None and self._delay.stdin is not None:
            with contextlib.suppress(OSError):
                self._delay.stdin.close()
        if self._started:
            registry.remove_run(self.run_id)
        for proc in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdout.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Bed:
        return self.start() if not self._started else self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def namespaces(self) -> list[str]:
        return [self.backbone, *(h.ns for h in self.hosts.values())]

    def check_isolation(self) -> None:
        """Refuse (IsolationError) if any namespace of the bed has a way out."""
        isolation.check(self.namespaces)

    # --- hosts --------------------------------------------------------------------------------
    def add_host(
        self,
        name: str,
        *,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        loss: float = 0.0,
        rate_mbit: float | None = None,
    ) -> Host:
        """A new host linked to the backbone with these link properties (each way)."""
        if not self._started:
            raise BedError("start the bed first (Bed.start() or 'with Bed() as bed')")
        if not HOST_NAME.match(name) or name == "bb":
            raise BedError(f"host name {name!r}: 1-12 of a-z0-9, starting with a letter, not 'bb'")
        if name in self.hosts:
            raise BedError(f"host {name!r} exists")
        link = LinkSpec(latency_ms, jitter_ms, loss, rate_mbit)
        link.validate()
        host = Host(self, name, len(self.hosts) + 1, link)
        for address in (host.address, host.gateway):
            require_bed_address(address)
        self.hosts[name] = host
        netns.add_namespace(host.ns)
        netns.ip(
            host.ns, "link", "add", "name", "eth0", "type", "veth",
            "peer", "name", host.backbone_dev, "netns", self.backbone,
        )  # fmt: skip
        netns.ip(host.ns, "addr", "add", f"{host.address}/30", "dev", "eth0")
        netns.ip(host.ns, "link", "set", "eth0", "up")
        netns.ip(host.ns, "route", "add", str(BED_NET), "via", host.gateway)
        bb = self.backbone
        netns.ip(bb, "addr", "add", f"{host.gateway}/30", "dev", host.backbone_dev)
        netns.ip(bb, "link", "set", host.backbone_dev, "up")
        netns.sysctl(bb, f"net.ipv4.conf.{host.backbone_dev}.rp_filter", "0")
        netns.ip(
            bb, "rule", "add", "iif", host.backbone_dev,
            "priority", str(RULE_PRIORITY_DELAY), "lookup", DELAY_TABLE,
        )  # fmt: skip
        self.apply_link(host)
        self.check_isolation()
        return host

    def apply_link(self, host: Host) -> None:
        link = host.link
        reply = self.delay_command(
            op="link",
            address=host.address,
            latency_ms=link.latency_ms,
            jitter_ms=link.jitter_ms,
            loss=link.loss,
        )
        if not reply.get("ok"):
            raise BedError(f"the delay line refused {host}: {reply}")
        for ns, dev in ((host.ns, "eth0"), (self.backbone, host.backbone_dev)):
            netns.ip(ns, "link", "set", dev, "up")
            netns.run("tc", "-n", ns, "qdisc", "del", "dev", dev, "root", check=False)
            if link.rate_mbit is not None:
                netns.run(
                    "tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf",
                    "rate", f"{link.rate_mbit}mbit", "burst", "32kb", "latency", "200ms",
                )  # fmt: skip

    def stats(self) -> dict[str, int]:
        """Packets the delay line forwarded and dropped so far."""
        reply = self.delay_command(op="stats")
        return {"forwarded": int(reply["forwarded"]), "dropped": int(reply["dropped"])}

    # --- partitions ---------------------------------------------------------------------------
    def _pairs(
        self, a: Host | Iterable[Host], b: Host | Iterable[Host] | None
    ) -> list[tuple[Host, Host]]:
        side_a = [a] if isinstance(a, Host) else list(a)
        if b is None:
            side_b = [h for h in self.hosts.values() if h not in side_a]
        else:
            side_b = [b] if isinstance(b, Host) else list(b)
        return [(x, y) for x in side_a for y in side_b if x is not y]

    def _rule(self, action: str, src: Host, dst: Host) -> None:
        netns.ip(
            self.backbone, "rule", action, "priority", str(RULE_PRIORITY_PARTITION),
            "from", src.wan_address, "to", dst.wan_address, "blackhole",
        )  # fmt: skip

    def partition(self, a: Host | Iterable[Host], b: Host | Iterable[Host] | None = None) -> None:
        """Cut every path between the hosts of side ``a`` and those of side ``b`` (default: all
        other hosts). Packets are dropped silently, as on a real cut."""
        for x, y in self._pairs(a, b):
            for src, dst in ((x, y), (y, x)):
                if (src.name, dst.name) not in self.partitions:
                    self._rule("add", src, dst)
                    self.partitions.add((src.name, dst.name))

    def heal(
        self, a: Host | Iterable[Host] | None = None, b: Host | Iterable[Host] | None = None
    ) -> None:
        """Undo partitions between ``a`` and ``b`` (default: every partition)."""
        pairs = (
            [(self.hosts[s], self.hosts[d]) for s, d in self.partitions]
            if a is None
            else [p for x, y in self._pairs(a, b) for p in ((x, y), (y, x))]
        )
        for src, dst in pairs:
            if (src.name, dst.name) in self.partitions:
                self._rule("del", src, dst)
                self.partitions.discard((src.name, dst.name))


def stop_on_signals() -> None:
    """Turn SIGTERM (and SIGHUP) into KeyboardInterrupt, so ``with Bed()`` cleans up on them
    as it does on Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BedError(f"{what}: not within {timeout} s")
        time.sleep(0.1)
