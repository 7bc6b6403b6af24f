"""Fixtures for the contract tests: titanoboa deployers and a deployed system.

Each test runs inside ``boa.env.anchor()`` so chain state never leaks between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boa
import pytest
from support.contracts import (
    BASE_PRICE,
    CONTRACTS,
    HERE,
    SLOPE,
    System,
    SystemFactory,
    deploy_faucet_tok,
)

from tokens.curve import CurveParams


@pytest.fixture(scope="session")
def deployers() -> dict[str, Any]:
    return {
        "TOK": boa.load_partial(str(CONTRACTS / "TOK.vy")),
        "CreatorToken": boa.load_partial(str(CONTRACTS / "CreatorToken.vy")),
        "CreatorTokenFactory": boa.load_partial(str(CONTRACTS / "CreatorTokenFactory.vy")),
        "MaliciousToken": boa.load_partial(str(HERE / "MaliciousToken.vy")),
        "FeeOnTransferToken": boa.load_partial(str(HERE / "FeeOnTransferToken.vy")),
    }


@pytest.fixture(autouse=True)
def _isolated_chain() -> Iterator[None]:
    with boa.env.anchor():
        yield


@pytest.fixture
def make_system(deployers: dict[str, Any]) -> SystemFactory:
    def make(
        creator_fee_bps: int = 500,
        protocol_fee_bps: int = 200,
        base_price: int = BASE_PRICE,
        slope: int = SLOPE,
        payment_token: Any = None,
    ) -> System:
        tok = payment_token if payment_token is not None else deploy_faucet_tok(deployers["TOK"])
        blueprint = deployers["CreatorToken"].deploy_as_blueprint()
        treasury = boa.env.generate_address("treasury")
        factory = deployers["CreatorTokenFactory"].deploy(
            blueprint, tok.address, treasury, base_price, slope, creator_fee_bps, protocol_fee_bps
        )
        creator = boa.env.generate_address("creator")
        with boa.env.prank(creator):
            token_address = factory.create_token("Alice Clips", "ALICE")
        token = deployers["CreatorToken"].at(token_address)
        params = CurveParams(base_price, slope, creator_fee_bps, protocol_fee_bps)
        return System(tok, factory, token, creator, treasury, params, deployers["CreatorToken"])

    return make


@pytest.fixture
def system(make_system: SystemFactory) -> System:
    return make_system()
