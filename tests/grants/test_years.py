"""Financial years: 1 April to 31 March, named "2023-24"."""

import datetime

import pytest

from grants.years import FinancialYear, financial_year, parse_year, years_between


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (datetime.date(2024, 3, 31), "2023-24"),
        (datetime.date(2024, 4, 1), "2024-25"),
        (datetime.date(2020, 3, 23), "2019-20"),
        (datetime.date(2020, 10, 31), "2020-21"),
        (datetime.date(2001, 1, 1), "2000-01"),
        (datetime.date(2099, 12, 31), "2099-00"),
        (datetime.datetime(2023, 4, 1, 0, 0, tzinfo=datetime.UTC), "2023-24"),
    ],
)
def test_a_day_falls_in_the_year_that_started_on_the_last_first_of_april(day, label):
    assert financial_year(day).label == label


def test_a_year_runs_from_the_first_of_april_to_the_thirty_first_of_march():
    year = FinancialYear(2023)
    assert (year.start, year.end) == (datetime.date(2023, 4, 1), datetime.date(2024, 3, 31))
    assert datetime.date(2024, 3, 31) in year
    assert datetime.date(2024, 4, 1) not in year
    assert datetime.date(2023, 3, 31) not in year
    assert year.next() == FinancialYear(2024)
    assert str(year) == "2023-24"
    assert sorted([FinancialYear(2025), FinancialYear(2023)]) == [FinancialYear(2023), FinancialYear(2025)]


def test_a_leap_year_ends_on_the_thirty_first_of_march_too():
    assert FinancialYear(2023).end == datetime.date(2024, 3, 31)
    assert (FinancialYear(2023).end - FinancialYear(2023).start).days == 365  # 2024 is a leap year


def test_the_seed_funds_spend_period_touches_two_years():
    labels = [year.label for year in years_between(datetime.date(2020, 3, 23), datetime.date(2020, 10, 31))]
    assert labels == ["2019-20", "2020-21"]
    three = years_between(datetime.date(2023, 4, 1), datetime.date(2026, 3, 31))
    assert [year.label for year in three] == ["2023-24", "2024-25", "2025-26"]
    with pytest.raises(ValueError, match="ends before it starts"):
        years_between(datetime.date(2024, 1, 1), datetime.date(2023, 1, 1))


@pytest.mark.parametrize(
    "text", ["2023-24", "2023/24", "2023-2024", "FY 2023/24", " 2023 – 24 ", "fy2023-24"]
)
def test_years_are_read_as_offices_write_them(text):
    assert parse_year(text) == FinancialYear(2023)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2023-25", "the second year must follow the first"),
        ("2023-2025", "the second year must follow the first"),
        ("2023", "is not a financial year"),
        ("23-24", "is not a financial year"),
        ("", "is not a financial year"),
        ("1899-00", "is not a year the ledger holds"),
    ],
)
def test_anything_else_is_refused_in_words(text, message):
    with pytest.raises(ValueError, match=message):
        parse_year(text)


def test_a_year_is_named_by_an_int_in_range():
    with pytest.raises(TypeError):
        FinancialYear("2023")
    with pytest.raises(TypeError):
        FinancialYear(True)
    # A mistyped date still falls in a year, shown as any other; a year typed as a year is held to
    # the ledger's range.
    assert FinancialYear(1999).label == "1999-00"
    assert FinancialYear(2100).label == "2100-01"
    with pytest.raises(ValueError, match="2000-01 to 2099-00"):
        parse_year("1999-00")
    with pytest.raises(ValueError, match="is not a year"):
        FinancialYear(0)


@pytest.mark.parametrize(
    "day",
    [
        datetime.date(2024, 3, 31),
        datetime.date(2024, 4, 1),
        datetime.date(2024, 2, 29),
        datetime.date(2023, 12, 31),
        datetime.date(2024, 1, 1),
        datetime.date(2020, 3, 23),
        datetime.date(2020, 10, 31),
    ],
)
def test_the_database_places_a_date_in_the_same_year_as_python(db, day):
    from grants.models import ControlTotalRevision
    from grants.years import start_year_of
    from tests.factories import FundFactory

    fund = FundFactory(spend_start=day, spend_end=day)
    found = (
        type(fund)
        .objects.filter(pk=fund.pk)
        .annotate(year=start_year_of("spend_start"))
        .values_list("year", flat=True)
    )
    assert list(found) == [financial_year(day).start_year]
    assert ControlTotalRevision.objects.count() == 0


@pytest.mark.parametrize(
    "day",
    [
        datetime.date(2024, 3, 31),
        datetime.date(2024, 4, 1),
        datetime.date(2024, 2, 29),
        datetime.date(2023, 12, 31),
        datetime.date(2024, 1, 1),
        datetime.date(2099, 6, 30),
    ],
)
def test_the_triggers_sql_places_a_date_in_the_same_year_as_python(db, day):
    """`start_year_sql()`, which the stored figures by year are kept with, agrees with Python."""
    from django.db import connection

    from grants.years import start_year_sql

    literal = f"DATE '{day.isoformat()}'" if connection.vendor == "postgresql" else f"'{day.isoformat()}'"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {start_year_sql(literal, connection.vendor)}")
        (year,) = cursor.fetchone()
    assert year == financial_year(day).start_year
