"""The committed contract artifacts equal a fresh build of the sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tokens import build
from tokens.artifacts import CONTRACT_NAMES, default_build_dir, load_artifact


@pytest.fixture(scope="module")
def fresh() -> dict[str, dict[str, Any]]:
    return build.build_all()


def test_committed_artifacts_match_a_fresh_build(fresh: dict[str, dict[str, Any]]) -> None:
    assert sorted(fresh) == sorted(CONTRACT_NAMES)
    for name, artifact in fresh.items():
        committed = (default_build_dir() / f"{name}.json").read_text()
        assert committed == build.render(artifact), (
            f"{name}.json is stale: run scripts/build-contracts"
        )


def test_artifacts_carry_abi_bytecode_and_compiler() -> None:
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact.name == name
        assert artifact.compiler.startswith("vyper 0.4.3")
        assert artifact.bytecode.startswith("0x")
        assert len(artifact.bytecode) > 100
        assert any(entry.get("type") == "function" for entry in artifact.abi)


def test_check_mode_flags_a_stale_artifact(
    tmp_path: Path, fresh: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "build_all", lambda: fresh)
    for name in CONTRACT_NAMES:
        (tmp_path / f"{name}.json").write_text((default_build_dir() / f"{name}.json").read_text())
    assert build.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "TOK.json").write_text("{}\n")
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
