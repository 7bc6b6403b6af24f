"""The committed contract artifacts equal a fresh build of the sources, for the pinned EVM,
and their verification inputs rebuild the same bytecode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tokens import build
from tokens.artifacts import CONTRACT_NAMES, artifacts_fingerprint, default_build_dir, load_artifact


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    return build.build_outputs()


def test_committed_artifacts_match_a_fresh_build(fresh: dict[str, str]) -> None:
    expected = {f"{n}.json" for n in CONTRACT_NAMES} | {f"{n}.solc.json" for n in CONTRACT_NAMES}
    assert set(fresh) == expected
    for name, text in fresh.items():
        committed = (default_build_dir() / name).read_text()
        assert committed == text, f"{name} is stale: run scripts/build-contracts"


def test_artifacts_carry_abi_bytecode_compiler_and_evm_version() -> None:
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact.name == name
        assert artifact.compiler.startswith("vyper 0.4.3")
        assert artifact.bytecode.startswith("0x")
        assert len(artifact.bytecode) > 100
        assert any(entry.get("type") == "function" for entry in artifact.abi)
        raw = json.loads((default_build_dir() / f"{name}.json").read_text())
        assert raw["evmVersion"] == build.EVM_VERSION == "cancun"


def test_verification_input_names_no_local_path_and_pins_the_evm() -> None:
    for name in CONTRACT_NAMES:
        data = json.loads((default_build_dir() / f"{name}.solc.json").read_text())
        assert data["settings"]["evmVersion"] == "cancun"
        assert data["settings"]["search_paths"] == ["."]
        assert f"contracts/{name}.vy" in data["sources"]
        for path in data["sources"]:
            assert path.startswith(("contracts/", "snekmate/")), path


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_verification_input_rebuilds_the_committed_bytecode(name: str, tmp_path: Path) -> None:
    # What a block explorer does: compile the standard-JSON input alone, in an empty folder.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from vyper.cli.vyper_json import _parse_cli_args; _parse_cli_args()",
            str(default_build_dir() / f"{name}.solc.json"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    out = json.loads(done.stdout)
    assert not out.get("errors"), out.get("errors")
    evm = out["contracts"][f"contracts/{name}.vy"][name]["evm"]
    artifact = load_artifact(name)
    assert evm["bytecode"]["object"] == artifact.bytecode


def test_fingerprint_follows_the_bytecode(tmp_path: Path) -> None:
    for name in CONTRACT_NAMES:
        (tmp_path / f"{name}.json").write_text((default_build_dir() / f"{name}.json").read_text())
    assert artifacts_fingerprint(tmp_path) == artifacts_fingerprint()
    data = json.loads((tmp_path / "CreatorToken.json").read_text())
    data["blueprintBytecode"] += "00"
    (tmp_path / "CreatorToken.json").write_text(json.dumps(data))
    assert artifacts_fingerprint(tmp_path) != artifacts_fingerprint()


def test_check_mode_flags_a_stale_artifact(
    tmp_path: Path, fresh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "build_outputs", lambda: fresh)
    for name in fresh:
        (tmp_path / name).write_text((default_build_dir() / name).read_text())
    assert build.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "TOK.solc.json").write_text("{}\n")
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
