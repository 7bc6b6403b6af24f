"""``toktok`` run inside a checkout that scripts/run used finds that peer's data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from peer.cli.main import cli


def test_status_inside_the_repository_uses_the_data_dir_of_scripts_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "toktok"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "run").write_text("#!/bin/sh\n")
    (checkout / ".toktok-data" / "peer").mkdir(parents=True)
    (checkout / "docs").mkdir()
    monkeypatch.delenv("TOKTOK_DATA_DIR", raising=False)
    monkeypatch.chdir(checkout / "docs")
    answer = CliRunner().invoke(cli, ["status", "--json"])
    assert answer.exit_code == 0, answer.output
    assert f'"data_dir": "{(checkout / ".toktok-data" / "peer").resolve()}"' in answer.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    answer = CliRunner().invoke(cli, ["status", "--json"])
    assert ".toktok-data" not in answer.output
    explicit = tmp_path / "explicit"
    monkeypatch.chdir(checkout)
    answer = CliRunner().invoke(cli, ["--data-dir", str(explicit), "status", "--json"])
    assert f'"data_dir": "{explicit.resolve()}"' in answer.output
