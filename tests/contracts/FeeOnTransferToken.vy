# pragma version ~=0.4.3
"""
@notice Test-only ERC-20 that burns 1 % of every transfer (a fee-on-transfer
        token): the recipient receives less than the sender sent.
"""

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)


@deploy
def __init__(holder: address, supply: uint256):
    self.balanceOf[holder] = supply
    self.totalSupply = supply


@internal
def _move(sender: address, to: address, amount: uint256):
    fee: uint256 = amount // 100
    self.balanceOf[sender] -= amount
    self.balanceOf[to] += amount - fee
    self.totalSupply -= fee


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(sender: address, to: address, amount: uint256) -> bool:
    self.allowance[sender][msg.sender] -= amount
    self._move(sender, to, amount)
    return True
