"""CreatorToken's constructor checks the bounds its arithmetic relies on, whoever deploys it."""

from __future__ import annotations

from typing import Any

import boa
import pytest
from support.contracts import BASE_PRICE, SLOPE, deploy_faucet_tok

ZERO = "0x0000000000000000000000000000000000000000"


def _args(tok_: Any, **changes: Any) -> list[Any]:
    args: dict[str, Any] = {
        "name": "Direct",
        "symbol": "DIR",
        "creator": boa.env.generate_address("creator"),
        "tok": tok_.address,
        "treasury": boa.env.generate_address("treasury"),
        "base": BASE_PRICE,
        "slope": SLOPE,
        "creator_fee": 500,
        "protocol_fee": 200,
    }
    args.update(changes)
    return list(args.values())


@pytest.fixture
def tok(deployers: dict[str, Any]) -> Any:
    return deploy_faucet_tok(deployers["TOK"])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"creator_fee": 1001, "protocol_fee": 0}, "creator token: fees above 10%"),
        ({"creator_fee": 0, "protocol_fee": 1001}, "creator token: fees above 10%"),
        ({"creator_fee": 600, "protocol_fee": 401}, "creator token: fees above 10%"),
        ({"creator_fee": 2**256 - 1, "protocol_fee": 1}, "creator token: fees above 10%"),
        ({"base": 10**24 + 1}, "creator token: base price too large"),
        ({"slope": 10**22 + 1}, "creator token: slope too large"),
        ({"base": 0, "slope": 0}, "creator token: curve is flat at zero"),
        ({"creator": ZERO}, "creator token: creator is the zero address"),
        ({"treasury": ZERO}, "creator token: treasury is the zero address"),
        (
            {"tok": "0x000000000000000000000000000000000000dEaD"},
            "creator token: payment token is not a contract",
        ),
    ],
)
def test_a_token_deployed_directly_refuses_what_the_factory_refuses(
    deployers: dict[str, Any], tok: Any, changes: dict[str, Any], reason: str
) -> None:
    with boa.reverts(reason):
        deployers["CreatorToken"].deploy(*_args(tok, **changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"creator_fee": 1000, "protocol_fee": 0},
        {"creator_fee": 600, "protocol_fee": 400},
        {"base": 10**24, "slope": 10**22},
        {"base": 0, "slope": 1},
    ],
)
def test_parameters_at_the_bounds_are_accepted(
    deployers: dict[str, Any], tok: Any, changes: dict[str, Any]
) -> None:
    token = deployers["CreatorToken"].deploy(*_args(tok, **changes))
    assert token.fee_recipient() == token.creator()


def test_factory_and_token_share_the_bounds(deployers: dict[str, Any], tok: Any) -> None:
    token = deployers["CreatorToken"].deploy(*_args(tok))
    blueprint = deployers["CreatorToken"].deploy_as_blueprint()
    factory = deployers["CreatorTokenFactory"].deploy(
        blueprint, tok.address, boa.env.generate_address(), BASE_PRICE, SLOPE, 500, 200
    )
    assert (factory.MAX_TOTAL_FEE_BPS(), factory.MAX_BASE_PRICE(), factory.MAX_SLOPE()) == (
        1_000,
        10**24,
        10**22,
    )
    assert token.MAX_SUPPLY() == 10**27
