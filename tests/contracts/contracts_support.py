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
HERE = Path(__file__).resolve().parent

BASE_PRICE = 10**16  # 0.01 TOK per whole token at supply 0
SLOPE = 10**15  # +0.001 TOK per whole token of supply
ONE = 10**18
FAR_DEADLINE = 2**64


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
