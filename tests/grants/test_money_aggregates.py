"""`money.amount_from_aggregate`: the per-row form of `from_aggregate` the MoJ return streams with."""

from decimal import Decimal

import pytest

from grants import money


@pytest.mark.parametrize(
    "value",
    [None, 0, Decimal("1234.5"), Decimal("-0.10"), 14999800.0000004, 0.30000000000000004, Decimal("7.125")],
)
def test_amount_from_aggregate_is_the_amount_of_from_aggregate(value):
    assert money.amount_from_aggregate(value) == money.from_aggregate(value).amount
    assert money.amount_from_aggregate(value).as_tuple().exponent == -2


def test_a_float_sum_from_sqlite_comes_back_to_the_penny():
    assert money.amount_from_aggregate(14999800.0000004) == Decimal("14999800.00")
