# pragma version ~=0.4.3
"""
@title TOK, the Toktok platform token
@notice Plain 18-decimal ERC-20 (snekmate's audited `erc20` module) with
        EIP-2612 permits and a hard cap on the supply. TOK backs every
        creator token's reserve, so it takes no fee on transfer, never
        rebases and has no hooks.

        Supply. The constructor mints `initial_supply` to `initial_holder`
        and fixes `cap` (>= `initial_supply`). The owner is the only minter
        and may mint up to `cap`; there is no other minter role (snekmate's
        `set_minter` and `is_minter` are not exported, and the deployer's
        minter flag is cleared here). `transfer_ownership` moves the right
        to mint with the ownership; `renounce_ownership` ends minting for
        good, so a renounced TOK has a fixed supply forever.

        One contract for every network: a public network deploys it with
        `cap == initial_supply` (the constructor then renounces: the whole
        supply exists from the first block and nobody can ever mint); the
        devnet deploys it with no initial supply and a large cap, and its
        owner (dev account 0) mints to demo accounts as a faucet.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    ownable.owner,
)

# @dev The most TOK that can ever exist, in base units.
cap: public(immutable(uint256))


@deploy
def __init__(initial_holder: address, initial_supply: uint256, cap_: uint256):
    assert cap_ > 0, "tok: cap is zero"
    assert initial_supply <= cap_, "tok: initial supply above cap"
    ownable.__init__()
    erc20.__init__("Toktok", "TOK", 18, "Toktok TOK", "1")
    # @dev Minting is the owner's alone (see `mint`): drop the flag that
    #      snekmate's constructor gives the deployer.
    erc20.is_minter[msg.sender] = False
    log erc20.RoleMinterChanged(minter=msg.sender, status=False)
    cap = cap_
    if initial_supply > 0:
        assert initial_holder != empty(address), "tok: initial holder is the zero address"
        erc20._mint(initial_holder, initial_supply)
    if initial_supply == cap_:
        # @dev Fixed supply: nothing is left to mint, so nobody owns TOK.
        ownable._transfer_ownership(empty(address))


@external
def mint(owner: address, amount: uint256):
    """
    @notice Mints `amount` to `owner`; only the owner may mint, and never
            past `cap`.
    """
    ownable._check_owner()
    assert erc20.totalSupply + amount <= cap, "tok: cap exceeded"
    erc20._mint(owner, amount)


@external
def transfer_ownership(new_owner: address):
    """
    @notice Moves the ownership, and with it the right to mint, to
            `new_owner`; the previous owner can no longer mint.
    """
    ownable._check_owner()
    assert new_owner != empty(address), "tok: new owner is the zero address"
    ownable._transfer_ownership(new_owner)


@external
def renounce_ownership():
    """
    @notice Leaves TOK without an owner. The owner is the only minter, so
            nobody can mint again: the supply is fixed forever.
    """
    ownable._check_owner()
    ownable._transfer_ownership(empty(address))
