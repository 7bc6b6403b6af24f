# pragma version ~=0.4.3
"""
@title CreatorToken
@notice An ERC-20 (snekmate's audited `erc20` module) whose supply changes
        only through a linear bonding curve priced in the payment token (TOK).

        Curve. With U = 10**18 base units per whole token and the supply `s`
        in base units, the spot price in TOK base units per whole token is

            price(s) = base_price + slope * s / U

        and the TOK needed to move the supply from 0 to `s` is the integral

            F(s) = (2 * base_price * U * s + slope * s**2) / (2 * U**2).

        A buy of `n` at supply `s` costs F(s + n) - F(s)
        = (2 * base_price * U * n + slope * n * (2 * s + n)) / (2 * U**2),
        rounded UP; a sell of `n` at supply `s` refunds F(s) - F(s - n)
        = (2 * base_price * U * n + slope * n * (2 * s - n)) / (2 * U**2),
        rounded DOWN. The rounding keeps the internal reserve at or above
        F(totalSupply), so the whole supply can always be sold back.

        Fees. On both sides the creator fee is floor(curve_amount *
        creator_fee_bps / 10_000) and the protocol fee likewise with
        protocol_fee_bps (sum <= 10 %). A buyer pays curve cost + fees; a
        seller receives curve refund - fees. Fees go straight to the fee
        recipient (the creator until the creator rotates it through the
        factory) and the treasury; the reserve holds exactly the curve
        amounts.

        Parameters. The constructor checks the bounds of `curve_bounds`
        (fees <= 10 %, base_price <= 10**24, slope <= 10**22, a curve that
        is not flat at zero) that the `unsafe_*` arithmetic and the overflow
        margins below rely on; the factory checks the same bounds once, at
        its own deployment, so a bad factory fails early, but a token does
        not trust its deployer for them.

        Roles. snekmate's `erc20` needs `ownable`: the deployer (the factory)
        becomes owner and minter of every token. Neither role is reachable:
        no exported function reads the owner or the minter flag (`mint`,
        `set_minter` and the ownership functions are not exported), and the
        factory has no function that could call them. The factory keeps
        both rather than spend gas on every `create_token` to clear storage
        that nothing reads; the only thing the factory may do to a token is
        `set_fee_recipient`, on the creator's behalf.
"""

from ethereum.ercs import IERC20

from snekmate.auth import ownable
from snekmate.tokens import erc20

from . import curve_bounds

initializes: ownable
initializes: erc20[ownable := ownable]

# @dev The ERC-20 surface without mint/burn/minter/ownership functions:
#      supply changes only through `buy` and `sell`.
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
)

UNIT: public(constant(uint256)) = 10**18
BPS: constant(uint256) = 10_000
# @dev One billion whole tokens. With the bounds checked in the constructor
#      (base_price <= 10**24, slope <= 10**22) every product below stays
#      under 2**256 (see `curve_bounds`).
MAX_SUPPLY: public(constant(uint256)) = 10**27

factory: public(immutable(address))
creator: public(immutable(address))
payment_token: public(immutable(address))
treasury: public(immutable(address))
base_price: public(immutable(uint256))
slope: public(immutable(uint256))
creator_fee_bps: public(immutable(uint256))
protocol_fee_bps: public(immutable(uint256))

# @dev Where the creator fee goes: the creator at first; the creator may
#      rotate it through the factory (a lost or compromised key then stops
#      collecting fees).
fee_recipient: public(address)

# @dev TOK held for refunds: the sum of curve costs minus curve refunds.
_reserve: uint256


event Buy:
    buyer: indexed(address)
    amount: uint256
    cost: uint256
    curve_cost: uint256
    creator_fee: uint256
    protocol_fee: uint256
    supply: uint256
    price: uint256


event Sell:
    seller: indexed(address)
    amount: uint256
    refund: uint256
    curve_refund: uint256
    creator_fee: uint256
    protocol_fee: uint256
    supply: uint256
    price: uint256


event FeeRecipientChanged:
    previous: indexed(address)
    current: indexed(address)


