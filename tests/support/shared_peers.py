"""Two daemons for the whole session, shared by the robustness and input-validation modules:
A on its own devnet (HTTP idle timeout ``IDLE_S``, no DHT), B plain (chain off, no DHT).

Started side by side once instead of once per module. A is never stopped before the session
ends; B may be (``test_robustness`` stops it to read all it printed, as its last use). A's
output is drained by a thread (a fuzzing run logs a line per refused request, more than a pipe
holds).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from support.daemon import Daemon, spawn_daemon

IDLE_S = 2


@dataclass
class SharedPeers:
    a: Daemon
    b: Daemon


def _drain(daemon: Daemon) -> threading.Thread:
    def read() -> None:
        assert daemon.process.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed by Daemon.kill
            for line in daemon.process.stdout:
                daemon.output.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="session")
def shared_peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedPeers]:
    root = tmp_path_factory.mktemp("shared-peers")
    env = {
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "TOKTOK_UI_IDLE_TIMEOUT_S": str(IDLE_S),
        "TOKTOK_P2P_DHT": "off",
    }
    a_env = {**env, "TOKTOK_CHAIN_MODE": "devnet", "TOKTOK_PEER_LOG_LEVEL": "warning"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(spawn_daemon, root / "a", env=a_env),
            pool.submit(spawn_daemon, root / "b", env=env),
        ]
    started = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        a, b = started
        _drain(a)
        yield SharedPeers(a, b)
    finally:
        for daemon in started:
            daemon.kill()
