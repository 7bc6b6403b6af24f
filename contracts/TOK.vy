# pragma version ~=0.4.3
"""
@title TOK, the Toktok platform token
@notice Plain 18-decimal ERC-20 (snekmate's audited `erc20` module) with
        EIP-2612 permits. The owner is the initial minter: on the devnet the
        deployer mints TOK to demo accounts (a faucet). Ownership is
        transferable and renounceable; `transfer_ownership` and
        `renounce_ownership` move or drop the minter role with it, so a
        renounced TOK has a fixed supply forever.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__():
    ownable.__init__()
    erc20.__init__("Toktok", "TOK", 18, "Toktok TOK", "1")
