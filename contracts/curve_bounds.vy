# pragma version ~=0.4.3
"""
@title curve_bounds
@notice The parameter bounds that CreatorToken's arithmetic relies on,
        shared by the factory (which refuses bad parameters once, at its
        own deployment) and CreatorToken (which checks them again in its
        constructor, so a token never trusts its deployer for them).

        With U = 10**18 and the supply capped at MAX_SUPPLY = 10**27:
        slope * (s + n)**2 <= 10**22 * 10**54 = 10**76 and
        2 * base_price * U * n <= 2 * 10**24 * 10**18 * 10**27 < 10**70,
        so every product of the curve stays far below 2**256; fees of at
        most 10 % keep `refund - fees` from underflowing.
"""

# @dev Upper bound of creator fee + protocol fee, in basis points (10 %).
MAX_TOTAL_FEE_BPS: constant(uint256) = 1_000
MAX_BASE_PRICE: constant(uint256) = 10**24
MAX_SLOPE: constant(uint256) = 10**22
