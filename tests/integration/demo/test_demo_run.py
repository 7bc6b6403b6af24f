"""``scripts/run`` with the demo: a separate creator peer whose clips reach the user's feed.

Each run starts the real script (set-up check, the user's peer with its devnet, the demo peer),
reads the user's peer API as the web UI would, and stops everything with Ctrl-C (SIGINT).
The start-up times (start of ``scripts/run`` to "the feed lists every demo clip") are printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import children_of

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.demo.clips import CLIPS
from peer.p2p.identity import load_identity, peer_id_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[3]
# scripts/setup runs first (quick when warm, but it installs again when package files changed).
URL_TIMEOUT_S = 600
FEED_TIMEOUT_S = 240
TITLES = {clip.title for clip in CLIPS}
PREMIUM_TITLE = next(clip.title for clip in CLIPS if clip.premium)


class ScriptRun:
    """One ``scripts/run`` process; its output is collected by a thread as it comes."""

    def __init__(self, user_dir: Path, demo_dir: Path) -> None:
        self.user_dir = user_dir
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(REPO / "scripts" / "run")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "TOKTOK_DATA_DIR": str(user_dir),
                "TOKTOK_DEMO_DATA_DIR": str(demo_dir),
            },
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if line.startswith(prefix):
                    return line.strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line starting with {prefix!r}:\n{self.output}")

    def client(self) -> DaemonClient:
        self.wait_for_line("http://127.0.0.1:", URL_TIMEOUT_S)
        creds = read_credentials(DataDir(self.user_dir.resolve()))
        assert creds is not None
        return DaemonClient(creds)

    def descendants(self) -> list[int]:
        found, todo = [], [self.process.pid]
        while todo:
            children = children_of(todo.pop())
            found += children
            todo += children
        return found

    def ctrl_c(self) -> list[int]:
        """SIGINT as a terminal's Ctrl-C; asserts exit code 0; returns the pids that ran."""
        pids = self.descendants()
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(90) == 0, self.output
        self._reader.join(10)
        return pids

    def kill(self) -> None:
        """Kill the launcher if it still runs (its peers then get SIGTERM: PDEATHSIG)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._reader.join(60)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def runs() -> Iterator[list[ScriptRun]]:
    started: list[ScriptRun] = []
    yield started
    for run in started:
        run.kill()


def demo_items(client: DaemonClient) -> dict[str, dict[str, Any]] | None:
    """The demo clips in the user's for-you feed by title, once all of them are there."""
    items = {i["title"]: i for i in client.get("/api/v1/feed?limit=50")["items"]}
    return items if set(items) >= TITLES else None


def wait_for_demo_feed(run: ScriptRun) -> tuple[dict[str, dict[str, Any]], float]:
    client = run.client()
    deadline = time.monotonic() + FEED_TIMEOUT_S
    while time.monotonic() < deadline:
        items = demo_items(client)
        if items is not None:
            return items, time.monotonic() - run.started
        time.sleep(0.5)
    raise AssertionError(f"the demo clips did not reach the feed:\n{run.output}")


def launcher_figure(run: ScriptRun) -> str:
    """The launcher's own "N s after start" (its start is the end of scripts/setup)."""
    line = run.wait_for_line("demo: your feed has", FEED_TIMEOUT_S)
    return line.rsplit("(", 1)[1].rstrip(")")


def assert_all_stopped(pids: list[int]) -> None:
    assert pids, "scripts/run started no processes"
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not left, f"processes left behind: {left}"


def test_demo_reaches_a_new_users_feed_over_the_network_is_reused_and_survives_a_reset(
    tmp_path: Path, runs: list[ScriptRun]
) -> None:
    user_dir, demo_dir = tmp_path / "peer", tmp_path / "demo"
    first = ScriptRun(user_dir, demo_dir)
    runs.append(first)
    client = first.client()
    items, first_s = wait_for_demo_feed(first)
    print(f"\nfirst run: the feed lists the demo clips {first_s:.1f} s after scripts/run started")
    print(f"first run, launcher: {launcher_figure(first)}")

    first.wait_for_line("demo: creator", FEED_TIMEOUT_S)  # written once the stamp is saved
    stamp = json.loads((demo_dir / "demo.json").read_text())
    me = client.get("/api/v1/status")
    wallet = client.get("/api/v1/wallet")
    assert {i["creator"] for i in items.values()} == {stamp["creator"]}
    assert stamp["creator"] != wallet["address"], "the demo creator is not the user"
    assert {i["id"] for i in items.values()} == set(stamp["posts"])
    premium = items[PREMIUM_TITLE]
    assert premium["premium"] is True
    assert int(premium["min_balance"]) > 0
    assert [i for i in items.values() if i["premium"]] == [premium], "one premium clip"
    # Received over the network: the user's peer is connected to the demo peer and fetches the
    # clip's manifest from it; the premium clip is locked for the user.
    demo_peer_id = peer_id_of(load_identity(demo_dir / "p2p" / "identity.key"))
    peers = client.get("/api/v1/peers")["peers"]
    assert demo_peer_id in {p["peer_id"] for p in peers}
    assert client.get(f"/api/v1/posts/{premium['id']}/clip")["locked"] is True
    assert client.get(f"/api/v1/creators/{stamp['creator']}")["token"]["address"] == stamp["token"]
    assert wallet["tok_balance"] == str(10_000 * 10**18), "the user's wallet holds TOK to buy with"
    assert me["wallet"]["state"] == "unlocked"
    assert_all_stopped(first.ctrl_c())

    second = ScriptRun(user_dir, demo_dir)
    runs.append(second)
    _, cached_s = wait_for_demo_feed(second)
    print(f"cached run: the feed lists the demo clips {cached_s:.1f} s after scripts/run started")
    print(f"cached run, launcher: {launcher_figure(second)}")
    second.wait_for_line("demo: creator", FEED_TIMEOUT_S)
    assert "publishing" not in second.output, "a second run reuses the published demo"
    assert json.loads((demo_dir / "demo.json").read_text()) == stamp

    # The user buys the creator's token with the devnet TOK and unlocks the premium clip: the
    # restarted demo peer serves its key.
    client = second.client()
    premium_id = premium["id"]
    plan = client.get(f"/api/v1/clips/{premium_id}/buy-plan")
    unlocked = client.post(
        f"/api/v1/clips/{premium_id}/unlock", {"buy": True, "max_cost": plan["max_cost"]}
    )
    assert unlocked["unlocked"] is True, unlocked
    assert client.get(f"/api/v1/posts/{premium_id}/clip")["locked"] is False
    assert_all_stopped(second.ctrl_c())

    # A new user data dir starts a new devnet: same contract addresses, but no demo token.
    # The demo notices and publishes again; the new user's feed gets the new posts.
    third = ScriptRun(tmp_path / "fresh-peer", demo_dir)
    runs.append(third)
    items, took = wait_for_demo_feed(third)
    print(f"after a devnet reset: the demo clips are back in the feed after {took:.1f} s")
    print(f"after a devnet reset, launcher: {launcher_figure(third)}")
    third.wait_for_line("demo: creator", FEED_TIMEOUT_S)
    assert "the devnet was reset" in third.output
    new = json.loads((demo_dir / "demo.json").read_text())
    assert new["creator"] == stamp["creator"], "the demo creator keeps its wallet"
    assert {i["id"] for i in items.values()} == set(new["posts"])
    assert not set(new["posts"]) & set(stamp["posts"])
    assert_all_stopped(third.ctrl_c())
