"""Pure bonding-curve math, identical to ``contracts/CreatorToken.vy``.

With ``U = 10**18`` base units per whole token and the supply ``s`` in base units:

* spot price (TOK base units per whole token): ``base_price + slope * s // U``
* ``F(s) = (2 * base_price * U * s + slope * s**2) / (2 * U**2)`` TOK to mint ``s`` from zero
* buy ``n`` at ``s``: ``ceil(F(s + n) - F(s))``; sell ``n`` at ``s``: ``floor(F(s) - F(s - n))``
* fees: ``floor(curve_amount * bps / 10_000)`` for the creator and the protocol; a buyer
  pays curve cost + fees, a seller receives curve refund - fees.

No I/O; used by the client to explain quotes and by tests as the specification.
"""

from __future__ import annotations

from dataclasses import dataclass

UNIT = 10**18
BPS = 10_000
MAX_SUPPLY = 10**27
MAX_TOTAL_FEE_BPS = 1_000


class CurveError(ValueError):
    """An amount is outside what the curve accepts (zero, above supply or cap)."""


@dataclass(frozen=True)
class CurveParams:
    """Curve and fee parameters fixed at factory deployment."""

    base_price: int
    slope: int
    creator_fee_bps: int
    protocol_fee_bps: int

    def __post_init__(self) -> None:
        if self.base_price < 0 or self.slope < 0:
            raise CurveError("curve parameters must be non-negative")
        if self.creator_fee_bps < 0 or self.protocol_fee_bps < 0:
            raise CurveError("fee rates must be non-negative")
        if self.creator_fee_bps + self.protocol_fee_bps > MAX_TOTAL_FEE_BPS:
            raise CurveError("creator fee + protocol fee must be <= 10%")


@dataclass(frozen=True)
class Quote:
    """One trade: curve amount, fees, and what the trader pays (buy) or gets (sell)."""

    amount: int
    curve_amount: int
    creator_fee: int
    protocol_fee: int
    total: int
    supply_after: int
    price_after: int


def integral(params: CurveParams, supply: int) -> tuple[int, int]:
    """``F(supply)`` as an exact fraction ``(numerator, denominator)``."""
    num = 2 * params.base_price * UNIT * supply + params.slope * supply * supply
    return num, 2 * UNIT * UNIT


def spot_price(params: CurveParams, supply: int) -> int:
    return params.base_price + params.slope * supply // UNIT


def _numerator(params: CurveParams, amount: int, supply_term: int) -> int:
    return 2 * params.base_price * UNIT * amount + params.slope * amount * supply_term


def buy_curve_cost(params: CurveParams, supply: int, amount: int) -> int:
    if amount <= 0:
        raise CurveError("zero amount")
    if amount > MAX_SUPPLY - supply:
        raise CurveError("supply cap reached")
    num = _numerator(params, amount, 2 * supply + amount)
    return -(-num // (2 * UNIT * UNIT))


def sell_curve_refund(params: CurveParams, supply: int, amount: int) -> int:
    if amount <= 0:
        raise CurveError("zero amount")
    if amount > supply:
        raise CurveError("amount exceeds supply")
    return _numerator(params, amount, 2 * supply - amount) // (2 * UNIT * UNIT)


def fees(params: CurveParams, curve_amount: int) -> tuple[int, int]:
    return (
        curve_amount * params.creator_fee_bps // BPS,
        curve_amount * params.protocol_fee_bps // BPS,
    )


def quote_buy(params: CurveParams, supply: int, amount: int) -> Quote:
    cost = buy_curve_cost(params, supply, amount)
    creator_fee, protocol_fee = fees(params, cost)
    after = supply + amount
    return Quote(
        amount,
        cost,
        creator_fee,
        protocol_fee,
        cost + creator_fee + protocol_fee,
        after,
        spot_price(params, after),
    )


def quote_sell(params: CurveParams, supply: int, amount: int) -> Quote:
    refund = sell_curve_refund(params, supply, amount)
    creator_fee, protocol_fee = fees(params, refund)
    after = supply - amount
    return Quote(
        amount,
        refund,
        creator_fee,
        protocol_fee,
        refund - creator_fee - protocol_fee,
        after,
        spot_price(params, after),
    )


def to_base_units(whole: str | int, decimals: int = 18) -> int:
    """Parse a decimal amount of whole tokens (``"1.5"``) into base units, exactly."""
    text = str(whole).strip()
    if not text or text.startswith(("-", "+")):
        raise CurveError(f"not a positive decimal amount: {whole!r}")
    head, _, tail = text.partition(".")
    if (
        not (head or tail)
        or not (head.isdigit() or head == "")
        or not (tail.isdigit() or tail == "")
    ):
        raise CurveError(f"not a decimal amount: {whole!r}")
    if len(tail) > decimals:
        raise CurveError(f"more than {decimals} decimal places: {whole!r}")
    scale: int = 10**decimals
    return int(head or "0") * scale + int((tail or "0").ljust(decimals, "0"))


def to_whole(base_units: int, decimals: int = 18) -> str:
    """Format base units as a decimal string of whole tokens without trailing zeros."""
    sign = "-" if base_units < 0 else ""
    scale: int = 10**decimals
    q, r = divmod(abs(base_units), scale)
    if r == 0:
        return f"{sign}{q}"
    return f"{sign}{q}.{str(r).rjust(decimals, '0').rstrip('0')}"