@deploy
def __init__(
    name_: String[25],
    symbol_: String[5],
    creator_: address,
    payment_token_: address,
    treasury_: address,
    base_price_: uint256,
    slope_: uint256,
    creator_fee_bps_: uint256,
    protocol_fee_bps_: uint256,
):
    assert creator_ != empty(address), "creator token: creator is the zero address"
    assert payment_token_.is_contract, "creator token: payment token is not a contract"
    assert treasury_ != empty(address), "creator token: treasury is the zero address"
    assert base_price_ <= curve_bounds.MAX_BASE_PRICE, "creator token: base price too large"
    assert slope_ <= curve_bounds.MAX_SLOPE, "creator token: slope too large"
    assert base_price_ > 0 or slope_ > 0, "creator token: curve is flat at zero"
    # @dev Each rate is bounded before the addition, so the sum cannot overflow.
    assert creator_fee_bps_ <= curve_bounds.MAX_TOTAL_FEE_BPS, "creator token: fees above 10%"
    assert protocol_fee_bps_ <= curve_bounds.MAX_TOTAL_FEE_BPS, "creator token: fees above 10%"
    assert (
        creator_fee_bps_ + protocol_fee_bps_ <= curve_bounds.MAX_TOTAL_FEE_BPS
    ), "creator token: fees above 10%"
    ownable.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")
    factory = msg.sender
    creator = creator_
    self.fee_recipient = creator_
    payment_token = payment_token_
    treasury = treasury_
    base_price = base_price_
    slope = slope_
    creator_fee_bps = creator_fee_bps_
    protocol_fee_bps = protocol_fee_bps_


@internal
@view
def _curve_numerator(amount: uint256, supply_term: uint256) -> uint256:
    # @dev `supply_term` is 2*s + n (buy) or 2*s - n (sell); the bounds on
    #      MAX_SUPPLY and the factory's parameter bounds keep this below 2**256
    #      (see MAX_SUPPLY). Checked arithmetic reverts if they ever did not.
    return 2 * base_price * UNIT * amount + slope * amount * supply_term


@internal
@view
def _buy_curve_cost(supply: uint256, amount: uint256) -> uint256:
    assert amount > 0, "creator token: zero amount"
    # @dev supply <= MAX_SUPPLY always holds, so the subtraction cannot underflow.
    assert amount <= unsafe_sub(MAX_SUPPLY, supply), "creator token: supply cap reached"
    numerator: uint256 = self._curve_numerator(amount, 2 * supply + amount)
    denominator: uint256 = 2 * UNIT * UNIT
    # @dev Round up: ceil(a / b) = (a + b - 1) // b; a < 2**255, so no overflow.
    return (numerator + denominator - 1) // denominator


@internal
@view
def _sell_curve_refund(supply: uint256, amount: uint256) -> uint256:
    assert amount > 0, "creator token: zero amount"
    assert amount <= supply, "creator token: amount exceeds supply"
    numerator: uint256 = self._curve_numerator(amount, 2 * supply - amount)
    # @dev Round down.
    return numerator // (2 * UNIT * UNIT)


@internal
@view
def _fees(curve_amount: uint256) -> (uint256, uint256):
    return (
        curve_amount * creator_fee_bps // BPS,
        curve_amount * protocol_fee_bps // BPS,
    )


@internal
@view
def _spot_price(supply: uint256) -> uint256:
    return base_price + slope * supply // UNIT


@external
@view
@nonreentrant
def reserve() -> uint256:
    """
    @notice TOK held for refunds (excludes anything sent to the contract
            outside `buy`).
    """
    return self._reserve


@external
@view
@nonreentrant
def spot_price() -> uint256:
    """
    @notice Price of the next infinitesimal token, in TOK base units per
            whole token, rounded down.
    """
    return self._spot_price(erc20.totalSupply)


@external
@view
@nonreentrant
def quote_buy(amount: uint256) -> uint256:
    """
    @notice Total TOK (curve cost + fees) that `buy(amount, ...)` takes now.
    """
    cost: uint256 = self._buy_curve_cost(erc20.totalSupply, amount)
    creator_fee: uint256 = 0
    protocol_fee: uint256 = 0
    creator_fee, protocol_fee = self._fees(cost)
    return cost + creator_fee + protocol_fee


