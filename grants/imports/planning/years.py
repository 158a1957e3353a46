"""A table by year: each year a line has an amount for checked against the fund, the rows of a
table with a Year column merged, and each line's entries for its years."""

from __future__ import annotations

from grants import money
from grants.imports import Problem
from grants.imports.planning.plan import CHANGED, UNCHANGED, ImportPlan, LedgerSnapshot, PlanLine
from grants.imports.reading import SheetLine
from grants.models import Fund
from grants.years import FinancialYear, in_words


def _check_years(line: SheetLine, fund: Fund, spend_years, profile_years, plan: ImportPlan, problem) -> None:
    """Each year the line has an amount for must be one of the fund's: in its spend period and, for a
    fund with a profile, in the profile; a date the row gives must be in the year it is for."""
    sheet = plan.sheet
    for year, _ in line.years:
        if year not in spend_years:
            labels = ", ".join(item.label for item in spend_years)
            message = (
                f"{year.label} is outside the fund's spend period ({in_words(fund.spend_start)} to "
                f"{in_words(fund.spend_end)}: {labels}); the line cannot have an amount for it."
            )
        elif profile_years and year.start_year not in profile_years:
            labels = ", ".join(FinancialYear(start).label for start in sorted(profile_years))
            message = (
                f"the fund's profile has no control total for {year.label} (it has {labels}); add the year "
                "to the fund's profile first, or correct the file."
            )
        else:
            continue
        plan.problems.append(Problem(message, sheet.sheet_name, line.row, sheet.year_column(year)))
    first_year = line.years[0][0]
    if line.effective_date is not None and line.effective_date not in first_year:
        what = "the year of its amount" if sheet.has_column("year") else "the first year it has an amount in"
        problem(
            line,
            "award_date",
            f"the award date {in_words(line.effective_date)} is not in {first_year.label}, {what}; its "
            f"entry is dated in that year ({in_words(first_year.start)} to {in_words(first_year.end)}).",
        )


def _merge_year_row(planned: PlanLine, line: SheetLine, problem) -> None:
    """A further row of a table with a Year column for a line already planned: its year's amount."""
    ((year, amount),) = line.years
    if year in planned.years:
        problem(
            line,
            "year",
            f"{planned.label} appears twice for {year.label}, in rows {planned.year_rows[year]} and "
            f"{line.row}; a line has one amount a year.",
        )
        return
    if line.line_number is not None and line.line_number != planned.line_number:
        problem(
            line,
            "number",
            f"{planned.label} is line {planned.line_number} in row {planned.row}, and line "
            f"{line.line_number} here; a line keeps its number in every year.",
        )
        return
    planned.years[year] = amount
    planned.year_rows[year] = line.row
    if line.effective_date is not None:
        planned.year_dates[year] = line.effective_date


def _plan_years(plan: ImportPlan, fund: Fund, snapshot: LedgerSnapshot) -> None:
    """A table by year: each line's entries. A new line's first year with an amount is its award and
    each later year a variation of that year's size; a line in the ledger gets a variation for each
    year the file covers whose amount differs from the ledger's (an empty year in the file is £0.00
    that year), and years the file does not cover stay as they are. Each entry is dated at the later
    of its year's start and the fund's spend start, or on the date its row gives."""
    if not plan.sheet.by_year:
        return
    plan.years = list(plan.sheet.years)
    nothing = money.zero()
    for line in plan.lines:
        line.amount = money.total(money.gbp(amount) for amount in line.years.values()).amount
        dates = {year: line.year_dates.get(year) or max(year.start, fund.spend_start) for year in plan.years}
        line.by_year = [line.years.get(year) for year in plan.years]
        if line.allocation_id is None:
            line.entries = [(year, amount, dates[year]) for year, amount in sorted(line.years.items())]
            continue
        line.current_years = {
            FinancialYear(start): amount
            for start, amount in sorted(snapshot.years_by_line.get(line.allocation_id, {}).items())
        }
        changes = []
        for year in plan.years:
            in_file = money.gbp(line.years[year]) if year in line.years else nothing
            in_ledger = money.gbp(line.current_years[year]) if year in line.current_years else nothing
            change = money.difference(in_file, in_ledger)
            if change.amount:
                changes.append((year, change.amount, dates[year]))
        line.entries = changes
        line.action = CHANGED if changes else UNCHANGED
