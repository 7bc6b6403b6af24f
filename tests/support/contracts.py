"""Shared helpers for the contract tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa

from tokens.curve import CurveParams

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
HERE = ROOT / "tests" / "contracts"  # the test-only contracts (.vy)

BASE_PRICE = 10**16  # 0.01 TOK per whole token at supply 0
SLOPE = 10**15  # +0.001 TOK per whole token of supply
ONE = 10**18
FAR_DEADLINE = 2**64
# Larger than the devnet's cap (tokens.deploy.DEVNET_TOK_CAP): some tests buy a whole
# creator-token supply, which costs more TOK than the devnet ever mints.
FAUCET_CAP = 2**256 - 1


def deploy_faucet_tok(tok_deployer: Any) -> Any:
    """TOK as the devnet deploys it: no initial supply, the deployer mints (a faucet)."""
    return tok_deployer.deploy(boa.env.eoa, 0, FAUCET_CAP)


@dataclass
class System:
    """A deployed TOK + factory + one creator token, with named accounts."""

    tok: Any
    factory: Any
    token: Any
    creator: str
    treasury: str
    params: CurveParams
    token_deployer: Any

    def fund(self, account: str, amount: int = 10**30) -> None:
        """Give `account` TOK and approve the creator token for all of it."""
        self.tok.mint(account, amount)
        with boa.env.prank(account):
            self.tok.approve(self.token.address, 2**256 - 1)


SystemFactory = Callable[..., System]
