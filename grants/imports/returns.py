"""Reading a provider's completed return (the workbook `grants.exports.provider_return` made), without
the database: every figure found by its key, every problem named by its cell.

The file goes through the same defences as an allocation import (`check_archive`: size, zip members,
ratios, DTDs; openpyxl through defusedxml). Cells are read as typed (not as cached results), so a
formula such as `=1+1` is seen and refused: a return holds figures, not sums a provider's copy of
Excel worked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from grants import money
from grants.exports.provider_return import KEY_COLUMN, LABEL_COLUMN, MARKER, SHEET, VALUE_COLUMN, VALUE_LETTER
from grants.imports import ImportRefused, Problem
from grants.imports.archive import check_archive, sha256_of
from grants.imports.reading._base import _open
from grants.models import FORMULA_STARTS_IN_WORDS, starts_like_a_formula

MAX_ROWS = 300


@dataclass(frozen=True)
class ExpectedMeasure:
    pk: int
    name: str
    kind: str
    retired: bool = False  # read if a workbook made before it was retired holds it; never required

    @property
    def key(self) -> str:
        return f"measure:{self.pk}"


@dataclass
class ReadReturn:
    """A return as read: the figures that could be read, and every problem found."""

    file_name: str
    sha256: str
    line_id: int | None = None
    period_id: int | None = None
    values: dict[int, Decimal] = field(default_factory=dict)  # by measure pk
    period_total: Decimal | None = None
    spend_to_date: Decimal | None = None
    explanation: str = ""
    problems: list[Problem] = field(default_factory=list)

    def spend_by_type(self, measures) -> Decimal:
        return sum((self.values.get(m.pk, Decimal(0)) for m in measures if m.kind == "spend"), Decimal(0))


def _cells(content: bytes) -> dict[str, tuple[int, object]]:
    """{key: (row number, value as typed)} from the Return sheet, or ImportRefused."""
    workbook = _open(content, data_only=False)
    try:
        if SHEET not in workbook.sheetnames:
            raise ImportRefused(
                [
                    Problem(
                        f"The workbook has no sheet called {SHEET!r}: it is not a provider return made by "
                        "the "
                        "ledger. Download the return for this line and period from its returns page."
                    )
                ]
            )
        found = {}
        for number, values in enumerate(
            workbook[SHEET].iter_rows(max_col=KEY_COLUMN + 1, max_row=MAX_ROWS, values_only=True), start=1
        ):
            values = tuple(values) + (None,) * (KEY_COLUMN + 1 - len(values))
            key = values[KEY_COLUMN]
            if isinstance(key, str) and key.strip():
                found.setdefault(key.strip(), (number, values[VALUE_COLUMN], values[LABEL_COLUMN]))
        return found
    finally:
        workbook.close()


def _reference(cells, key: str) -> int | None:
    row, value, _ = cells.get(key, (None, None, None))
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    return None


def read_return(content: bytes, file_name: str, measures: list[ExpectedMeasure]) -> ReadReturn:
    """The return in `content`, with a Problem for each cell that is wrong; ImportRefused when the
    file is not a provider return workbook at all."""
    check_archive(content)
    cells = _cells(content)
    if cells.get("workbook", (None, None))[1] != MARKER:
        raise ImportRefused(
            [
                Problem(
                    "This workbook is not a provider return made by the ledger (its hidden references are "
                    "missing). Download the return for this line and period from its returns page.",
                    SHEET,
                )
            ]
        )
    read = ReadReturn(file_name=file_name, sha256=sha256_of(content))
    read.line_id = _reference(cells, "line_id")
    read.period_id = _reference(cells, "period_id")
    for key in ("line_id", "period_id"):
        if _reference(cells, key) is None:
            row = cells.get(key, (None,))[0]
            read.problems.append(
                Problem(
                    "the ledger reference was changed or removed; download the return again.",
                    SHEET,
                    row,
                    VALUE_LETTER,
                )
            )
    for measure in measures:
        if measure.key not in cells and measure.retired:
            continue
        if measure.key not in cells:
            read.problems.append(
                Problem(
                    f"the workbook has no cell for {measure.name!r}, which the fund now asks for; "
                    "download the "
                    "return again.",
                    SHEET,
                )
            )
            continue
        row, value, _label = cells[measure.key]
        number = _number(read, row, value, measure.name, whole=measure.kind == "output")
        if number is not None:
            read.values[measure.pk] = number
    for key, what in (
        ("period_total", "the total spend in the period"),
        ("spend_to_date", "the spend to date"),
    ):
        if key not in cells:
            read.problems.append(
                Problem(f"the workbook has no cell for {what}; download the return again.", SHEET)
            )
            continue
        row, value, _label = cells[key]
        setattr(read, key, _number(read, row, value, what, whole=False))
    _check_total(read, cells, measures)
    _read_explanation(read, cells)
    read.problems.sort(key=lambda problem: problem.row or 0)
    return read


def _number(read: ReadReturn, row: int, value, what: str, *, whole: bool) -> Decimal | None:
    """The cell's number, or None with a Problem saying what is wrong with it."""

    def problem(message: str) -> None:
        read.problems.append(Problem(message, SHEET, row, VALUE_LETTER))

    if value is None or (isinstance(value, str) and not value.strip()):
        problem(f"{what} is missing; enter a number (0 if there is nothing to report).")
        return None
    if isinstance(value, str) and value.strip().startswith("="):
        problem(
            f"{what} holds a formula ({value.strip()[:40]}); type the figure itself, as a number, "
            "not a formula."
        )
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        shown = value.strip()[:40] if isinstance(value, str) else str(value)
        problem(f"{what} is {shown!r}, which is text, not a number; type the figure as a number.")
        return None
    number = Decimal(str(value))
    if number < 0:
        problem(f"{what} is {number}, less than 0; figures in a return are 0 or more.")
        return None
    if whole and number != number.to_integral_value():
        problem(f"{what} is {number}, not a whole number.")
        return None
    if not whole and not money.has_two_places_at_most(number):
        problem(f"{what} is {number}: amounts are in pounds and pence, at most 2 decimal places.")
        return None
    return number


