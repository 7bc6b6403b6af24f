"""The unlock ledger: the record of releases and the daily cap of peers per holder and post."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer.gating.ledger import DAY_S, UnlockLedger

HOLDER = "0x" + "ab" * 20
POST = b"\x01" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_holder_unlocks_a_post_for_at_most_the_cap_of_distinct_peers() -> None:
    ledger = UnlockLedger(peers_per_day=2, clock=Clock())
    assert ledger.admit(HOLDER, POST, "peerA") is None
    assert ledger.admit(HOLDER.upper().replace("0X", "0x"), POST, "peerB") is None
    assert ledger.admit(HOLDER, POST, "peerC") == 2
    assert ledger.admit(HOLDER, POST, "peerA") is None  # a peer already served: served again
    assert ledger.admit(HOLDER, b"\x02" * 32, "peerC") is None  # the cap is per post
    assert ledger.admit("0x" + "cd" * 20, POST, "peerC") is None  # and per holder
    assert {u.peer for u in ledger.unlocks(HOLDER)} == {"peerA", "peerB", "peerC"}


def test_the_cap_is_a_rolling_day() -> None:
    clock = Clock()
    ledger = UnlockLedger(peers_per_day=1, clock=clock)
    assert ledger.admit(HOLDER, POST, "peerA") is None
    assert ledger.admit(HOLDER, POST, "peerB") == 1
    clock.now += DAY_S + 1
    assert ledger.admit(HOLDER, POST, "peerB") is None


def test_the_record_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "unlocks.sqlite"
    ledger = UnlockLedger(path, peers_per_day=1, clock=Clock())
    assert ledger.admit(HOLDER, POST, "peerA") is None
    ledger.close()
    again = UnlockLedger(path, peers_per_day=1, clock=Clock())
    assert again.admit(HOLDER, POST, "peerB") == 1
    assert [(u.holder, u.post, u.peer) for u in again.unlocks()] == [
        (HOLDER, "0x" + POST.hex(), "peerA")
    ]


def test_the_cap_must_admit_one_peer() -> None:
    with pytest.raises(ValueError, match="peers_per_day"):
        UnlockLedger(peers_per_day=0)
