"""The demo stamp: what a second ``scripts/run`` may reuse."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from peer.demo.state import (
    STAMP_FILE,
    DemoStamp,
    clear_stamp,
    load_stamp,
    reusable,
    save_stamp,
)

STAMP = DemoStamp(
    chain_id=31337,
    factory="0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    tok="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    clips="ab" * 32,
    creator="0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
    token="0x75537828f2ce51be7289709686A69CbFDbB714F1",
    p2p_port=43457,
    posts=("0x" + "11" * 32, "0x" + "22" * 32),
)


def reused(
    stamp: DemoStamp | None = STAMP,
    chain_id: int = 31337,
    factory: str = STAMP.factory,
    tok: str = STAMP.tok,
    clips: str = STAMP.clips,
) -> bool:
    return reusable(stamp, chain_id=chain_id, factory=factory, tok=tok, clips=clips)


def test_a_saved_stamp_loads_back_equal(tmp_path: Path) -> None:
    save_stamp(tmp_path / "demo", STAMP)
    assert load_stamp(tmp_path / "demo") == STAMP
    assert not list((tmp_path / "demo").glob("*.tmp")), "written atomically"


def test_no_stamp_or_an_unreadable_one_means_set_up_anew(tmp_path: Path) -> None:
    assert load_stamp(tmp_path) is None
    (tmp_path / STAMP_FILE).write_text("{not json")
    assert load_stamp(tmp_path) is None
    save_stamp(tmp_path, STAMP)
    clear_stamp(tmp_path)
    assert load_stamp(tmp_path) is None
    clear_stamp(tmp_path)  # idempotent


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"chain_id": "31337"},
        {"chain_id": True},
        {"p2p_port": 0},
        {"token": ""},
        {"posts": [1, 2]},
        {"creator": None},
    ],
)
def test_a_stamp_with_unexpected_content_is_ignored(
    tmp_path: Path, change: dict[str, object]
) -> None:
    data = {**STAMP.to_json(), **change}
    (tmp_path / STAMP_FILE).write_text(json.dumps(data))
    assert load_stamp(tmp_path) is None


def test_a_stamp_missing_a_field_is_ignored(tmp_path: Path) -> None:
    data = STAMP.to_json()
    del data["posts"]
    (tmp_path / STAMP_FILE).write_text(json.dumps(data))
    assert load_stamp(tmp_path) is None


def test_the_same_deployment_and_clips_are_reused_whatever_the_address_case() -> None:
    assert reused()
    assert reused(factory=STAMP.factory.lower(), tok=STAMP.tok.upper())


def test_another_chain_or_other_clips_are_not_reused() -> None:
    assert not reused(chain_id=1)
    assert not reused(factory="0x" + "00" * 20)
    assert not reused(tok="0x" + "00" * 20)
    assert not reused(clips="cd" * 32)


def test_without_a_stamp_nothing_is_reused() -> None:
    assert not reused(None)
    assert reused(replace(STAMP, p2p_port=1))
