# pragma version ~=0.4.3
"""
@notice Test-only payment token that re-enters a CreatorToken from inside
        `transfer` / `transferFrom` when armed. It records whether the
        re-entrant call succeeded and the revert data it got, and either
        swallows the failure (mode += 10) or bubbles it up.
"""

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)

target: public(address)
# @dev 0 = off, 1 = re-enter buy, 2 = re-enter sell, 3 = re-enter quote_buy;
#      +10: swallow the failure instead of reverting.
mode: public(uint256)
attempts: public(uint256)
reentry_succeeded: public(bool)
revert_data: public(Bytes[256])


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount


@external
def arm(target: address, mode: uint256):
    self.target = target
    self.mode = mode


@internal
def _attack():
    mode: uint256 = self.mode
    if mode == 0:
        return
    self.mode = 0
    swallow: bool = mode >= 10
    kind: uint256 = mode % 10
    data: Bytes[100] = b""
    one: uint256 = 10**18
    zero: uint256 = 0
    if kind == 1:
        data = abi_encode(one, max_value(uint256), max_value(uint256), method_id=method_id("buy(uint256,uint256,uint256)"))
    elif kind == 2:
        data = abi_encode(one, zero, max_value(uint256), method_id=method_id("sell(uint256,uint256,uint256)"))
    else:
        data = abi_encode(one, method_id=method_id("quote_buy(uint256)"))
    self.attempts += 1
    ok: bool = False
    response: Bytes[256] = b""
    ok, response = raw_call(self.target, data, max_outsize=256, revert_on_failure=False)
    self.reentry_succeeded = ok
    self.revert_data = response
    if not swallow:
        assert ok, "malicious: re-entry failed"


@internal
def _move(sender: address, to: address, amount: uint256):
    self.balanceOf[sender] -= amount
    self.balanceOf[to] += amount


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._attack()
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(sender: address, to: address, amount: uint256) -> bool:
    self._attack()
    # @dev The attacker's own re-entrant buy pays from this contract's balance.
    if sender != self:
        self.allowance[sender][msg.sender] -= amount
    self._move(sender, to, amount)
    return True
