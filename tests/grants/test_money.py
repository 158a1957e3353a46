"""Money arithmetic, without the database."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from grants import money


def test_total_starts_from_zero_pounds():
    assert money.total([]) == Money(Decimal("0.00"), "GBP")


def test_total_adds_pence_exactly_where_floats_would_not():
    # 0.1 + 0.2 != 0.3 in binary floating point; in pounds and pence it must be exact.
    amounts = [money.gbp("0.10"), money.gbp("0.20")]
    assert money.total(amounts) == money.gbp("0.30")
    assert money.total([money.gbp("80528.42")] * 3).amount == Decimal("241585.26")


def test_total_refuses_another_currency():
    with pytest.raises(ValueError, match="cannot add EUR to a GBP total"):
        money.total([money.gbp("1.00"), Money(Decimal("1.00"), "EUR")])


@pytest.mark.parametrize("value", [1.5, True])
def test_gbp_refuses_floats(value):
    with pytest.raises(TypeError, match="money is never a float"):
        money.gbp(value)


def test_gbp_refuses_three_decimal_places_rather_than_rounding():
    with pytest.raises(ValueError, match="1.005 has more than 2 decimal places"):
        money.gbp("1.005")


def test_gbp_refuses_text():
    with pytest.raises(ValueError, match="'eighty pounds' is not an amount"):
        money.gbp("eighty pounds")


def test_quantize_rounds_half_away_from_zero():
    assert money.quantize(Decimal("0.005")) == Decimal("0.01")
    assert money.quantize(Decimal("-0.005")) == Decimal("-0.01")


def test_from_aggregate_turns_no_rows_into_zero_and_floats_into_exact_pence():
    assert money.from_aggregate(None) == money.gbp("0.00")
    assert money.from_aggregate(738810.8200000001) == money.gbp("738810.82")
    assert money.from_aggregate(Decimal("80528.4200000000")).amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Money(Decimal("1234.56"), "GBP"), "£1,234.56"),
        (Money(Decimal("-0.29"), "GBP"), "-£0.29"),
        (Decimal("738810.53"), "£738,810.53"),
        (Decimal("0"), "£0.00"),
        (None, ""),
    ],
)
def test_format_gbp(value, shown):
    assert money.format_gbp(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.29", "29p"),
        ("-0.29", "29p"),
        ("0.01", "1p"),
        ("0.99", "99p"),
        ("1.00", "£1.00"),
        ("-1234.5", "£1,234.50"),
    ],
)
def test_format_gbp_briefly_says_pence_under_a_pound(value, shown):
    assert money.format_gbp_briefly(money.gbp(value)) == shown


def test_as_string_has_exactly_two_places():
    assert money.as_string(money.gbp("43216")) == "43216.00"


def test_split_puts_the_pennies_left_over_on_the_last_part():
    assert money.split(money.gbp("100.00"), 3) == [money.gbp("33.33"), money.gbp("33.33"), money.gbp("33.34")]
    assert money.split(money.gbp("0.05"), 4) == [money.gbp("0.01")] * 3 + [money.gbp("0.02")]


def test_split_adds_up_to_the_amount_exactly():
    for parts in range(1, 25):
        assert money.total(money.split(money.gbp("80528.47"), parts)) == money.gbp("80528.47")


def test_split_of_an_even_amount_is_even():
    assert money.split(money.gbp("1200.00"), 12) == [money.gbp("100.00")] * 12


@pytest.mark.parametrize("parts", [0, -1, True])
def test_split_refuses_fewer_than_one_part(parts):
    with pytest.raises(ValueError, match="one part or more"):
        money.split(money.gbp("10.00"), parts)


def test_split_refuses_another_currency():
    with pytest.raises(ValueError, match="cannot split EUR"):
        money.split(Money(Decimal("10.00"), "EUR"), 2)
