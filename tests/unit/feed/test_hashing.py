"""keccak256: the lean per-thread path agrees with eth-utils on every input."""

from __future__ import annotations

import threading

from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from peer.feed.hashing import keccak256

EMPTY = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def test_known_values() -> None:
    assert keccak256(b"") == EMPTY
    assert keccak256(b"abc").hex().startswith("4e03657aea45a94f")


@given(st.binary(max_size=600))
def test_agrees_with_eth_utils(data: bytes) -> None:
    assert keccak256(data) == keccak(data)


def test_digests_with_zero_bytes_are_whole() -> None:
    # Many 32-byte digests contain 0x00 bytes; none may be cut short.
    for n in range(2000):
        data = n.to_bytes(4, "big")
        digest = keccak256(data)
        assert len(digest) == 32
        assert digest == keccak(data)


def test_threads_hash_independently() -> None:
    results: dict[int, list[bytes]] = {}

    def work(worker: int) -> None:
        results[worker] = [keccak256(f"{worker}:{i}".encode()) for i in range(500)]

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker, digests in results.items():
        assert digests == [keccak(f"{worker}:{i}".encode()) for i in range(500)]
