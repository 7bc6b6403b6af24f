# pragma version ~=0.4.3
"""
@title CreatorTokenFactory
@notice Deploys at most one `CreatorToken` per creator address from an
        ERC-5202 blueprint and keeps the registry in both directions.
        The payment token, treasury, curve parameters and fee rates are
        fixed at deployment and passed unchanged to every token (which
        checks the same bounds again in its constructor).

        The factory is the owner and minter of every token it deploys
        (snekmate's `erc20` gives both roles to the deployer); no token
        exports a function that uses them, and this factory never calls
        one. Its only call into a token is `set_fee_recipient`, made for
        the token's creator.
"""

interface ICreatorToken:
    def set_fee_recipient(new_recipient: address): nonpayable


from . import curve_bounds

# @dev The bounds of `curve_bounds` (CreatorToken checks them again).
MAX_TOTAL_FEE_BPS: public(constant(uint256)) = curve_bounds.MAX_TOTAL_FEE_BPS
MAX_BASE_PRICE: public(constant(uint256)) = curve_bounds.MAX_BASE_PRICE
MAX_SLOPE: public(constant(uint256)) = curve_bounds.MAX_SLOPE

blueprint: public(immutable(address))
payment_token: public(immutable(address))
treasury: public(immutable(address))
base_price: public(immutable(uint256))
slope: public(immutable(uint256))
creator_fee_bps: public(immutable(uint256))
protocol_fee_bps: public(immutable(uint256))

# @dev creator -> token and token -> creator.
token_of: public(HashMap[address, address])
creator_of: public(HashMap[address, address])
# @dev Enumeration of every token, in creation order.
token_count: public(uint256)
token_at: public(HashMap[uint256, address])


event TokenCreated:
    creator: indexed(address)
    token: indexed(address)
    name: String[25]
    symbol: String[5]
    index: uint256


@deploy
def __init__(
    blueprint_: address,
    payment_token_: address,
    treasury_: address,
    base_price_: uint256,
    slope_: uint256,
    creator_fee_bps_: uint256,
    protocol_fee_bps_: uint256,
):
    assert blueprint_.is_contract, "factory: blueprint is not a contract"
    assert payment_token_.is_contract, "factory: payment token is not a contract"
    assert treasury_ != empty(address), "factory: treasury is the zero address"
    assert base_price_ <= MAX_BASE_PRICE, "factory: base price too large"
    assert slope_ <= MAX_SLOPE, "factory: slope too large"
    assert base_price_ > 0 or slope_ > 0, "factory: curve is flat at zero"
    # @dev Each rate is bounded before the addition, so the sum cannot overflow.
    assert creator_fee_bps_ <= MAX_TOTAL_FEE_BPS, "factory: fees above 10%"
    assert protocol_fee_bps_ <= MAX_TOTAL_FEE_BPS, "factory: fees above 10%"
    assert creator_fee_bps_ + protocol_fee_bps_ <= MAX_TOTAL_FEE_BPS, "factory: fees above 10%"
    blueprint = blueprint_
    payment_token = payment_token_
    treasury = treasury_
    base_price = base_price_
    slope = slope_
    creator_fee_bps = creator_fee_bps_
    protocol_fee_bps = protocol_fee_bps_


@external
def create_token(name: String[25], symbol: String[5]) -> address:
    """
    @notice Deploys the caller's creator token. A creator gets one token;
            a second call reverts with "factory: creator already has a token".
    """
    assert self.token_of[msg.sender] == empty(address), "factory: creator already has a token"
    assert len(name) > 0, "factory: empty name"
    assert len(symbol) > 0, "factory: empty symbol"
    token: address = create_from_blueprint(
        blueprint,
        name,
        symbol,
        msg.sender,
        payment_token,
        treasury,
        base_price,
        slope,
        creator_fee_bps,
        protocol_fee_bps,
    )
    index: uint256 = self.token_count
    self.token_of[msg.sender] = token
    self.creator_of[token] = msg.sender
    self.token_at[index] = token
    # @dev Cannot overflow: one increment per deployed contract.
    self.token_count = unsafe_add(index, 1)
    log TokenCreated(creator=msg.sender, token=token, name=name, symbol=symbol, index=index)
    return token


@external
def set_fee_recipient(new_recipient: address):
    """
    @notice Sends the future creator fees of the caller's token to
            `new_recipient` (the token logs `FeeRecipientChanged`). Only the
            creator of a token may rotate its fee recipient; the creator and
            the registry stay as they are.
    """
    token: address = self.token_of[msg.sender]
    assert token != empty(address), "factory: caller has no token"
    extcall ICreatorToken(token).set_fee_recipient(new_recipient)
