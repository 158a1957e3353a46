"""The only place that adds, rounds, parses or formats money.

Every amount in the ledger is pounds sterling with two decimal places, held as `Decimal` inside a
django-money `Money`. Database aggregates come back as `Decimal` (or as a float-backed value on
SQLite), so they pass through `from_aggregate()`, which quantizes them to pence. Nothing here accepts
a `float`: a float has already lost the penny it was meant to carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from djmoney.money import Money

GBP = "GBP"
PENNY = Decimal("0.01")
# Matches the MoneyField declaration: 14 digits, 2 of them after the point.
MAX_DIGITS = 14
DECIMAL_PLACES = 2
LIMIT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)


def quantize(amount: Decimal) -> Decimal:
    """Round to the penny, half away from zero (the rounding a finance officer does by hand)."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


class AmountTooLarge(ValueError):
    pass


def gbp(amount: Decimal | int | str) -> Money:
    """A `Money` in pounds from an exact amount. Refuses floats, more than two decimal places and
    amounts the 14-digit columns cannot hold."""
    decimal_amount = to_decimal(amount)
    if not decimal_amount.is_finite():
        raise ValueError(f"{amount!r} is not an amount")
    if abs(decimal_amount) >= LIMIT:
        raise AmountTooLarge(f"{amount} is not less than £1,000,000,000,000")
    if not has_two_places_at_most(decimal_amount):
        raise ValueError(f"{amount} has more than 2 decimal places")
    return Money(quantize(decimal_amount), GBP)


def zero() -> Money:
    return Money(Decimal("0.00"), GBP)


def to_decimal(amount: Decimal | int | str) -> Decimal:
    if isinstance(amount, float | bool):
        raise TypeError("money is never a float; pass a Decimal, an int or a string")
    try:
        return Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValueError(f"{amount!r} is not an amount") from error


def has_two_places_at_most(amount: Decimal) -> bool:
    return amount.is_finite() and amount == amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def amount_from_aggregate(value: Decimal | int | None) -> Decimal:
    """The result of a database `Sum` as pounds to the penny: `None` (no rows) is zero. For a value
    per row of a large export, where a `Money` would be thrown away at once."""
    if value is None:
        return zero().amount
    if isinstance(value, float):
        # SQLite sums NUMERIC columns as REAL; the rows themselves are exact pence, so the
        # nearest penny of the float's shortest repr is the exact total.
        value = Decimal(repr(value))
    return quantize(Decimal(value))


def from_aggregate(value: Decimal | int | None) -> Money:
    """The result of a database `Sum` as `Money`: `None` (no rows) is zero."""
    return Money(amount_from_aggregate(value), GBP)


def total(amounts: Iterable[Money]) -> Money:
    """Add amounts, starting from a zero `Money` (never from the int 0 that `sum()` starts with)."""
    result = zero()
    for amount in amounts:
        if str(amount.currency) != GBP:
            raise ValueError(f"cannot add {amount.currency} to a GBP total")
        result = result + amount
    return Money(quantize(result.amount), GBP)


class Tally:
    """A running total in pounds for amounts that arrive one at a time, as in a streamed export."""

    def __init__(self) -> None:
        self._sum = Decimal("0.00")

    def add(self, amount: Decimal) -> None:
        self._sum += amount

    @property
    def total(self) -> Money:
        return Money(quantize(self._sum), GBP)


def split(amount: Money, parts: int) -> list[Money]:
    """`amount` in `parts` instalments of whole pence, as even as pence allow, the pennies left over on
    the last: £100.00 in 3 is £33.33, £33.33, £33.34. They always add up to `amount` exactly."""
    if not isinstance(parts, int) or isinstance(parts, bool) or parts < 1:
        raise ValueError("an amount is split into one part or more")
    if str(amount.currency) != GBP:
        raise ValueError(f"cannot split {amount.currency}: amounts are in GBP")
    whole = quantize(amount.amount)
    if whole != amount.amount:
        raise ValueError(f"{amount.amount} has more than 2 decimal places")
    pence = int(whole * 100)
    # Truncated towards zero, so a negative amount also leaves its odd pence on the last part.
    each = abs(pence) // parts * (1 if pence >= 0 else -1)
    last = pence - each * (parts - 1)
    return [Money(quantize(Decimal(each) / 100), GBP) for _ in range(parts - 1)] + [
        Money(quantize(Decimal(last) / 100), GBP)
    ]


def difference(minuend: Money, subtrahend: Money) -> Money:
    """`minuend - subtrahend`, in pounds, to the penny."""
    return Money(quantize(minuend.amount - subtrahend.amount), GBP)


def format_gbp(amount: Money | Decimal | None) -> str:
    """`£1,234.56`, `-£1,234.56`; an empty string for no amount."""
    if amount is None:
        return ""
    value = amount.amount if isinstance(amount, Money) else amount
    value = quantize(Decimal(value))
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


def format_gbp_briefly(amount: Money) -> str:
    """A difference as a person says it: `29p` under a pound, else as `format_gbp`; the sign dropped
    (the sentence says more or less)."""
    value = abs(quantize(amount.amount))
    if value < 1:
        return f"{int(value * 100)}p"
    return format_gbp(value)


def format_variance(variance: Money) -> str:
    """A variance with its side, to the penny: `£5,000.00 over-allocated`, `£0.29 under-allocated`
    (ledger total minus control total; positive is over)."""
    side = "over-allocated" if variance.amount > 0 else "under-allocated"
    return f"{format_gbp(abs(variance.amount))} {side}"


def as_string(amount: Money) -> str:
    """An amount as plain text with exactly two decimal places, for JSON and CSV."""
    return f"{quantize(amount.amount):.2f}"
