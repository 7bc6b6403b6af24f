"""TOK: metadata, owner mint, transfers, ownership transfer and renounce."""

from __future__ import annotations

from typing import Any

import boa
import pytest


@pytest.fixture
def tok(deployers: dict[str, Any]) -> Any:
    return deployers["TOK"].deploy()


def test_tok_metadata(tok: Any) -> None:
    assert (tok.name(), tok.symbol(), tok.decimals(), tok.totalSupply()) == ("Toktok", "TOK", 18, 0)
    assert tok.owner() == boa.env.eoa


def test_owner_mints_to_any_account(tok: Any) -> None:
    alice = boa.env.generate_address()
    tok.mint(alice, 5 * 10**18)
    assert tok.balanceOf(alice) == 5 * 10**18
    assert tok.totalSupply() == 5 * 10**18


def test_non_owner_cannot_mint(tok: Any) -> None:
    mallory = boa.env.generate_address()
    with boa.env.prank(mallory), boa.reverts("erc20: access is denied"):
        tok.mint(mallory, 1)


def test_transfer_moves_balance(tok: Any) -> None:
    alice, bob = boa.env.generate_address(), boa.env.generate_address()
    tok.mint(alice, 10)
    with boa.env.prank(alice):
        tok.transfer(bob, 4)
    assert (tok.balanceOf(alice), tok.balanceOf(bob)) == (6, 4)
    with boa.env.prank(alice), boa.reverts("erc20: transfer amount exceeds balance"):
        tok.transfer(bob, 7)


def test_ownership_transfer_moves_the_minter_role(tok: Any) -> None:
    old, new = boa.env.eoa, boa.env.generate_address()
    tok.transfer_ownership(new)
    assert tok.owner() == new
    with boa.reverts("erc20: access is denied"):
        tok.mint(old, 1)
    with boa.env.prank(new):
        tok.mint(new, 1)
    assert tok.balanceOf(new) == 1


def test_only_owner_transfers_ownership(tok: Any) -> None:
    mallory = boa.env.generate_address()
    with boa.env.prank(mallory), boa.reverts("ownable: caller is not the owner"):
        tok.transfer_ownership(mallory)


def test_renounced_tok_has_fixed_supply(tok: Any) -> None:
    tok.mint(boa.env.eoa, 3)
    tok.renounce_ownership()
    assert tok.owner() == "0x0000000000000000000000000000000000000000"
    with boa.reverts("erc20: access is denied"):
        tok.mint(boa.env.eoa, 1)
    assert tok.totalSupply() == 3