@external
@view
@nonreentrant
def quote_sell(amount: uint256) -> uint256:
    """
    @notice TOK (curve refund - fees) that `sell(amount, ...)` pays now.
    """
    refund: uint256 = self._sell_curve_refund(erc20.totalSupply, amount)
    creator_fee: uint256 = 0
    protocol_fee: uint256 = 0
    creator_fee, protocol_fee = self._fees(refund)
    # @dev Fees are at most 10 % of `refund`, so this cannot underflow.
    return unsafe_sub(refund, creator_fee + protocol_fee)


@internal
def _pay_out(to: address, amount: uint256):
    if amount > 0:
        assert extcall IERC20(payment_token).transfer(
            to, amount, default_return_value=True
        ), "creator token: payment transfer failed"


@internal
def _pull(sender: address, to: address, amount: uint256):
    if amount > 0:
        assert extcall IERC20(payment_token).transferFrom(
            sender, to, amount, default_return_value=True
        ), "creator token: payment transfer failed"


@external
@nonreentrant
def buy(amount: uint256, max_cost: uint256, deadline: uint256) -> uint256:
    """
    @notice Mints `amount` base units to the caller for at most `max_cost`
            TOK (curve cost + fees) if mined by `deadline` (Unix seconds).
            The caller must have approved this contract for the cost.
    @return The TOK paid.
    """
    assert block.timestamp <= deadline, "creator token: deadline passed"
    supply: uint256 = erc20.totalSupply
    cost: uint256 = self._buy_curve_cost(supply, amount)
    creator_fee: uint256 = 0
    protocol_fee: uint256 = 0
    creator_fee, protocol_fee = self._fees(cost)
    total: uint256 = cost + creator_fee + protocol_fee
    assert total <= max_cost, "creator token: cost above max_cost"

    # @dev Effects before interactions (the lock guards re-entry as well).
    self._reserve += cost
    erc20._mint(msg.sender, amount)

    self._pull(msg.sender, self, cost)
    self._pull(msg.sender, self.fee_recipient, creator_fee)
    self._pull(msg.sender, treasury, protocol_fee)

    new_supply: uint256 = supply + amount
    log Buy(
        buyer=msg.sender,
        amount=amount,
        cost=total,
        curve_cost=cost,
        creator_fee=creator_fee,
        protocol_fee=protocol_fee,
        supply=new_supply,
        price=self._spot_price(new_supply),
    )
    return total


@external
@nonreentrant
def sell(amount: uint256, min_refund: uint256, deadline: uint256) -> uint256:
    """
    @notice Burns `amount` base units of the caller and pays at least
            `min_refund` TOK (curve refund - fees) if mined by `deadline`.
    @return The TOK paid to the caller.
    """
    assert block.timestamp <= deadline, "creator token: deadline passed"
    supply: uint256 = erc20.totalSupply
    refund: uint256 = self._sell_curve_refund(supply, amount)
    creator_fee: uint256 = 0
    protocol_fee: uint256 = 0
    creator_fee, protocol_fee = self._fees(refund)
    # @dev Fees are at most 10 % of `refund`, so this cannot underflow.
    payout: uint256 = unsafe_sub(refund, creator_fee + protocol_fee)
    assert payout >= min_refund, "creator token: refund below min_refund"

    erc20._burn(msg.sender, amount)
    # @dev The reserve covers F(supply) >= refund (see the curve notes).
    self._reserve -= refund

    self._pay_out(msg.sender, payout)
    self._pay_out(self.fee_recipient, creator_fee)
    self._pay_out(treasury, protocol_fee)

    new_supply: uint256 = supply - amount
    log Sell(
        seller=msg.sender,
        amount=amount,
        refund=payout,
        curve_refund=refund,
        creator_fee=creator_fee,
        protocol_fee=protocol_fee,
        supply=new_supply,
        price=self._spot_price(new_supply),
    )
    return payout


@external
@nonreentrant
def set_fee_recipient(new_recipient: address):
    """
    @notice Sends future creator fees to `new_recipient`. Only the factory
            may call this, on behalf of the creator
            (`CreatorTokenFactory.set_fee_recipient`).
    """
    assert msg.sender == factory, "creator token: caller is not the factory"
    assert new_recipient != empty(address), "creator token: fee recipient is the zero address"
    assert new_recipient != self, "creator token: fee recipient is the token"
    previous: address = self.fee_recipient
    self.fee_recipient = new_recipient
    log FeeRecipientChanged(previous=previous, current=new_recipient)
