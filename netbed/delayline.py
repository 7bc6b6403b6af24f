"""The delay line: latency, jitter and loss in user space (the kernel here has no ``netem``).

It runs inside the backbone namespace and owns a TUN device. Policy routing sends every packet
that arrives from a host's link into the TUN; this process holds it for the delay of the
sender's link plus the receiver's link, drops it with the links' loss rates, and writes it back
into the TUN, from where the backbone routes it to the receiver's link.

Jitter keeps each flow's order (as real paths mostly do): a packet never leaves before an
earlier packet of the same flow (protocol, addresses, ports), so jitter delays it to at least
that packet's release time instead of letting it overtake.

Control: one JSON object per line on stdin (``{"op": "link", "address": ..., "latency_ms": ...,
"jitter_ms": ..., "loss": ...}``, ``{"op": "stats"}``); answers one JSON line each on stdout.
End of stdin (the bed's process died or closed it) ends the process and removes the TUN.
"""

from __future__ import annotations

import argparse
import fcntl
import heapq
import json
import os
import random
import selectors
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
FLOW_IDLE_S = 30.0


@dataclass
class Link:
    """One host's access link, one way (the same both ways)."""

    latency_s: float = 0.0
    jitter_s: float = 0.0
    loss: float = 0.0

    def delay(self, rng: random.Random) -> float:
        if self.jitter_s <= 0:
            return self.latency_s
        return max(0.0, self.latency_s + rng.uniform(-self.jitter_s, self.jitter_s))


def flow_key(packet: bytes) -> tuple[bytes, int] | None:
    """(addresses + protocol + ports, protocol) of an IPv4 packet, or None if it is not one."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    proto = packet[9]
    addrs = packet[12:20]
    fragment = struct.unpack_from("!H", packet, 6)[0] & 0x1FFF
    ports = b""
    if proto in (6, 17) and fragment == 0 and len(packet) >= ihl + 4:
        ports = packet[ihl : ihl + 4]
    return bytes([proto]) + addrs + ports, proto


class DelayLine:
    """The packet scheduler (no I/O: ``offer`` takes packets, ``due`` gives them back)."""

    def __init__(self, seed: int | None = None) -> None:
        self.links: dict[bytes, Link] = {}
        self.rng = random.Random(seed)
        self._queue: list[tuple[float, int, bytes]] = []
        self._last: dict[bytes, float] = {}
        self._seq = 0
        self.forwarded = 0
        self.dropped = 0

    def set_link(self, address: str, link: Link) -> None:
        self.links[bytes(int(x) for x in address.split("."))] = link

    def offer(self, packet: bytes, now: float) -> None:
        key = flow_key(packet)
        if key is None:
            return  # not IPv4: the bed routes nothing else
        flow = key[0]
        src = self.links.get(packet[12:16])
        dst = self.links.get(packet[16:20])
        delay = 0.0
        for link in (src, dst):
            if link is None:
                continue
            if link.loss > 0 and self.rng.random() < link.loss:
                self.dropped += 1
                return
            delay += link.delay(self.rng)
        release = max(now + delay, self._last.get(flow, 0.0))
        self._last[flow] = release
        self._seq += 1
        heapq.heappush(self._queue, (release, self._seq, packet))

    def next_release(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def due(self, now: float) -> list[bytes]:
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        self.forwarded += len(out)
        return out

    def forget_idle_flows(self, now: float) -> None:
        self._last = {k: t for k, t in self._last.items() if t > now - FLOW_IDLE_S}


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def handle(line: str, line_: DelayLine) -> dict[str, object]:
    command = json.loads(line)
    op = command.get("op")
    if op == "link":
        line_.set_link(
            str(command["address"]),
            Link(
                float(command.get("latency_ms", 0)) / 1000,
                float(command.get("jitter_ms", 0)) / 1000,
                float(command.get("loss", 0)),
            ),
        )
        return {"ok": True}
    if op == "stats":
        return {"ok": True, "forwarded": line_.forwarded, "dropped": line_.dropped}
    return {"ok": False, "error": f"unknown op {op!r}"}


def serve(tun_name: str, seed: int | None) -> None:
    fd = open_tun(tun_name)
    subprocess.run(["ip", "link", "set", tun_name, "up"], check=True)
    line_ = DelayLine(seed)
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ, "tun")
    selector.register(sys.stdin, selectors.EVENT_READ, "control")
    print(json.dumps({"ok": True, "ready": tun_name}), flush=True)
    last_sweep = time.monotonic()
    while True:
        now = time.monotonic()
        nxt = line_.next_release()
        timeout = None if nxt is None else max(0.0, nxt - now)
        for key, _ in selector.select(timeout):
            if key.data == "control":
                text = sys.stdin.readline()
                if not text:
                    return
                print(json.dumps(handle(text, line_)), flush=True)
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                line_.offer(packet, time.monotonic())
        now = time.monotonic()
        for packet in line_.due(now):
            try:
                os.write(fd, packet)
            except OSError:
                line_.dropped += 1
        if now - last_sweep > FLOW_IDLE_S:
            line_.forget_idle_flows(now)
            last_sweep = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tun", required=True)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    serve(args.tun, args.seed)


if __name__ == "__main__":
    main()
