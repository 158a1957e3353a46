"""A table by year: each year a line has an amount for checked against the fund, the rows of a
table with a Year column merged, and each line's entries for its years."""

from __future__ import annotations

from grants import money
from grants.imports import Problem
from grants.imports.planning.plan import CHANGED, UNCHANGED, ImportPlan, LedgerSnapshot, PlanLine
from grants.imports.reading import SheetLine
from grants.models import Fund
from grants.services.limits import LineLimits
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
    year whose amount in the file differs from the ledger's. For a line in the ledger, the years the
    table covers are its own years (its columns, or the years its Year column names) and every year
    the line has an amount in: a year the file leaves empty or out for the line is £0.00 for it, so
    a line the file moves to another year is moved, never doubled. Each entry is dated at the later
    of its year's start and the fund's spend start, or on the date its row gives. A line's amount is
    what the ledger holds for it once the import is applied."""
    if not plan.sheet.by_year:
        return
    plan.years = list(plan.sheet.years)
    nothing = money.zero()
    for line in plan.lines:
        line.amount = money.total(money.gbp(amount) for amount in line.years.values()).amount
        line.by_year = [line.years.get(year) for year in plan.years]
        if line.allocation_id is None:
            line.entries = [
                (year, amount, _date(line, year, fund)) for year, amount in sorted(line.years.items())
            ]
            continue
        line.current_years = {
            FinancialYear(start): amount
            for start, amount in sorted(snapshot.years_by_line.get(line.allocation_id, {}).items())
        }
        changes = []
        for year in sorted(set(plan.years) | set(line.current_years)):
            in_file = money.gbp(line.years[year]) if year in line.years else nothing
            in_ledger = money.gbp(line.current_years[year]) if year in line.current_years else nothing
            change = money.difference(in_file, in_ledger)
            if change.amount:
                changes.append((year, change.amount, _date(line, year, fund)))
        line.entries = changes
        line.action = CHANGED if changes else UNCHANGED
        if line.current is not None:
            line.amount = money.total([money.gbp(line.current), line.change]).amount
        _check_paid(plan, line, snapshot.limits_by_line.get(line.allocation_id))


def _date(line: PlanLine, year: FinancialYear, fund: Fund):
    return line.year_dates.get(year) or max(year.start, fund.spend_start)


def _check_paid(plan: ImportPlan, line: PlanLine, limits: LineLimits | None) -> None:
    """The import records a changed line's years one variation at a time, in year order, and a
    reduction counts at once while an increase awaiting approval gives no headroom (README,
    "Financial controls"): a year's reduction that would leave the line's award under what has been
    paid on it, approved or awaiting approval, is refused here, in the preview, naming the year's
    cell. Moving money between the years of a paid line is a carry-forward, recorded on its page."""
    if limits is None or not limits.paid_most.amount:
        return
    award = limits.award
    for year, amount, _ in line.entries:
        if amount >= 0:
            continue
        award = money.total([award, money.gbp(amount)])
        if award.amount < limits.paid_most.amount:
            in_file = money.gbp(line.years.get(year, money.zero().amount))
            plan.problems.append(
                Problem(
                    f"{line.label}: the file takes {year.label} from "
                    f"{money.format_gbp(money.gbp(line.current_years.get(year, 0)))} to "
                    f"{money.format_gbp(in_file)}, and that reduction would leave the line's award at "
                    f"{money.format_gbp(award)}, less than the {money.format_gbp(limits.paid_most)} paid "
                    "or awaiting approval on it (an increase in another year counts only once approved). "
                    "To move money between the years of a line that has been paid, record a carry-forward "
                    "on the line's page (Carry forward), with the funder's reference, and keep the file's "
                    "years as the ledger has them; otherwise correct the file. Nothing has been imported.",
                    plan.sheet.sheet_name,
                    line.year_rows.get(year, line.row),
                    plan.sheet.year_column(year),
                )
            )
            return


def _check_year_totals(plan: ImportPlan) -> None:
    """A Total row's figure in a year's column is checked against the lines' total for that year, as
    each row's Total is against its years: a difference is a problem naming the cell, both figures
    and the difference to the penny (once nothing else is wrong: a line it could not read is in
    neither figure)."""
    stated = plan.sheet.stated_year_totals
    if not stated or plan.problems:
        return
    for year, lines_total in plan.year_totals:
        if year not in stated or money.gbp(stated[year]) == lines_total:
            continue
        plan.problems.append(
            Problem(
                f"the Total row says {money.format_gbp(money.gbp(stated[year]))} for {year.label}, and the "
                f"lines' amounts for {year.label} come to {money.format_gbp(lines_total)}; the difference is "
                f"{money.format_gbp(money.difference(lines_total, money.gbp(stated[year])))}. Correct the "
                "file (nothing has been imported).",
                plan.sheet.sheet_name,
                plan.sheet.total_row,
                plan.sheet.year_column(year),
            )
        )
