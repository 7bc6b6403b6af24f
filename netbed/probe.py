"""Measuring tools run inside bed hosts (``python -m netbed.probe ...``): a TCP echo server and
client that reports the kernel's round-trip estimate (TCP_INFO), and a UDP sender and sink that
count loss and reordering. Each prints one JSON object."""

from __future__ import annotations

import argparse
import json
import socket
import struct
import time

TCP_INFO_RTT_OFFSET = 68  # struct tcp_info: tcpi_rtt, then tcpi_rttvar (microseconds)


def split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def tcp_rtt_us(sock: socket.socket) -> tuple[int, int]:
    """(smoothed RTT, RTT variance) in microseconds, as the kernel estimates them."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("II", info, TCP_INFO_RTT_OFFSET)


def tcp_echo(bind: str, connections: int) -> None:
    with socket.create_server(split(bind)) as server:
        print(json.dumps({"listening": bind}), flush=True)
        for _ in range(connections):
            conn, _ = server.accept()
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)


def tcp_ping(to: str, count: int, interval: float) -> None:
    with socket.create_connection(split(to), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        samples = []
        for i in range(count):
            start = time.monotonic()
            payload = f"{i:08d}".encode()
            sock.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += sock.recv(64)
            samples.append(time.monotonic() - start)
            time.sleep(interval)
        rtt, var = tcp_rtt_us(sock)
    samples.sort()
    print(
        json.dumps(
            {
                "tcpi_rtt_ms": rtt / 1000,
                "tcpi_rttvar_ms": var / 1000,
                "app_median_ms": samples[len(samples) // 2] * 1000,
                "count": count,
            }
        )
    )


def udp_sink(bind: str, seconds: float, idle: float) -> None:
    """Count datagrams until ``idle`` seconds pass without one (after the first) or ``seconds``
    in all."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(split(bind))
        print(json.dumps({"listening": bind}), flush=True)
        deadline = time.monotonic() + seconds
        received, reordered, highest = 0, 0, -1
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(min(left, idle) if received else left)
            try:
                data = sock.recv(2048)
            except TimeoutError:
                break
            seq = int.from_bytes(data[:4], "big")
            received += 1
            if seq < highest:
                reordered += 1
            highest = max(highest, seq)
    print(json.dumps({"received": received, "reordered": reordered, "highest": highest}))


def udp_send(to: str, count: int, interval: float, size: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        target = split(to)
        for seq in range(count):
            sock.sendto(seq.to_bytes(4, "big") + bytes(max(0, size - 4)), target)
            time.sleep(interval)
    print(json.dumps({"sent": count}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tcp-echo")
    p.add_argument("--bind", required=True)
    p.add_argument("--connections", type=int, default=1)
    p = sub.add_parser("tcp-ping")
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.02)
    p = sub.add_parser("udp-sink")
    p.add_argument("--bind", required=True)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--idle", type=float, default=2)
    p = sub.add_parser("udp-send")
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--interval", type=float, default=0.001)
    p.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    if args.cmd == "tcp-echo":
        tcp_echo(args.bind, args.connections)
    elif args.cmd == "tcp-ping":
        tcp_ping(args.to, args.count, args.interval)
    elif args.cmd == "udp-sink":
        udp_sink(args.bind, args.seconds, args.idle)
    else:
        udp_send(args.to, args.count, args.interval, args.size)


if __name__ == "__main__":
    main()
