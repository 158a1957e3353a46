"""Provider returns: the workbook the ledger makes, filled in as a provider would, imported with every
problem named by its cell, checked against the ledger, accepted by someone else."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from grants import services
from grants.exports.provider_return import build_provider_return
from grants.imports import ImportRefused
from grants.models import LedgerEntry, Measure, ProviderReturn, ReportingPeriod
from grants.selectors import returns as selectors
from grants.services import returns as return_services
from tests.factories import AllocationFactory, FundFactory, approve_pending

YEAR_END_Q4 = datetime.date(2024, 1, 1)  # the start of 2023-24's last quarter


@pytest.fixture
def two_year_fund(db, officer):
    fund = FundFactory(
        code="returns-demo",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2025, 3, 31),
        control_total=Decimal("100000.00"),
    )
    return_services.reporting_periods_create(fund=fund, frequency="quarterly", acting_user=officer)
    return_services.measures_standard_create(fund=fund, acting_user=officer)
    return fund


def pay(line, amount, day, officer, reference="BACS-1"):
    services.payment_record(
        allocation=line, amount=Decimal(amount), effective_date=day, reference=reference, acting_user=officer
    )
    approve_pending(allocation=line, kind=LedgerEntry.Kind.PAYMENT)


@pytest.fixture
def line(two_year_fund, officer):
    line = AllocationFactory(
        fund=two_year_fund, amount=Decimal("1000.00"), effective_date=datetime.date(2023, 4, 3)
    )
    pay(line, "800.00", datetime.date(2023, 6, 1), officer)
    return line


def period_starting(fund, day):
    return ReportingPeriod.objects.get(fund=fund, start=day)


def workbook_for(line, period) -> openpyxl.Workbook:
    content = build_provider_return(selectors.provider_return_data(line, period))
    return openpyxl.load_workbook(io.BytesIO(content))


def cell_for(sheet, key):
    for row in sheet.iter_rows():
        if row[2].value == key:
            return row[1]
    raise AssertionError(key)


def fill(
    book, fund, spend=("300", "50", "100", "25", "25"), total="500", to_date="600", outputs=(12, 30, 40)
):
    sheet = book["Return"]
    # The measures the workbook has a cell for (not those retired before it was made).
    keys = {row[2].value for row in sheet.iter_rows()}
    spend_measures = [m for m in Measure.objects.filter(fund=fund, kind="spend") if f"measure:{m.pk}" in keys]
    output_measures = [
        m for m in Measure.objects.filter(fund=fund, kind="output") if f"measure:{m.pk}" in keys
    ]
    for measure, value in zip(spend_measures, spend, strict=True):
        cell_for(sheet, f"measure:{measure.pk}").value = None if value is None else Decimal(value)
    for measure, value in zip(output_measures, outputs, strict=True):
        cell_for(sheet, f"measure:{measure.pk}").value = value
    cell_for(sheet, "period_total").value = Decimal(total)
    cell_for(sheet, "spend_to_date").value = Decimal(to_date)
    cell_for(sheet, "explanation").value = "Recruitment was slower than planned."
    return book


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_periods_are_the_quarters_of_each_year_due_a_month_after_they_end(two_year_fund):
    periods = list(ReportingPeriod.objects.filter(fund=two_year_fund))
    assert len(periods) == 8
    assert (periods[0].start, periods[0].end, periods[0].due_date) == (
        datetime.date(2023, 4, 1),
        datetime.date(2023, 6, 30),
        datetime.date(2023, 7, 31),
    )
    assert (periods[3].end, periods[3].due_date) == (datetime.date(2024, 3, 31), datetime.date(2024, 4, 30))
    assert periods[-1].end == datetime.date(2025, 3, 31)


def test_the_workbook_is_prefilled_locked_and_tied_to_its_line(line):
    period = period_starting(line.fund, datetime.date(2023, 4, 1))
    sheet = workbook_for(line, period)["Return"]
    assert cell_for(sheet, "organisation").value == line.organisation.name
    assert cell_for(sheet, "award_for_year").value == 1000
    assert cell_for(sheet, "paid_to_date").value == 800
    assert cell_for(sheet, "line_id").value == line.pk
    assert sheet.protection.sheet is True
    assert cell_for(sheet, "line_id").protection.locked is True
    assert cell_for(sheet, "period_total").protection.locked is False
    assert sheet.column_dimensions["C"].hidden is True


def test_a_filled_in_return_with_three_mistakes_names_each_cell_then_imports_once_corrected(line, officer):
    period = period_starting(line.fund, datetime.date(2023, 4, 1))
    book = fill(workbook_for(line, period), line.fund, total="450")
    sheet = book["Return"]
    referrals = Measure.objects.get(fund=line.fund, name="Referrals received")
    victims = Measure.objects.get(fund=line.fund, name="Victims supported")
    referrals_cell = cell_for(sheet, f"measure:{referrals.pk}")
    victims_cell = cell_for(sheet, f"measure:{victims.pk}")
    total_cell = cell_for(sheet, "period_total")
    referrals_cell.value = "thirty"
    victims_cell.value = None
    with pytest.raises(ImportRefused) as refused:
        return_services.provider_return_import(
            allocation=line, file_name="q1.xlsx", content=saved(book), acting_user=officer
        )
    problems = [(p.row, p.column, p.message) for p in refused.value.problems]
    assert problems == [
        (
            total_cell.row,
            "B",
            "the total spend in the period is £450.00, but the cost types add up to £500.00, £50.00 more; "
            "correct the total or the cost types.",
        ),
        (
            victims_cell.row,
            "B",
            "Victims supported is missing; enter a number (0 if there is nothing to report).",
        ),
        (
            referrals_cell.row,
            "B",
            "Referrals received is 'thirty', which is text, not a number; type the figure as a number.",
        ),
    ]
    assert ProviderReturn.objects.count() == 0
    referrals_cell.value = 30
    victims_cell.value = 12
    with pytest.raises(ImportRefused) as refused:
        return_services.provider_return_import(
            allocation=line, file_name="q1.xlsx", content=saved(book), acting_user=officer
        )
    [problem] = refused.value.problems
    assert (problem.row, problem.column) == (total_cell.row, "B")
    total_cell.value = 500
    content = saved(book)
    result = return_services.provider_return_import(
        allocation=line, file_name="q1.xlsx", content=content, acting_user=officer
    )
    stored = result.provider_return
    assert (stored.period_spend.amount, stored.spend_to_date.amount) == (Decimal("500.00"), Decimal("600.00"))
    assert {v.measure.name: v.value for v in stored.values.all()}["Staff"] == Decimal("300")
    assert len(stored.sha256) == 64
    again = return_services.provider_return_import(
        allocation=line, file_name="q1.xlsx", content=content, acting_user=officer
    )
    assert again.provider_return is None
    assert ProviderReturn.objects.get().version == 1


def test_a_formula_typed_in_a_cell_is_refused(line, officer):
    period = period_starting(line.fund, datetime.date(2023, 4, 1))
    book = fill(workbook_for(line, period), line.fund)
    cell = cell_for(book["Return"], "spend_to_date")
    cell.value = "=1+1"
    with pytest.raises(ImportRefused) as refused:
        return_services.provider_return_import(
            allocation=line, file_name="q1.xlsx", content=saved(book), acting_user=officer
        )
    [problem] = refused.value.problems
    assert problem.row == cell.row
    assert "holds a formula (=1+1)" in problem.message


def test_a_workbook_made_for_another_line_is_refused(line, officer):
    other = AllocationFactory(
        fund=line.fund, amount=Decimal("500.00"), effective_date=datetime.date(2023, 4, 3)
    )
    period = period_starting(line.fund, datetime.date(2023, 4, 1))
    content = saved(fill(workbook_for(other, period), line.fund))
    with pytest.raises(ImportRefused) as refused:
        return_services.provider_return_import(
            allocation=line, file_name="x.xlsx", content=content, acting_user=officer
        )
    assert refused.value.problems[0].message.startswith(
        f"This workbook was made for line {other.line_number} of"
    )


def test_year_end_underspend_is_shown_and_recorded_as_due_awaiting_approval(line, officer):
    period = period_starting(line.fund, YEAR_END_Q4)
    content = saved(fill(workbook_for(line, period), line.fund, to_date="650"))
    preview = return_services.return_preview(allocation=line, file_name="q4.xlsx", content=content)
    assert preview.problems == []
    assert preview.comparison.underspend == Decimal("150.00")
    assert "Spent £150.00 less than paid at the year end: underspend of £150.00 is due back." in (
        preview.comparison.findings
    )
    result = return_services.provider_return_import(
        allocation=line,
        file_name="q4.xlsx",
        content=content,
        acting_user=officer,
        record_underspend=Decimal("150.00"),
    )
    entry = result.underspend_entry
    assert (entry.kind, entry.amount.amount, entry.is_pending) == ("underspend_due", Decimal("150.00"), True)
    assert entry.effective_date == datetime.date(2024, 3, 31)
    again = return_services.return_preview(allocation=line, file_name="q4.xlsx", content=content)
    assert again.comparison.underspend == Decimal("0.00")


def test_comparisons_spent_more_than_paid_and_less_before_year_end(line):
    q1 = period_starting(line.fund, datetime.date(2023, 4, 1))
    side = selectors.ledger_side([line.pk], q1)[line.pk]
    assert selectors.compare(q1, side, Decimal("900.00")).findings[1] == "Spent £100.00 more than paid."
    less = selectors.compare(q1, side, Decimal("700.00"))
    assert less.findings[1] == "Spent £100.00 less than paid so far (not yet the year end)."
    assert less.underspend == Decimal("0.00")
    over = selectors.compare(q1, side, Decimal("1200.00"))
    assert over.findings[-1] == "Spend to date is £200.00 more than the award for the year."


def test_a_pending_payment_is_shown_but_never_counted_as_paid(line, officer):
    services.payment_record(
        allocation=line,
        amount=Decimal("100.00"),
        effective_date=datetime.date(2023, 6, 2),
        reference="B2",
        acting_user=officer,
    )
    q1 = period_starting(line.fund, datetime.date(2023, 4, 1))
    side = selectors.ledger_side([line.pk], q1)[line.pk]
    assert (side.paid, side.paid_pending) == (Decimal("800.00"), Decimal("100.00"))
    assert (
        "£100.00 awaiting approval is not counted" in selectors.compare(q1, side, Decimal("800")).findings[0]
    )


def import_filled(line, period, officer, **filled):
    content = saved(fill(workbook_for(line, period), line.fund, **filled))
    return return_services.provider_return_import(
        allocation=line, file_name="r.xlsx", content=content, acting_user=officer
    ).provider_return


def test_accepting_is_for_someone_else_as_they_saw_it(line, officer, approver):
    received = import_filled(line, period_starting(line.fund, datetime.date(2023, 4, 1)), officer)
    with pytest.raises(ValidationError, match="Only an approver"):
        return_services.provider_return_accept(
            provider_return=received, expected_version=1, acting_user=officer
        )
    officer.groups.add(approver.groups.get())
    officer = type(officer).objects.get(pk=officer.pk)
    with pytest.raises(ValidationError, match="You imported this return"):
        return_services.provider_return_accept(
            provider_return=received, expected_version=1, acting_user=officer
        )
    with pytest.raises(ValidationError, match="Someone else saved a change"):
        return_services.provider_return_accept(
            provider_return=received, expected_version=0, acting_user=approver
        )
    accepted = return_services.provider_return_accept(
        provider_return=received, expected_version=1, acting_user=approver
    )
    assert accepted.accepted_by == approver
    assert ProviderReturn.objects.get().is_accepted


def test_states_and_the_overdue_count(line, officer):
    today = datetime.date(2023, 8, 15)  # Q1 due 31 July: overdue; Q2 not yet due
    rows = selectors.line_returns(line, today)
    assert [row.state for row in rows[:3]] == ["overdue", "not yet due", "not yet due"]
    assert selectors.overdue_count(today) == 1
    assert selectors.line_returns(line, datetime.date(2023, 7, 10))[0].state == "due"
    import_filled(line, rows[0].period, officer)
    assert selectors.line_returns(line, today)[0].state == "received"
    assert selectors.overdue_count(today) == 0
