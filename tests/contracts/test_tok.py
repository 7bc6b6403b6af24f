"""TOK: metadata, the owner as only minter, the cap, fixed supply, ownership and renounce."""

from __future__ import annotations

from typing import Any

import boa
import pytest
from support.contracts import FAUCET_CAP, deploy_faucet_tok

from tokens.artifacts import load_artifact

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def tok(deployers: dict[str, Any]) -> Any:
    return deploy_faucet_tok(deployers["TOK"])


def test_tok_metadata(tok: Any) -> None:
    assert (tok.name(), tok.symbol(), tok.decimals(), tok.totalSupply()) == ("Toktok", "TOK", 18, 0)
    assert tok.owner() == boa.env.eoa
    assert tok.cap() == FAUCET_CAP


def test_no_minter_role_beyond_the_owner() -> None:
    names = {entry.get("name") for entry in load_artifact("TOK").abi}
    assert {"mint", "transfer_ownership", "renounce_ownership", "cap", "owner"} <= names
    assert not names & {"set_minter", "is_minter", "burn", "burn_from"}


def test_owner_mints_to_any_account(tok: Any) -> None:
    alice = boa.env.generate_address()
    tok.mint(alice, 5 * 10**18)
    assert tok.balanceOf(alice) == 5 * 10**18
    assert tok.totalSupply() == 5 * 10**18


def test_non_owner_cannot_mint(tok: Any) -> None:
    mallory = boa.env.generate_address()
    with boa.env.prank(mallory), boa.reverts("ownable: caller is not the owner"):
        tok.mint(mallory, 1)


def test_mint_stops_at_the_cap(deployers: dict[str, Any]) -> None:
    alice = boa.env.generate_address()
    tok = deployers["TOK"].deploy(alice, 60, 100)
    assert (tok.balanceOf(alice), tok.totalSupply(), tok.owner()) == (60, 60, boa.env.eoa)
    tok.mint(alice, 40)
    with boa.reverts("tok: cap exceeded"):
        tok.mint(alice, 1)
    assert tok.totalSupply() == 100


def test_fixed_supply_is_minted_at_deployment_and_nobody_owns_tok(
    deployers: dict[str, Any],
) -> None:
    holder = boa.env.generate_address()
    supply = 10**9 * 10**18
    tok = deployers["TOK"].deploy(holder, supply, supply)
    assert (tok.balanceOf(holder), tok.totalSupply(), tok.cap()) == (supply, supply, supply)
    assert tok.owner() == ZERO
    for caller in (boa.env.eoa, holder):
        with boa.env.prank(caller), boa.reverts("ownable: caller is not the owner"):
            tok.mint(caller, 1)


@pytest.mark.parametrize(
    ("holder", "supply", "cap", "reason"),
    [
        ("someone", 0, 0, "tok: cap is zero"),
        ("someone", 11, 10, "tok: initial supply above cap"),
        (ZERO, 5, 10, "tok: initial holder is the zero address"),
    ],
)
def test_bad_supply_arguments_are_refused(
    deployers: dict[str, Any], holder: str, supply: int, cap: int, reason: str
) -> None:
    address = boa.env.generate_address() if holder == "someone" else holder
    with boa.reverts(reason):
        deployers["TOK"].deploy(address, supply, cap)


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
    with boa.reverts("ownable: caller is not the owner"):
        tok.mint(old, 1)
    with boa.env.prank(new):
        tok.mint(new, 1)
    assert tok.balanceOf(new) == 1
    with boa.env.prank(new), boa.reverts("tok: new owner is the zero address"):
        tok.transfer_ownership(ZERO)


def test_only_owner_transfers_ownership(tok: Any) -> None:
    mallory = boa.env.generate_address()
    with boa.env.prank(mallory), boa.reverts("ownable: caller is not the owner"):
        tok.transfer_ownership(mallory)
    with boa.env.prank(mallory), boa.reverts("ownable: caller is not the owner"):
        tok.renounce_ownership()


def test_old_minters_cannot_mint_after_renounce(tok: Any) -> None:
    # Every account that ever could mint: the deployer, and an owner it handed TOK to.
    deployer, later_owner = boa.env.eoa, boa.env.generate_address()
    tok.mint(deployer, 3)
    tok.transfer_ownership(later_owner)
    with boa.env.prank(later_owner):
        tok.mint(later_owner, 2)
        tok.renounce_ownership()
    assert tok.owner() == ZERO
    for old_minter in (deployer, later_owner):
        with boa.env.prank(old_minter), boa.reverts("ownable: caller is not the owner"):
            tok.mint(old_minter, 1)
    assert tok.totalSupply() == 5
