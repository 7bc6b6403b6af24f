"""Seeing a NAT's mapping from inside (``python -m netbed.natprobe ...``): a reflector that
answers each UDP datagram and each TCP connection with the source address:port it saw, and a
client that asks several reflectors from ONE local port and prints what each saw (one JSON
object). Same external port from every reflector: endpoint-independent mapping; different
ports: address-and-port-dependent ("symmetric")."""

from __future__ import annotations

import argparse
import json
import socket
import threading

from netbed.probe import split


def _udp_reflect(sock: socket.socket) -> None:
    while True:
        _, source = sock.recvfrom(64)
        sock.sendto(f"{source[0]}:{source[1]}".encode(), source)


def reflect(bind: str) -> None:
    """Answer on ``bind`` (UDP and TCP, same port) until killed."""
    address = split(bind)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(address)
    threading.Thread(target=_udp_reflect, args=(udp,), daemon=True).start()
    with socket.create_server(address) as server:
        print(json.dumps({"listening": bind}), flush=True)
        while True:
            conn, source = server.accept()
            with conn:
                conn.sendall(f"{source[0]}:{source[1]}".encode())


def _reusable(kind: int, local_port: int, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("0.0.0.0", local_port))  # noqa: S104 - inside a bed host: its one address
    sock.settimeout(timeout)
    return sock


def mapping(reflectors: list[str], local_port: int, protocol: str, timeout: float) -> None:
    seen: dict[str, str] = {}
    if protocol == "udp":
        with _reusable(socket.SOCK_DGRAM, local_port, timeout) as sock:
            for reflector in reflectors:
                sock.sendto(b"?", split(reflector))
                seen[reflector] = sock.recv(64).decode()
    else:
        for reflector in reflectors:
            with _reusable(socket.SOCK_STREAM, local_port, timeout) as sock:
                sock.connect(split(reflector))
                seen[reflector] = sock.recv(64).decode()
    print(json.dumps({"local_port": local_port, "protocol": protocol, "seen": seen}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("reflect")
    p.add_argument("--bind", required=True)
    p = sub.add_parser("mapping")
    p.add_argument("--to", required=True, action="append", help="a reflector (repeatable)")
    p.add_argument("--local-port", type=int, required=True)
    p.add_argument("--protocol", choices=("udp", "tcp"), default="udp")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per reflector")
    args = parser.parse_args()
    if args.cmd == "reflect":
        reflect(args.bind)
    else:
        mapping(args.to, args.local_port, args.protocol, args.timeout)


if __name__ == "__main__":
    main()
