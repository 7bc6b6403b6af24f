"""``toktok cid | add | cat | pin | gc | storage`` against a real data dir."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from peer.cli.main import cli
from storage.errors import NotPinnedError, StorageError

pytestmark = pytest.mark.integration

CHUNK = 262_144
Invoke = Callable[..., Result]
Clip = tuple[Path, bytes]


@pytest.fixture
def run(tmp_path: Path) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])

    return invoke


@pytest.fixture
def clip(tmp_path: Path) -> Clip:
    data = os.urandom(3 * CHUNK + 11)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return path, data


def test_cid_prints_only_the_cid_and_stores_nothing(
    run: Invoke, clip: Clip, tmp_path: Path
) -> None:
    path, _ = clip
    v1 = run("cid", str(path))
    v0 = run("cid", "--cid-version", "0", str(path), "--json")
    assert v1.exit_code == 0
    assert v1.output.strip().startswith("bafybei")
    assert len(v1.output.split()) == 1
    assert json.loads(v0.output)["cid"].startswith("Qm")
    assert not (tmp_path / "data" / "store").exists()


def test_add_matches_cid_and_cat_returns_bytes_and_ranges(run: Invoke, clip: Clip) -> None:
    path, data = clip
    expected = run("cid", str(path)).output.strip()
    added = run("add", str(path), "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {"cid": expected, "size": len(data), "pinned": True}
    whole = run("cat", expected)
    assert whole.stdout_bytes == data
    part = run("cat", expected, "--range", f"{CHUNK - 2}-{CHUNK + 3}")
    assert part.stdout_bytes == data[CHUNK - 2 : CHUNK + 3]
    tail = run("cat", expected, "--range", f"{len(data) - 4}-")
    assert tail.stdout_bytes == data[-4:]


@pytest.mark.parametrize("bad", ["5-2", "x-3", "7", "-3"])
def test_bad_range_is_a_usage_error(run: Invoke, clip: Clip, bad: str) -> None:
    path, _ = clip
    cid = run("add", str(path)).output.strip()
    result = run("cat", cid, "--range", bad)
    assert result.exit_code == 2
    assert "--range" in result.output


def test_pin_rm_gc_and_stats(run: Invoke, clip: Clip) -> None:
    path, _ = clip
    cid = run("add", str(path)).output.strip()
    pins = json.loads(run("pin", "ls", "--json").output)
    assert pins == {"pins": [{"cid": cid, "kind": "recursive"}]}
    assert run("pin", "rm", cid).exit_code == 0
    gc = json.loads(run("gc", "--json").output)
    assert gc["removed_blocks"] == 5
    stats = json.loads(run("storage", "stats", "--json").output)
    assert (stats["blocks"], stats["pins"]) == (0, 0)
    again = run("pin", "rm", cid)
    assert isinstance(again.exception, NotPinnedError)


def test_pin_add_direct_and_verify(run: Invoke, clip: Clip) -> None:
    path, _ = clip
    cid = json.loads(run("add", "--no-pin", str(path), "--json").output)["cid"]
    assert json.loads(run("pin", "ls", "--json").output) == {"pins": []}
    assert run("pin", "add", "--direct", cid).exit_code == 0
    assert json.loads(run("gc", "--json").output)["removed_blocks"] == 4
    report = json.loads(run("storage", "verify", "--json").output)
    assert report == {"ok": True, "blocks": 1, "corrupt": [], "incomplete_pins": []}


def test_cat_of_a_store_that_does_not_exist_says_what_to_do(run: Invoke) -> None:
    result = run("cat", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    assert isinstance(result.exception, StorageError)
    assert "toktok add" in str(result.exception)


def test_invalid_cid_is_a_usage_error(run: Invoke) -> None:
    result = run("pin", "rm", "not-a-cid")
    assert result.exit_code == 2
    assert "Invalid value for CID" in result.output
