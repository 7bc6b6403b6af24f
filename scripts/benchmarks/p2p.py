"""Benchmark: gossipsub round trip and throughput through the asyncio facade, against the
same exchange natively inside one trio process (the baseline, measured in the same run).

    scripts/bench p2p [--runs 3] [--messages 500] [--flood 2000] [--size 256] [--stream-mb 16]

Round trip: peer A publishes on ``ping``, peer B republishes every message on ``pong``, A
waits for it; one message in flight, ``--messages`` sequential exchanges per run (after a
warm-up that waits for the mesh). "bridged": A is a ``P2PHost`` in this process (asyncio
facade), B a ``P2PHost`` in a child process (``python -m peer.p2p.worker``), both crossing
the asyncio<->trio bridge twice per message. "native": two py-libp2p hosts with the same
configuration (``build_libp2p_host`` + ``build_gossipsub``) inside one ``trio.run``, no
bridge. Median and p99 per run; reported: the median over runs of each.

Throughput: A publishes ``--flood`` messages of ``--size`` bytes as fast as ``publish``
returns; B (child process) counts deliveries. Reported: publish rate and the rate at which
B received all of them (or how many arrived within 60 s), with the default spam limit and
with the per-neighbour limit lifted on B. Raw stream (the bitswap hook's pipe): A writes
``--stream-mb`` MiB in 64 KiB writes on one stream, B reads to EOF and answers the count;
MB/s bridged (B in a child process) and native (both hosts in one trio process).
Prints JSON and writes bench-results/p2p.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is first on sys.path and holds tokens.py and storage.py, which would shadow
# the packages of the same names that peer imports: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import trio
from libp2p.custom_types import TProtocol
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

from peer.p2p import Accept, GossipOptions, HostOptions, P2PHost
from peer.p2p.gossip import build_gossipsub
from peer.p2p.identity import load_or_create_identity
from peer.p2p.libp2p_host import build_libp2p_host
from peer.p2p.worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]
GOSSIP = GossipOptions(exempt_loopback_from_colocation=True)


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 3), "p99": round(p99, 3)}


async def bridged_round_trip(tmp: Path, messages: int) -> list[float]:
    worker = WorkerProcess(tmp / "b.key")
    await worker.start()
    host = P2PHost(HostOptions(identity_path=tmp / "a.key", gossip=GOSSIP))
    try:
        await host.start()
        pong = await host.subscribe("pong")
        await worker.subscribe("ping", echo_to="pong")
        await host.connect(worker.addrs[0])
        await host.subscribe("ping")  # join the mesh of ping too (for a symmetric setup)
        await _warm_up(lambda data: host.publish("ping", data), pong.get)
        samples: list[float] = []
        for index in range(messages):
            data = b"rt-%d" % index
            start = time.perf_counter()
            await host.publish("ping", data)
            while (await pong.get()).data != data:
                pass
            samples.append((time.perf_counter() - start) * 1000)
        return samples
    finally:
        await host.stop()
        await worker.stop()


async def _warm_up(publish: Any, get: Any) -> None:
    for attempt in range(200):
        await publish(b"warm-%d" % attempt)
        try:
            await asyncio.wait_for(get(), 0.2)
            break
        except TimeoutError:
            continue
    else:
        raise RuntimeError("the mesh did not form")
    await asyncio.sleep(0.5)


def native_round_trip(tmp: Path, messages: int) -> list[float]:
    async def accept(_forwarder: Any, _msg: Any) -> Accept:
        return Accept()

    async def main() -> list[float]:
        opts_a = HostOptions(identity_path=tmp / "na.key", gossip=GOSSIP)
        opts_b = HostOptions(identity_path=tmp / "nb.key", gossip=GOSSIP)
        host_a = build_libp2p_host(load_or_create_identity(opts_a.identity_path), opts_a)
        host_b = build_libp2p_host(load_or_create_identity(opts_b.identity_path), opts_b)
        pong_in, pong_out = trio.open_memory_channel[bytes](math.inf)
        ping_in, ping_out = trio.open_memory_channel[bytes](math.inf)

        def deliver_a(topic: str, msg: Any) -> None:
            if topic == "pong" and msg.from_id != host_a.get_id().to_bytes():
                pong_in.send_nowait(bytes(msg.data))

        def deliver_b(topic: str, msg: Any) -> None:
            if topic == "ping" and msg.from_id != host_b.get_id().to_bytes():
                ping_in.send_nowait(bytes(msg.data))

        ps_a, router_a = build_gossipsub(host_a, GOSSIP, accept, deliver_a)
        ps_b, router_b = build_gossipsub(host_b, GOSSIP, accept, deliver_b)
        addr = [Multiaddr("/ip4/127.0.0.1/tcp/0")]
        try:
            async with (
                host_a.run(addr),
                host_b.run(addr),
                background_trio_service(ps_a),
                background_trio_service(router_a),
                background_trio_service(ps_b),
                background_trio_service(router_b),
                trio.open_nursery() as nursery,
            ):
                await ps_a.wait_until_ready()
                await ps_b.wait_until_ready()
                await ps_a.subscribe("pong")
                await ps_a.subscribe("ping")
                await ps_b.subscribe("ping")

                async def echo() -> None:
                    async for data in ping_out:
                        await ps_b.publish("pong", data)

                nursery.start_soon(echo)
                await host_a.connect(info_from_p2p_addr(host_b.get_addrs()[0]))
                for attempt in range(200):
                    await ps_a.publish("ping", b"warm-%d" % attempt)
                    with trio.move_on_after(0.2) as scope:
                        await pong_out.receive()
                    if not scope.cancelled_caught:
                        break
                await trio.sleep(0.5)
                samples: list[float] = []
                for index in range(messages):
                    data = b"rt-%d" % index
                    start = time.perf_counter()
                    await ps_a.publish("ping", data)
                    while await pong_out.receive() != data:
                        pass
                    samples.append((time.perf_counter() - start) * 1000)
                nursery.cancel_scope.cancel()
                return samples
        finally:
            ps_a.seen_messages.stop()
            ps_b.seen_messages.stop()

    return trio.run(main)


async def throughput(tmp: Path, count: int, size: int, lift_limit: bool) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if lift_limit:
        options["gossip"] = {"max_messages_per_topic_per_second": 1e9}
    worker = WorkerProcess(tmp / f"tb{int(lift_limit)}.key", options)
    await worker.start()
    host = P2PHost(HostOptions(identity_path=tmp / f"ta{int(lift_limit)}.key", gossip=GOSSIP))
    try:
        await host.start()
        await worker.subscribe("flood")
        await host.subscribe("flood")
        await host.connect(worker.addrs[0])
        for attempt in range(400):  # warm up until B receives from A (the mesh is up)
            await host.publish("flood", b"warm-%d" % attempt)
            await asyncio.sleep(0.05)
            if await worker.count_received("flood"):
                break
        else:
            raise RuntimeError("the mesh did not form")
        await asyncio.sleep(1.0)
        await worker.received("flood")  # drop the warm-up messages
        payload = b"\0" * (size - 8)
        start = time.perf_counter()
        for index in range(count):
            await host.publish("flood", index.to_bytes(8, "big") + payload)
        published = time.perf_counter() - start
        received = 0
        deadline = start + 60
        while time.perf_counter() < deadline:
            received = await worker.count_received("flood")
            if received >= count:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - start
        return {
            "published_per_s": round(count / published, 1),
            "received": received,
            "received_per_s": round(received / elapsed, 1),
            "all_received": received >= count,
        }
    finally:
        await host.stop()
        await worker.stop()


async def stream_bridged(tmp: Path, total: int, chunk: int) -> float:
    """MB/s through one raw stream (the bitswap hook): A (this process, asyncio facade) writes
    ``total`` bytes in ``chunk``-sized writes to B (child process), which reads to EOF and
    answers the count."""
    worker = WorkerProcess(tmp / "sb.key")
    await worker.start()
    host = P2PHost(HostOptions(identity_path=tmp / "sa.key", gossip=GOSSIP))
    try:
        await host.start()
        await worker.serve("/bench/sink/1", "stream-sink")
        await host.connect(worker.addrs[0])
        stream = await host.open_stream(worker.peer_id, ["/bench/sink/1"])
        block = b"\x5a" * chunk
        start = time.perf_counter()
        for _ in range(total // chunk):
            await stream.write(block)
        await stream.close()
        answer = b""
        while data := await stream.read():
            answer += data
        elapsed = time.perf_counter() - start
        if int(answer) != total // chunk * chunk:
            raise RuntimeError(f"sink counted {answer!r}")
        return total / elapsed / 1e6
    finally:
        await host.stop()
        await worker.stop()


def stream_native(tmp: Path, total: int, chunk: int) -> float:
    """The same transfer between two hosts inside one trio process (no bridge)."""

    async def main() -> float:
        opts_a = HostOptions(identity_path=tmp / "nsa.key", gossip=GOSSIP)
        opts_b = HostOptions(identity_path=tmp / "nsb.key", gossip=GOSSIP)
        host_a = build_libp2p_host(load_or_create_identity(opts_a.identity_path), opts_a)
        host_b = build_libp2p_host(load_or_create_identity(opts_b.identity_path), opts_b)

        async def sink(stream: Any) -> None:
            count = 0
            while True:
                try:
                    data = await stream.read(1 << 20)
                except StreamEOF:
                    break
                if not data:
                    break
                count += len(data)
            await stream.write(str(count).encode())
            await stream.close()

        host_b.set_stream_handler(TProtocol("/bench/sink/1"), sink)
        addr = [Multiaddr("/ip4/127.0.0.1/tcp/0")]
        async with host_a.run(addr), host_b.run(addr):
            await host_a.connect(info_from_p2p_addr(host_b.get_addrs()[0]))
            stream = await host_a.new_stream(host_b.get_id(), [TProtocol("/bench/sink/1")])
            block = b"\x5a" * chunk
            start = time.perf_counter()
            for _ in range(total // chunk):
                await stream.write(block)
            await stream.close_write()  # type: ignore[attr-defined]
            answer = b""
            while True:
                try:
                    data = await stream.read()
                except StreamEOF:
                    break
                if not data:
                    break
                answer += data
            elapsed = time.perf_counter() - start
            if int(answer) != total // chunk * chunk:
                raise RuntimeError(f"sink counted {answer!r}")
            await host_a.close()
            await host_b.close()
            return total / elapsed / 1e6

    return trio.run(main)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bridged: list[dict[str, float]] = []
    native: list[dict[str, float]] = []
    flood_default: list[dict[str, Any]] = []
    flood_lifted: list[dict[str, Any]] = []
    stream_bridged_mb_s: list[float] = []
    stream_native_mb_s: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            native.append(summary(await asyncio.to_thread(native_round_trip, tmp, args.messages)))
            bridged.append(summary(await bridged_round_trip(tmp, args.messages)))
            flood_default.append(await throughput(tmp, args.flood, args.size, False))
            flood_lifted.append(await throughput(tmp, args.flood, args.size, True))
            size = args.stream_mb << 20
            stream_native_mb_s.append(await asyncio.to_thread(stream_native, tmp, size, 65536))
            stream_bridged_mb_s.append(await stream_bridged(tmp, size, 65536))

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(float(r[key]) for r in rows), 3)

    result = {
        "benchmark": "p2p",
        "runs": args.runs,
        "messages_per_run": args.messages,
        "round_trip_ms": {
            "bridged_separate_processes": {
                "median": med(bridged, "median"),
                "p99": med(bridged, "p99"),
            },
            "native_one_trio_process": {"median": med(native, "median"), "p99": med(native, "p99")},
            "per_run": {"bridged": bridged, "native": native},
        },
        "ratio_bridged_over_native_median": round(
            med(bridged, "median") / med(native, "median"), 2
        ),
        "raw_stream_mb_per_s": {
            "bytes": args.stream_mb << 20,
            "write_size": 65536,
            "bridged_separate_processes": round(statistics.median(stream_bridged_mb_s), 2),
            "native_one_trio_process": round(statistics.median(stream_native_mb_s), 2),
            "ratio_bridged_over_native": round(
                statistics.median(stream_bridged_mb_s) / statistics.median(stream_native_mb_s), 2
            ),
            "per_run": {
                "bridged": [round(x, 2) for x in stream_bridged_mb_s],
                "native": [round(x, 2) for x in stream_native_mb_s],
            },
        },
        "throughput": {
            "messages": args.flood,
            "size_bytes": args.size,
            "default_spam_limit": {
                "published_per_s": med(flood_default, "published_per_s"),
                "received_per_s": med(flood_default, "received_per_s"),
                "per_run": flood_default,
            },
            "spam_limit_lifted_on_receiver": {
                "published_per_s": med(flood_lifted, "published_per_s"),
                "received_per_s": med(flood_lifted, "received_per_s"),
                "per_run": flood_lifted,
            },
        },
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--flood", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--stream-mb", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "p2p.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
