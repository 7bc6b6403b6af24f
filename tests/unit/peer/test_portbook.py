"""Stable ports: stored after the first start, asked for again, replaced when taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from peer.daemon.portbook import PortBook, first_tcp_port, port_is_free, stable_listen_addrs


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ports_bound_on_the_first_start_are_asked_for_again(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    book = PortBook(path)
    assert book.pick("ui", 0) == 0, "nothing stored yet: the kernel picks"
    port = free_port()
    book.record({"ui": port, "content": 0}, configured={"ui": 0, "content": 0})
    again = PortBook(path)
    assert again.pick("ui", 0) == port
    assert again.pick("ui", 8080) == 8080, "a configured port wins"
    assert again.notices == []


def test_a_taken_port_is_replaced_and_said(tmp_path: Path, taken: int) -> None:
    path = tmp_path / "ports.json"
    PortBook(path).record({"content": taken}, configured={})
    book = PortBook(path)
    assert port_is_free("127.0.0.1", taken) is False
    assert book.pick("content", 0) == 0
    assert book.notices == [
        f"the content port {taken} is taken by another program; a new one was picked"
    ]


def test_the_port_picked_instead_of_a_taken_one_is_kept_from_then_on(
    tmp_path: Path, taken: int
) -> None:
    path = tmp_path / "ports.json"
    PortBook(path).record({"content": taken}, configured={})
    moved = PortBook(path)
    assert moved.pick("content", 0) == 0
    new = free_port()
    moved.record({"content": new}, configured={})  # what the daemon bound instead
    again = PortBook(path)
    assert again.pick("content", 0) == new
    assert again.notices == []


def test_configured_ports_are_never_stored(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    PortBook(path).record({"ui": 8080}, configured={"ui": 8080})
    assert not path.exists()


def test_an_unreadable_file_means_new_ports(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    for raw in (b"[", b'{"v": 1, "ports": {"ui": "x", "p2p": 70000, "other": 5}}', b"{}"):
        path.write_bytes(raw)
        assert PortBook(path).stored == {}


def test_auto_p2p_addresses_get_the_stored_port(tmp_path: Path, taken: int) -> None:
    book = PortBook(tmp_path / "ports.json")
    addrs = ("/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/4001")
    assert stable_listen_addrs(addrs, book) == (list(addrs), True)
    port = free_port()
    book.record({"p2p": port}, configured={})
    assert stable_listen_addrs(addrs, book) == (
        [f"/ip4/127.0.0.1/tcp/{port}", "/ip4/127.0.0.1/tcp/4001"],
        True,
    )
    assert stable_listen_addrs(("/ip4/127.0.0.1/tcp/4001",), book)[1] is False
    book.record({"p2p": taken}, configured={})
    assert stable_listen_addrs(addrs, book) == (list(addrs), True)
    assert "p2p port" in book.notices[-1]
    assert first_tcp_port([f"/ip4/127.0.0.1/tcp/{port}/p2p/12D3Koo"]) == port
    assert first_tcp_port(["/p2p-circuit"]) is None
