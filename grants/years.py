"""The only place that knows what a financial year is.

A police and crime commissioner's office accounts by the UK public-sector financial year, 1 April to
31 March. `FinancialYear(2023)` is 2023-24: 1 April 2023 to 31 March 2024. Every page, command and
export that shows a period names it with `label` ("2023-24"), and every date is placed in its year
with `financial_year(date)`; nothing else in the ledger does date arithmetic on years.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db.models import F, Func, IntegerField

# The financial year starts on this day and month.
START_MONTH, START_DAY = 4, 1

# Years the ledger holds: a mistyped "20233" or "1923" is refused, not stored.
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True, order=True)
class FinancialYear:
    """The financial year that starts on 1 April of `start_year`."""

    start_year: int

    def __post_init__(self):
        if not isinstance(self.start_year, int) or isinstance(self.start_year, bool):
            raise TypeError("a financial year is named by the calendar year it starts in, an int")
        # Any date's year, so a mistyped date still has a year to be shown in; what a person types
        # as a year (`parse_year`) and a fund's profile keep to the years the ledger holds.
        if not 1 <= self.start_year <= datetime.MAXYEAR - 1:
            raise ValueError(f"{self.start_year} is not a year")

    @property
    def label(self) -> str:
        """As offices write it: "2023-24"."""
        return f"{self.start_year}-{str(self.start_year + 1)[-2:]}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.start_year, START_MONTH, START_DAY)

    @property
    def end(self) -> datetime.date:
        """The last day of the year, 31 March."""
        return datetime.date(self.start_year + 1, START_MONTH, START_DAY) - datetime.timedelta(days=1)

    @property
    def described(self) -> str:
        """The label with its days, as a form names the year: "2023-24 (1 April 2023 to 31 March 2024)"."""
        return f"{self.label} ({in_words(self.start)} to {in_words(self.end)})"

    def __contains__(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> FinancialYear:
        return FinancialYear(self.start_year + 1)

    def __str__(self) -> str:
        return self.label


def in_words(day: datetime.date) -> str:
    """1 April 2023, as the pages write a day (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"


def financial_year(day: datetime.date) -> FinancialYear:
    """The financial year `day` falls in: 31 March 2024 is in 2023-24, 1 April 2024 in 2024-25."""
    if isinstance(day, datetime.datetime):
        day = day.date()
    starts_this_calendar_year = (day.month, day.day) >= (START_MONTH, START_DAY)
    return FinancialYear(day.year if starts_this_calendar_year else day.year - 1)


class StartYearOf(Func):
    """The start year of the financial year a date falls in, in the database: the calendar year of the
    date three months earlier (1 April 2024 less three months is 1 January 2024; 31 March 2024 less
    three months is 31 December 2023), in each database's own date arithmetic, one function call a
    row. The same as `financial_year(day).start_year`, which a test checks across the year's ends."""

    output_field = IntegerField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=f"CAST(strftime('%%%%Y', %(expressions)s, '-{START_MONTH - 1} months') AS INTEGER)",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=(
                f"CAST(EXTRACT(YEAR FROM %(expressions)s - INTERVAL '{START_MONTH - 1} months') AS INTEGER)"
            ),
            **extra_context,
        )


def start_year_sql(date_sql: str, vendor: str) -> str:
    """`StartYearOf` as SQL text over the SQL expression `date_sql`, for a trigger or a statement run
    without parameters (its `%` is not doubled): the same arithmetic on each database."""
    if vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {date_sql} - INTERVAL '{START_MONTH - 1} months') AS INTEGER)"
    return f"CAST(strftime('%Y', {date_sql}, '-{START_MONTH - 1} months') AS INTEGER)"


def start_year_of(date_field) -> StartYearOf:
    """A database expression for the start year of the financial year the `date_field` falls in
    (2023 for 31 March 2024), so the database can group rows by year. (The rule of `StartYearOf`
    holds because the year starts on the first of a month.)"""
    return StartYearOf(F(date_field) if isinstance(date_field, str) else date_field)


def years_between(first_day: datetime.date, last_day: datetime.date) -> list[FinancialYear]:
    """Every financial year a period touches, in order: the seed fund's spend period, 23 March to
    31 October 2020, touches 2019-20 and 2020-21."""
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    first, last = financial_year(first_day), financial_year(last_day)
    return [FinancialYear(start) for start in range(first.start_year, last.start_year + 1)]


YEAR_TEXT = re.compile(r"\s*(?:FY\s*)?(\d{4})\s*[-/–]\s*(\d{2}|\d{4})\s*", re.IGNORECASE)


def parse_year(text: str) -> FinancialYear:
    """A financial year as people write it: "2023-24", "2023/24", "2023-2024", "FY 2023/24". The two
    years must follow each other ("2023-25" is refused, never guessed)."""
    match = YEAR_TEXT.fullmatch(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a financial year; write it as 2023-24")
    start, end = int(match.group(1)), match.group(2)
    if not FIRST_YEAR <= start <= LAST_YEAR:
        raise ValueError(
            f"{start} is not a year the ledger holds ({FIRST_YEAR}-{str(FIRST_YEAR + 1)[-2:]} to "
            f"{LAST_YEAR}-{str(LAST_YEAR + 1)[-2:]})"
        )
    following = start + 1
    if (len(end) == 2 and end != str(following)[-2:]) or (len(end) == 4 and int(end) != following):
        raise ValueError(
            f"{text!r} is not a financial year: the second year must follow the first, as in 2023-24"
        )
    return FinancialYear(start)
