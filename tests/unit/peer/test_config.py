"""Config: sources and precedence, validation, documentation of every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from peer import config_docs
from peer.config import Config, iter_settings, load_config, parse_assignments
from peer.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_obey_network_hygiene() -> None:
    config = Config()
    assert config.p2p.listen_addrs == ("/ip4/127.0.0.1/tcp/0",)
    assert config.p2p.bootstrap == ()
    assert config.p2p.mdns is False
    assert config.ui.port == 0
    assert config.ui.content_port == 0


def test_sources_apply_in_order_file_datadir_env_flags(tmp_path: Path) -> None:
    user = write(
        tmp_path / "user.toml",
        "[ui]\nport = 1111\ncontent_port = 2222\n[wallet]\nslippage_bps = 7\n",
    )
    data = tmp_path / "data"
    write(data / "config.toml", "[ui]\nport = 3333\n")
    env = {
        "TOKTOK_UI_CONTENT_PORT": "4444",
        "TOKTOK_P2P_BOOTSTRAP": "/ip4/127.0.0.1/tcp/9/p2p/x, /ip4/127.0.0.1/tcp/8/p2p/y",
    }
    config = load_config(
        data, config_file=user, environ=env, flags={"wallet": {"slippage_bps": "9"}}
    )
    assert config.ui.port == 3333  # data-dir file beats user file
    assert config.ui.content_port == 4444  # environment beats files
    assert config.wallet.slippage_bps == 9  # flags beat everything
    assert config.p2p.bootstrap == ("/ip4/127.0.0.1/tcp/9/p2p/x", "/ip4/127.0.0.1/tcp/8/p2p/y")


def test_env_bool_and_unrelated_variables(tmp_path: Path) -> None:
    env = {"TOKTOK_P2P_MDNS": "yes", "TOKTOK_DATA_DIR": "/elsewhere", "TOKTOK_PASSPHRASE": "x"}
    config = load_config(tmp_path, config_file=None, environ=env | {"TOKTOK_CONFIG": ""})
    assert config.p2p.mdns is True


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[ui]\nport = 'abc'\n", "ui.port"),
        ("[ui]\nport = -1\n", "must not be negative"),
        ("[ui]\nbogus = 1\n", "unknown setting ui.bogus"),
        ("[nosuch]\nx = 1\n", "unknown section [nosuch]"),
        ("[chain]\nmode = 'mainnet'\n", "expected one of devnet, rpc, off"),
        ("[p2p]\nmdns = 'maybe'\n", "expected true or false"),
        ("[p2p]\nlisten_addrs = [1, 2]\n", "expected a list of strings"),
        ("[ui\n", "not valid TOML"),
        ("[sync]\npage_size = 0\n", "must be between 1 and 100, got 0"),
        ("[sync]\npage_size = 101\n", "must be between 1 and 100, got 101"),
        ("[sync]\ninterval_s = 0.5\n", "must be between 1 and 86400, got 0.5"),
    ],
)
def test_invalid_settings_name_the_setting(tmp_path: Path, toml: str, message: str) -> None:
    path = write(tmp_path / "c.toml", toml)
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path / "data", config_file=path, environ={})
    assert message in str(excinfo.value)


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, config_file=tmp_path / "nope.toml", environ={})


def test_set_flag_parsing() -> None:
    assert parse_assignments(["ui.port=80", "p2p.bootstrap=a,b"]) == {
        "ui": {"port": "80"},
        "p2p": {"bootstrap": "a,b"},
    }
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        parse_assignments(["port=80"])


def test_every_setting_has_a_doc_string() -> None:
    undocumented = [f"{s}.{k}" for s, k, _, doc in iter_settings() if len(doc) < 15]
    assert undocumented == []


def test_docs_config_is_up_to_date() -> None:
    text = (REPO / "docs" / "CONFIG.md").read_text()
    assert text == config_docs.render(), "run: toktok config docs > docs/CONFIG.md"
    documented = set(re.findall(r"^### `([a-z0-9_]+\.[a-z0-9_]+)`", text, re.MULTILINE))
    assert documented == {f"{s}.{k}" for s, k, _, _ in iter_settings()}