def _check_total(read: ReadReturn, cells, measures: list[ExpectedMeasure]) -> None:
    spend = [m for m in measures if m.kind == "spend"]
    if read.period_total is None or any(m.pk not in read.values for m in spend if m.key in cells):
        return
    added = read.spend_by_type(spend)
    if added != read.period_total:
        row = cells["period_total"][0]
        read.problems.append(
            Problem(
                f"the total spend in the period is £{read.period_total:,.2f}, but the cost types add up to "
                f"£{added:,.2f}, £{abs(added - read.period_total):,.2f} "
                f"{'more' if added > read.period_total else 'less'}; correct the total or the cost types.",
                SHEET,
                row,
                VALUE_LETTER,
            )
        )
    if read.spend_to_date is not None and read.spend_to_date < read.period_total:
        row = cells["spend_to_date"][0]
        read.problems.append(
            Problem(
                f"the spend to date (£{read.spend_to_date:,.2f}) is less than the spend in this period "
                f"(£{read.period_total:,.2f}); the spend to date includes this period's.",
                SHEET,
                row,
                VALUE_LETTER,
            )
        )


def _read_explanation(read: ReadReturn, cells) -> None:
    if "explanation" not in cells:
        return
    row, value, _label = cells["explanation"]
    if value is None:
        return
    text = value.strip() if isinstance(value, str) else str(value)
    if starts_like_a_formula(text):
        read.problems.append(
            Problem(
                f"the explanation begins with {text[0]!r}; it cannot begin with {FORMULA_STARTS_IN_WORDS} "
                "(a spreadsheet would run it as a formula). Reword its start.",
                SHEET,
                row,
                VALUE_LETTER,
            )
        )
        return
    read.explanation = text[:5000]
