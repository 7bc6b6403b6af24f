"""Content and peers found through the DHT, with three real daemons (``toktok run``, each in its
own process, chain off, loopback only): A and C know only B.

A adds a multi-block file (its store provides the root on the DHT, reaching only B); C pins
the CID: no connected peer has it, so bitswap asks the DHT, finds A through B, dials A and
fetches every block. Finding and dialling a peer by its id alone through a common neighbour
is covered across processes by ``tests/integration/p2p/test_dht_conformance.py``; here the
CLI path of ``toktok connect <peer id>`` is exercised."""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, eventually, run_cli, spawn_daemon

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials

pytestmark = pytest.mark.integration
FILE_SIZE = 3 * 256 * 1024 + 12345  # four 256 KiB leaves and a root: a multi-block DAG


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[..., list[Daemon]]]:
    """Start daemons in parallel (each start is mostly waiting); all are stopped at the end."""
    started: list[Daemon] = []

    def start(*names: str) -> list[Daemon]:
        with ThreadPoolExecutor(len(names)) as pool:
            futures = [pool.submit(spawn_daemon, tmp_path / name) for name in names]
        for future in futures:
            if future.exception() is None:
                started.append(future.result())
        return [future.result() for future in futures]

    yield start
    for daemon in started:
        daemon.kill()


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def cli_json(daemon: Daemon, *args: str) -> Any:
    done = run_cli(daemon.data_dir, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def peer_ids(daemon: Daemon) -> set[str]:
    return {p["peer_id"] for p in client(daemon).get("/api/v1/peers")["peers"]}


def test_a_peer_that_knows_only_a_neighbour_fetches_a_file_found_through_the_dht(
    daemons: Callable[..., list[Daemon]], tmp_path: Path
) -> None:
    a, b, c = daemons("a", "b", "c")
    status = {
        name: client(d).get("/api/v1/status") for name, d in zip("abc", (a, b, c), strict=True)
    }
    b_addr = status["b"]["p2p_addrs"][0]
    cli_json(a, "connect", b_addr)
    data = os.urandom(FILE_SIZE)
    source = tmp_path / "clip.bin"
    source.write_bytes(data)
    cid = cli_json(a, "add", str(source))["cid"]
    eventually(
        lambda: client(a).get("/api/v1/storage")["providing"]["provided"] >= 1,
        what="A provided the root",
    )
    cli_json(c, "connect", b_addr)  # after A's provide: only B holds A's record
    assert status["a"]["peer_id"] not in peer_ids(c)

    started = time.monotonic()
    cli_json(c, "pin", "add", cid)  # fetches the whole DAG, then pins it
    print(f"pin through the DHT took {time.monotonic() - started:.2f} s")

    assert status["a"]["peer_id"] in peer_ids(c)  # C dialled the provider it found
    creds = read_credentials(DataDir(c.data_dir.resolve()))
    assert creds is not None
    with urllib.request.urlopen(f"{creds.content_url.rstrip('/')}/ipfs/{cid}", timeout=30) as r:
        fetched = r.read()
    assert hashlib.sha256(fetched).digest() == hashlib.sha256(data).digest()
    c_bitswap = client(c).get("/api/v1/storage")["bitswap"]
    assert c_bitswap["client"]["blocks_received"] >= 5  # every block came over bitswap
    pinned = cli_json(c, "pin", "ls")
    assert cid in json.dumps(pinned)
    # `toktok connect` takes a bare peer id (looked up through the DHT)
    assert cli_json(c, "connect", status["a"]["peer_id"])["peer_id"] == status["a"]["peer_id"]
