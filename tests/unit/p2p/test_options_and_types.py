"""Settings are documented; value types behave as the facade promises."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from peer.p2p import Accept, GossipOptions, HostOptions, Ignore, Message, Network, Reject, options
from peer.p2p.host import P2PHost
from peer.p2p.testing import FakeNetwork


def documented_fields(cls: type) -> set[str]:
    """Fields of a dataclass preceded by a comment line in options.py."""
    source = inspect.getsource(options)
    lines = source.splitlines()
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    above = lines[statement.lineno - 2].strip()
                    if above.startswith("#"):
                        found.add(statement.target.id)
                    else:  # a comment block may cover a group of related fields
                        index = statement.lineno - 2
                        while index > 0 and not lines[index].strip().startswith("#"):
                            if not lines[index].strip() or "=" not in lines[index]:
                                break
                            index -= 1
                        if lines[index].strip().startswith("#"):
                            found.add(statement.target.id)
    return found


@pytest.mark.parametrize("cls", [HostOptions, GossipOptions])
def test_every_setting_is_documented(cls: type) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    assert names - documented_fields(cls) == set()


def test_defaults_are_loopback_with_no_bootstrap_and_a_one_second_heartbeat() -> None:
    opts = HostOptions(identity_path=Path("/x"))
    assert opts.listen_addrs == ("/ip4/127.0.0.1/tcp/0",)
    assert opts.bootstrap == ()
    assert opts.gossip.heartbeat_interval == 1
    assert opts.gossip.exempt_loopback_from_colocation is False
    assert opts.gossip.max_messages_per_topic_per_second > 10


def test_options_are_frozen() -> None:
    opts = HostOptions(identity_path=Path("/x"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.max_request_size = 1  # type: ignore[misc]


def test_validation_results_carry_their_reason() -> None:
    assert Reject("bad signature").reason == "bad signature"
    assert Ignore("duplicate").reason == "duplicate"
    assert Accept() == Accept()
    assert Message("a", b"x", "t").received_from == ""


def test_real_and_fake_hosts_implement_the_facade(tmp_path: Path) -> None:
    fake: Network = FakeNetwork().host()  # mypy checks the signatures
    real: Network = P2PHost(HostOptions(identity_path=tmp_path / "k"))
    members = [n for n in dir(Network) if not n.startswith("_")]
    assert "request" in members
    for host in (fake, real):
        assert [m for m in members if not hasattr(type(host), m)] == []
