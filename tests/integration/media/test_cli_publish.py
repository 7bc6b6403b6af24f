"""``toktok publish`` in-process with click's runner, against a real data dir and ffmpeg."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eth_account import Account

from peer.cli.main import cli
from storage.clipkeys import ClipKeyStore
from storage.media.manifest import decode_manifest

pytestmark = pytest.mark.integration
ADDRESS = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
DEV_KEY = bytes([0x11]) * 32
DEV_ADDRESS = Account.from_key(DEV_KEY).address


def toktok(data: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args], env=env)


def make_wallet(data: Path, passphrase: str) -> None:
    keystore = Account.encrypt(DEV_KEY, passphrase, kdf="scrypt", iterations=2**4)
    (data / "wallet").mkdir(parents=True, exist_ok=True)
    (data / "wallet" / "keystore.json").write_text(json.dumps(keystore))


def test_publish_prints_the_manifest_cid_and_json(samples: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    text = toktok(data, "publish", str(samples["portrait"]), "--title", "Hi", "--creator", ADDRESS)
    assert text.exit_code == 0, text.output
    cid = text.stdout.strip()
    # no daemon, and no wallet for that creator: stored only, and it says so
    assert "stored only. No post was signed or queued" in text.stderr
    out = toktok(
        data, "publish", str(samples["portrait"]), "--title", "Hi", "--tags", "Cats,#dogs",
        "--tags", "cats", "--creator", ADDRESS.lower(), "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["queued"] is None
    assert doc["cid"] == cid  # same file twice: same CIDs
    assert doc["tags"] == ["cats", "dogs"]
    assert doc["premium"] is False
    assert doc["manifest"]["creator"] == ADDRESS
    decode_manifest(json.dumps(doc["manifest"], sort_keys=True, separators=(",", ":")).encode())
    assert list((data / "tmp" / "media").iterdir()) == []


def test_a_bad_file_fails_with_its_error(hostile_dir: Path, tmp_path: Path) -> None:
    result = toktok(
        tmp_path / "d",
        "publish",
        str(hostile_dir / "audio.m4a"),
        "--title",
        "x",
        "--creator",
        ADDRESS,
    )
    assert result.exit_code != 0
    assert "no video stream" in str(result.exception) + result.output


def test_the_configured_length_limit_applies(samples: dict[str, Path], tmp_path: Path) -> None:
    result = toktok(
        tmp_path / "d", "--set", "storage.max_clip_seconds=1", "publish", str(samples["portrait"]),
        "--title", "x", "--creator", ADDRESS,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "the maximum is 1 s" in str(result.exception) + result.output


def test_premium_publish_stores_the_key_under_the_wallet_passphrase(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    make_wallet(data, "s3cret")
    result = toktok(
        data, "publish", str(samples["no-audio"]), "--title", "Paid", "--premium",
        "--min-balance", "5", "--json", env={"TOKTOK_PASSPHRASE": "s3cret"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["manifest"]["creator"] == DEV_ADDRESS  # from the wallet
    # no daemon: the post is queued for its next start, and the command says so
    assert "its post is queued, not announced yet" in result.stderr
    assert (data / "publish-queue" / doc["queued"]).is_file()
    assert doc["manifest"]["encryption"]["scheme"] == "stream-chacha20poly1305"
    assert doc["minBalance"] == 5
    assert ClipKeyStore(data / "keys", "s3cret").has(doc["cid"])


def test_premium_with_a_wrong_passphrase_is_refused(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    make_wallet(data, "s3cret")
    result = toktok(
        data, "publish", str(samples["no-audio"]), "--title", "Paid", "--premium",
        "--min-balance", "5", env={"TOKTOK_PASSPHRASE": "nope"},
    )  # fmt: skip
    assert result.exit_code != 0
    assert "wrong wallet passphrase" in str(result.exception) + result.output
    assert not (data / "store").exists() or list((data / "keys").iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--premium"], "needs at least 1 whole token"),
        (["--min-balance", "3"], "only premium clips"),
        (["--creator", "alice"], "not an Ethereum address"),
        (["--title", "   "], "1 to 200 characters"),
    ],
)
def test_bad_options_are_usage_errors(
    samples: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["publish", str(samples["portrait"]), "--title", "t", "--creator", ADDRESS]
    result = toktok(tmp_path / "d", *base, *args)
    assert result.exit_code != 0
    assert message in result.output + str(result.exception)


def test_clip_keys_export_and_import_move_keys_between_data_dirs(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    make_wallet(a, "s3cret")
    make_wallet(b, "other pass")
    env_a = {"TOKTOK_PASSPHRASE": "s3cret", "TOKTOK_BACKUP_PASSPHRASE": "backup pass"}
    published = toktok(
        a, "publish", str(samples["no-audio"]), "--title", "Paid", "--premium",
        "--min-balance", "1", env=env_a,
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    cid = published.stdout.strip().splitlines()[-1]
    listed = toktok(a, "clip-keys", "ls", "--json", env=env_a)
    assert json.loads(listed.output) == {"clips": [cid]}
    backup = tmp_path / "backup.json"
    exported = toktok(a, "clip-keys", "export", str(backup), env=env_a)
    assert exported.exit_code == 0, exported.output
    assert toktok(a, "clip-keys", "export", str(backup), env=env_a).exit_code != 0  # no overwrite
    env_b = {"TOKTOK_PASSPHRASE": "other pass", "TOKTOK_BACKUP_PASSPHRASE": "backup pass"}
    imported = toktok(b, "clip-keys", "import", str(backup), "--json", env=env_b)
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["added"] == 1
    assert ClipKeyStore(b / "keys", "other pass").get(cid) == ClipKeyStore(
        a / "keys", "s3cret"
    ).get(cid)
    wrong = toktok(
        b, "clip-keys", "import", str(backup), env={**env_b, "TOKTOK_BACKUP_PASSPHRASE": "x"}
    )
    assert wrong.exit_code != 0
