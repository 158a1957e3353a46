"""One cell of an imported table read as what its column needs (a line number, a name, an amount, a
date), or a `CellProblem` saying in plain words what is wrong with it."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from grants import money
from grants.models import FORMULA_STARTS_IN_WORDS, starts_like_a_formula
from grants.years import FinancialYear, parse_year

NUMBER_AS_TEXT = re.compile(r"[-+]?\s*£?\s*[-+]?\d[\d,]*(\.\d*)?\s*")


# An amount as a person prints one: £1,234.56, 1234, -£12.50 (commas every three digits only).
AMOUNT_AS_PRINTED = re.compile(r"[-+]?\s*£?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?")


DATE_AS_TEXT = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}\s+[A-Za-z]+\s+\d{2,4}")


class CellProblem(Exception):
    pass


def _describe(value) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(value)


def read_line_number(value) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem("the line number is empty.")
    if isinstance(value, bool):
        raise CellProblem(f"{value} is not a line number.")
    if isinstance(value, str):
        if re.fullmatch(r"\s*\d+\.?\s*", value):
            raise CellProblem(
                f"the line number {_describe(value)} is a number stored as text; enter it as a number."
            )
        raise CellProblem(f"{_describe(value)} is not a line number.")
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        raise CellProblem(f"the line number is a date ({value}), not a number.")
    number = Decimal(str(value))
    if number != number.to_integral_value():
        raise CellProblem(f"the line number {value} is not a whole number.")
    if number < 1:
        raise CellProblem(f"the line number {value} is not 1 or more; line numbers start at 1.")
    return int(number)


def _required_text(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem("the cell is empty.")
    if not isinstance(value, str):
        raise CellProblem(f"{_describe(value)} is not text.")
    return " ".join(value.split())


def _optional_text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CellProblem(f"{_describe(value)} is not text.")
    return " ".join(value.split())


def _not_a_formula(text: str) -> str:
    if starts_like_a_formula(text):
        raise CellProblem(
            f"{_describe(text)} begins with {text[0]!r}, and names and services cannot begin with "
            f"{FORMULA_STARTS_IN_WORDS}: a spreadsheet opening an export would run it as a formula. "
            "Reword it in the file (nothing has been imported)."
        )
    return text


def read_required_name(value) -> str:
    return _not_a_formula(_required_text(value))


def read_optional_name(value) -> str:
    return _not_a_formula(_optional_text(value))


NOTES_MAX_LENGTH = 2000


def read_notes(value) -> str:
    """A cell kept in a line's notes: text as it is (spacing tidied), a number or date as printed."""
    if is_blank(value):
        return ""
    if isinstance(value, datetime.datetime):
        text = value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    elif isinstance(value, datetime.date):
        text = value.isoformat()
    else:
        text = " ".join(str(value).split())
    if len(text) > NOTES_MAX_LENGTH:
        raise CellProblem(
            f"the note is {len(text):,} characters long; notes are {NOTES_MAX_LENGTH:,} at most."
        )
    return text


def is_blank(value) -> bool:
    """An empty cell, or one of spaces only."""
    return value is None or (isinstance(value, str) and not value.strip())


def read_amount(value) -> Decimal:
    if isinstance(value, bool):
        raise CellProblem(f"{str(value).upper()} is not an amount.")
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        raise CellProblem(f"the amount is a date ({value}), not a number.")
    if isinstance(value, str):
        if not value.strip():
            raise CellProblem("the amount is empty.")
        if NUMBER_AS_TEXT.fullmatch(value) and not AMOUNT_AS_PRINTED.fullmatch(value.strip()):
            raise CellProblem(
                f"{_describe(value)} is not an amount: its commas do not separate thousands, so it "
                "could mean more than one figure. Type the amount as a number."
            )
        if NUMBER_AS_TEXT.fullmatch(value):
            raise CellProblem(
                f"the amount {_describe(value)} is a number stored as text; enter it as a number "
                "(formatted as currency if you like)."
            )
        raise CellProblem(f"the amount {_describe(value)} is text, not a number.")
    try:
        # str() of a float is its shortest repr: the number Excel displays, never the binary expansion.
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise CellProblem(f"the amount {_describe(value)} is not a number.") from error
    if not amount.is_finite():
        raise CellProblem(f"the amount {_describe(value)} is not a number.")
    if amount < 0:
        raise CellProblem(f"the amount {amount} is negative; an award must be more than £0.00.")
    if amount == 0:
        raise CellProblem("the amount is zero; an award must be more than £0.00.")
    try:
        return money.gbp(amount).amount
    except money.AmountTooLarge as error:
        problem = f"the amount {amount} is too large (amounts are under £1,000,000,000,000)."
        raise CellProblem(problem) from error
    except ValueError as error:  # money.gbp refuses more than two places
        problem = f"the amount {amount} has more than 2 decimal places (whole pence only)."
        raise CellProblem(problem) from error


def read_year_amount(value) -> Decimal | None:
    """A cell of a year's amount column: None where the line has nothing that year (an empty cell or
    zero), else the amount as `read_amount` reads it."""
    if is_blank(value):
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value == 0:
        return None
    return read_amount(value)


def read_stated_line_total(value) -> Decimal | None:
    """A line's Total cell beside its year columns: None when empty, else a figure to check (zero
    allowed: a line with nothing in any year is said to be a problem elsewhere)."""
    if is_blank(value):
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value == 0:
        return Decimal("0.00")
    return read_amount(value)


def read_year(value) -> FinancialYear:
    """A Year cell: a financial year written as text ("2023-24", "2023/24", "FY 2023/24")."""
    if is_blank(value):
        raise CellProblem("the financial year is empty.")
    if not isinstance(value, str):
        raise CellProblem(f"{_describe(value)} is not a financial year; write it as text, as in 2023-24.")
    try:
        return parse_year(value)
    except ValueError as error:
        raise CellProblem(f"{error}.") from error


def read_date(value) -> datetime.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        if DATE_AS_TEXT.fullmatch(value.strip()):
            raise CellProblem(f"the date {_describe(value)} is a date stored as text; enter it as a date.")
        raise CellProblem(f"{_describe(value)} is not a date.")
    raise CellProblem(f"{_describe(value)} is a number, not a date; format the cell as a date.")
