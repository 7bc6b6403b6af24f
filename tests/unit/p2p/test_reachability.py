"""Address classification (p2p.public_ranges) and the reachability verdict from dial-backs."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer.config import ConfigError, load_config
from peer.p2p.errors import InvalidMultiaddrError
from peer.p2p.reachability import (
    AddressPolicy,
    DialBackBudget,
    Reachability,
    Verdicts,
    describe,
    wants_reservations,
)

BED = "/ip4/198.18.0.6/tcp/4001"


def test_the_bed_range_is_private_by_default_and_public_only_when_listed() -> None:
    assert not AddressPolicy().is_public(BED)  # as Python's ipaddress and py-libp2p's DHT say
    assert AddressPolicy.from_setting(["198.18.0.0/15"]).is_public(BED)
    assert not AddressPolicy.from_setting(["198.18.0.0/15"]).is_public("/ip4/10.0.0.1/tcp/1")
    assert AddressPolicy().is_public("/ip4/8.8.8.8/tcp/4001")
    assert not AddressPolicy().is_public("/ip4/127.0.0.1/tcp/4001")
    assert not AddressPolicy.from_setting(["0.0.0.0/0"]).is_public(f"{BED}/p2p-circuit")
    assert not AddressPolicy.from_setting(["::/0"]).is_public(BED)  # versions do not mix


def test_a_bad_range_is_named() -> None:
    with pytest.raises(InvalidMultiaddrError, match=r"198\.18\.0\.1/15"):
        AddressPolicy.from_setting(["198.18.0.1/15"])


def test_the_setting_refuses_what_is_not_a_network(tmp_path: Path) -> None:
    empty = tmp_path / "config.toml"
    empty.write_text("")
    env = {"TOKTOK_P2P_PUBLIC_RANGES": "198.18.0.0/15,not-a-net"}
    with pytest.raises(ConfigError, match="not-a-net"):
        load_config(tmp_path, config_file=empty, environ=env)
    env["TOKTOK_P2P_PUBLIC_RANGES"] = "198.18.0.0/15, 2001:db8::/32"
    loaded = load_config(tmp_path, config_file=empty, environ=env)
    assert loaded.p2p.public_ranges == ("198.18.0.0/15", "2001:db8::/32")


def test_one_dial_back_makes_us_public_and_failures_from_two_servers_private() -> None:
    verdicts = Verdicts()
    assert verdicts.state is Reachability.UNKNOWN
    assert verdicts.record("server-a", False, "dial-back failed") is Reachability.UNKNOWN
    assert verdicts.record("server-a", False, "again") is Reachability.UNKNOWN  # same server
    assert verdicts.record("server-b", False, "refused") is Reachability.PRIVATE
    assert "dial-back failed" not in verdicts.why_private()  # the latest per server
    assert "again" in verdicts.why_private()
    assert "refused" in verdicts.why_private()
    assert verdicts.record("server-c", True) is Reachability.PUBLIC


def test_the_words_shown_for_each_case() -> None:
    assert describe(Reachability.PUBLIC, circuits=[], relays_configured=0)["summary"] == (
        "reachable"
    )
    circuit = "/ip4/198.18.0.6/tcp/4001/p2p/12D3R/p2p-circuit/p2p/12D3X"
    via = describe(Reachability.PRIVATE, circuits=[circuit], relays_configured=1, why="w")
    assert via["summary"] == "behind NAT, via relay /ip4/198.18.0.6/tcp/4001/p2p/12D3R"
    alone = describe(Reachability.PRIVATE, circuits=[], relays_configured=0, why="no dial-back")
    assert alone["summary"] == "behind NAT, unreachable"
    assert "no relay in p2p.relays or the network profile" in str(alone["reason"])
    waiting = describe(Reachability.PRIVATE, circuits=[], relays_configured=2, why="x")
    assert "no relay reservation is held yet" in str(waiting["reason"])


def test_the_dial_back_budget_limits_each_peer_and_the_total_per_window() -> None:
    budget = DialBackBudget(window_s=60, per_peer=2, total=3)
    assert budget.take("a", 0.0)
    assert budget.take("a", 1.0)
    assert not budget.take("a", 2.0)  # per peer
    assert budget.take("b", 3.0)
    assert not budget.take("c", 4.0)  # in all
    assert budget.take("a", 60.0)  # a new window


def test_reservations_are_held_only_while_autonat_says_private() -> None:
    def auto(state: Reachability | None, has_addrs: bool = True) -> bool:
        return wants_reservations("auto", has_addrs=has_addrs, state=state)

    assert auto(Reachability.PRIVATE)
    assert not auto(Reachability.PUBLIC)  # dropped again once a dial-back reaches us
    assert not auto(Reachability.UNKNOWN)  # not before the verdict
    assert auto(Reachability.UNKNOWN, has_addrs=False)  # nothing of our own to be reached at
    assert auto(None)  # AutoNAT off: nothing says we are public
    for state in Reachability:
        assert wants_reservations("private", has_addrs=True, state=state)
        assert not wants_reservations("public", has_addrs=False, state=state)


def test_the_reachability_setting_refuses_unknown_modes(tmp_path: Path) -> None:
    empty = tmp_path / "config.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="reachability"):
        load_config(tmp_path, config_file=empty, environ={"TOKTOK_P2P_REACHABILITY": "sometimes"})
