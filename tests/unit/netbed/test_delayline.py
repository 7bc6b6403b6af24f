"""The delay line's scheduler and the bed's addressing (no namespaces needed)."""

from __future__ import annotations

import struct

import pytest

from netbed.addressing import (
    BED_NET,
    backbone_address,
    host_address,
    link_subnet,
    require_bed_address,
)
from netbed.delayline import DelayLine, Link, flow_key
from netbed.errors import IsolationError

A, B, C = "198.18.0.6", "198.18.0.10", "198.18.0.14"


def udp(src: str, dst: str, sport: int, dport: int, seq: int) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 32, 0, 0, 64, 17, 0,
        bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split(".")),
    )  # fmt: skip
    return header + struct.pack("!HHHH", sport, dport, 12, 0) + seq.to_bytes(4, "big")


def seq_of(packet: bytes) -> int:
    return int.from_bytes(packet[28:32], "big")


def drain(line: DelayLine) -> list[bytes]:
    out = []
    while (t := line.next_release()) is not None:
        out.extend(line.due(t))
    return out


def test_delay_is_the_senders_link_plus_the_receivers_link() -> None:
    line = DelayLine(seed=1)
    line.set_link(A, Link(latency_s=0.040))
    line.set_link(B, Link(latency_s=0.025))
    line.offer(udp(A, B, 1, 2, 0), now=10.0)
    assert line.next_release() == pytest.approx(10.065)
    assert line.due(10.064) == []
    assert len(line.due(10.065)) == 1


def test_jitter_never_reorders_a_flow() -> None:
    line = DelayLine(seed=2)
    line.set_link(A, Link(0.020, 0.020))
    line.set_link(B, Link(0.020, 0.020))
    for seq in range(2000):
        line.offer(udp(A, B, 1000, 2000, seq), now=seq * 0.001)
    assert [seq_of(p) for p in drain(line)] == list(range(2000))


def test_flows_are_independent_one_may_overtake_another() -> None:
    line = DelayLine(seed=3)
    line.set_link(A, Link(0.020, 0.020))
    line.set_link(B, Link(0.020, 0.020))
    for seq in range(500):
        line.offer(udp(A, B, 1000 + seq % 2, 2000, seq), now=seq * 0.001)
    order = [seq_of(p) for p in drain(line)]
    for flow in (0, 1):
        mine = [s for s in order if s % 2 == flow]
        assert mine == sorted(mine)
    assert order != sorted(order)  # across the two flows, jitter does reorder


def test_loss_of_either_link_drops_about_that_share() -> None:
    line = DelayLine(seed=4)
    line.set_link(A, Link(0.0, 0.0, loss=0.1))
    line.set_link(C, Link(0.0, 0.0, loss=0.0))
    for seq in range(10_000):
        line.offer(udp(A, C, 1, 2, seq), now=0.0)
        line.offer(udp(C, A, 1, 2, seq), now=0.0)
    assert 1700 <= line.dropped <= 2300  # 10 % of each direction's 10,000
    assert len(drain(line)) == 20_000 - line.dropped


def test_packets_that_are_not_ipv4_are_dropped_not_forwarded() -> None:
    line = DelayLine()
    line.offer(b"\x60" + bytes(39), now=0.0)  # IPv6
    line.offer(b"\x45", now=0.0)  # truncated
    assert line.next_release() is None
    assert flow_key(b"\x60" + bytes(39)) is None


def test_addresses_come_only_from_198_18_0_0_15() -> None:
    assert str(BED_NET) == "198.18.0.0/15"
    assert str(link_subnet(1)) == "198.18.0.4/30"
    assert (str(backbone_address(1)), str(host_address(1))) == ("198.18.0.5", "198.18.0.6")
    assert str(host_address(64)) == "198.18.1.2"
    require_bed_address("198.19.255.254")
    for outside in ("198.20.0.1", "10.0.0.1", "127.0.0.1", "not an address"):
        with pytest.raises(IsolationError):
            require_bed_address(outside)
    with pytest.raises(ValueError, match="outside"):
        link_subnet(0)
