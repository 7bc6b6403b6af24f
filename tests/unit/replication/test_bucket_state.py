"""The token bucket (bandwidth limit) and the persisted replication state."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer.replication.bucket import TokenBucket
from peer.replication.errors import StateError
from peer.replication.state import ReplicationState, WantedPost


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_bucket_lets_a_burst_through_then_paces_to_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1000, burst=500, clock=clock, sleep=clock.sleep)
    await bucket.take(500)
    assert clock.slept == []
    await bucket.take(1000)
    assert clock.slept == [1.0]
    for _ in range(10):
        await bucket.take(100)
    assert clock.now == pytest.approx(2.0)  # 2,500 bytes at 1,000/s after a 500 burst


async def test_a_long_pause_saves_up_no_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=100, burst=200, clock=clock, sleep=clock.sleep)
    clock.now = 1000.0
    await bucket.take(400)
    assert clock.slept == [2.0]


async def test_rate_zero_is_unlimited() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0, burst=0, clock=clock, sleep=clock.sleep)
    await bucket.take(10**12)
    assert clock.slept == []
    with pytest.raises(ValueError, match=">= 0"):
        TokenBucket(rate=-1, burst=0)


def post(n: int) -> WantedPost:
    return WantedPost(f"0x{n:02x}", "0xC", f"bafy{n}", n)


def test_state_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store" / "replication.sqlite"
    state = ReplicationState(path)
    state.sync_wanted([post(1), post(2)])
    state.set_sized("0x01", ("m", "p", "r"), (10, 20, 30))
    state.set_pinned("0x01", ("m", "r"), at=5)
    state.set_failed("0x02", "nobody has it", 99.0, permanent=False)
    state.close()
    again = ReplicationState(path)
    one, two = again.get("0x01"), again.get("0x02")
    assert one is not None
    assert two is not None
    assert (one.state, one.size, one.cids, one.pinned_cids) == (
        "pinned",
        60,
        ("m", "p", "r"),
        ("m", "r"),
    )
    assert (two.state, two.attempts, two.next_try, two.error) == ("new", 1, 99.0, "nobody has it")
    again.close()


def test_unwanted_rows_are_forgotten_unless_pinned(tmp_path: Path) -> None:
    state = ReplicationState(tmp_path / "r.sqlite")
    state.sync_wanted([post(1), post(2), post(3)])
    state.set_sized("0x01", ("m",), (1,))
    state.set_pinned("0x01", ("m",), at=1)
    state.sync_wanted([post(3)])
    assert state.forget_unwanted() == 1
    assert [r.post_id for r in state.all()] == ["0x03", "0x01"]
    assert not state.get("0x01").wanted  # type: ignore[union-attr]
    state.set_evicted("0x01")
    assert state.get("0x01") is None, "an evicted unwanted post is forgotten"
    assert state.counter("evicted") == 1
    state.close()


def test_a_permanent_failure_rejects_the_post(tmp_path: Path) -> None:
    state = ReplicationState(tmp_path / "r.sqlite")
    state.sync_wanted([post(1)])
    state.set_failed("0x01", "manifest exceeds 64 KiB", 0.0, permanent=True)
    assert state.get("0x01").state == "rejected"  # type: ignore[union-attr]
    state.close()


def test_an_unusable_state_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError, match="cannot open the replication state"):
        ReplicationState(blocker / "replication.sqlite")
