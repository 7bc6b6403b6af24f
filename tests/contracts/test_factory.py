"""CreatorTokenFactory: parameters, fee cap, one token per creator, registry, events."""

from __future__ import annotations

from typing import Any

import boa
import pytest
from support.contracts import BASE_PRICE, SLOPE, System, deploy_faucet_tok

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def parts(deployers: dict[str, Any]) -> tuple[Any, Any, str]:
    tok = deploy_faucet_tok(deployers["TOK"])
    blueprint = deployers["CreatorToken"].deploy_as_blueprint()
    return tok, blueprint, boa.env.generate_address("treasury")


def _deploy(deployers: dict[str, Any], *args: Any) -> Any:
    return deployers["CreatorTokenFactory"].deploy(*args)


def test_factory_exposes_its_fixed_parameters(system: System) -> None:
    f = system.factory
    assert f.payment_token() == system.tok.address
    assert f.treasury() == system.treasury
    assert (f.base_price(), f.slope()) == (BASE_PRICE, SLOPE)
    assert (f.creator_fee_bps(), f.protocol_fee_bps()) == (500, 200)
    assert f.MAX_TOTAL_FEE_BPS() == 1000


@pytest.mark.parametrize(("creator_fee", "protocol_fee"), [(1000, 0), (0, 1000), (600, 400)])
def test_fees_up_to_ten_percent_are_accepted(
    deployers: dict[str, Any], parts: tuple[Any, Any, str], creator_fee: int, protocol_fee: int
) -> None:
    tok, bp, treasury = parts
    f = _deploy(deployers, bp, tok, treasury, BASE_PRICE, SLOPE, creator_fee, protocol_fee)
    assert f.creator_fee_bps() + f.protocol_fee_bps() == 1000


@pytest.mark.parametrize(("creator_fee", "protocol_fee"), [(1001, 0), (0, 1001), (600, 401)])
def test_fees_above_ten_percent_are_refused(
    deployers: dict[str, Any], parts: tuple[Any, Any, str], creator_fee: int, protocol_fee: int
) -> None:
    tok, bp, treasury = parts
    with boa.reverts("factory: fees above 10%"):
        _deploy(deployers, bp, tok, treasury, BASE_PRICE, SLOPE, creator_fee, protocol_fee)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("treasury", ZERO, "factory: treasury is the zero address"),
        (
            "blueprint",
            "0x000000000000000000000000000000000000dEaD",
            "factory: blueprint is not a contract",
        ),
        (
            "tok",
            "0x000000000000000000000000000000000000dEaD",
            "factory: payment token is not a contract",
        ),
        ("base", 10**24 + 1, "factory: base price too large"),
        ("slope", 10**22 + 1, "factory: slope too large"),
        ("flat", 0, "factory: curve is flat at zero"),
    ],
)
def test_bad_constructor_arguments_are_refused(
    deployers: dict[str, Any], parts: tuple[Any, Any, str], field: str, value: Any, reason: str
) -> None:
    tok, bp, treasury = parts
    args: dict[str, Any] = {
        "blueprint": bp,
        "tok": tok,
        "treasury": treasury,
        "base": BASE_PRICE,
        "slope": SLOPE,
    }
    if field == "flat":
        args["base"] = args["slope"] = 0
    else:
        args[field] = value
    with boa.reverts(reason):
        _deploy(
            deployers,
            args["blueprint"],
            args["tok"],
            args["treasury"],
            args["base"],
            args["slope"],
            0,
            0,
        )


def test_create_token_registers_both_ways_and_emits_event(system: System) -> None:
    bob = boa.env.generate_address("bob")
    with boa.env.prank(bob):
        address = system.factory.create_token("Bob", "BOB")
    logs = system.factory.get_logs()
    created = [log for log in logs if type(log).__name__ == "TokenCreated"]
    assert len(created) == 1
    assert (created[0].creator, created[0].token) == (bob, address)
    assert (created[0].name, created[0].symbol, created[0].index) == ("Bob", "BOB", 1)
    assert system.factory.token_of(bob) == address
    assert system.factory.creator_of(address) == bob
    assert system.factory.token_count() == 2
    assert system.factory.token_at(1) == address
    token = system.token_deployer.at(address)
    assert (token.name(), token.symbol(), token.decimals()) == ("Bob", "BOB", 18)
    assert token.creator() == bob
    assert token.factory() == system.factory.address
    assert token.payment_token() == system.tok.address
    assert token.treasury() == system.treasury
    assert (token.creator_fee_bps(), token.protocol_fee_bps()) == (500, 200)
    assert (token.totalSupply(), token.reserve()) == (0, 0)


def test_second_token_for_same_creator_is_refused(system: System) -> None:
    with boa.env.prank(system.creator), boa.reverts("factory: creator already has a token"):
        system.factory.create_token("Again", "AGN")
    assert system.factory.token_count() == 1


def test_unknown_addresses_map_to_zero(system: System) -> None:
    stranger = boa.env.generate_address()
    assert system.factory.token_of(stranger) == ZERO
    assert system.factory.creator_of(stranger) == ZERO


@pytest.mark.parametrize(
    ("name", "symbol", "reason"),
    [("", "X", "factory: empty name"), ("X", "", "factory: empty symbol")],
)
def test_empty_name_or_symbol_is_refused(
    system: System, name: str, symbol: str, reason: str
) -> None:
    with boa.env.prank(boa.env.generate_address()), boa.reverts(reason):
        system.factory.create_token(name, symbol)
