"""Reconciliation by financial year: each year's lines against its control total, to the penny."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from grants import money, services
from grants.models import Allocation, Approval, Fund, FundYear, LedgerEntry
from grants.reconciliation import Status, reconcile
from grants.reconciliation.years import (
    NO_CONTROL_TOTAL,
    NotAYearOfTheFund,
    reconcile_by_year,
    reconcile_year,
)
from grants.services import AmountChange
from grants.years import FinancialYear, financial_year
from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    ThematicAreaFactory,
    approve_pending,
)
from tests.grants.test_tables import elements, text, the

Kind = LedgerEntry.Kind


def gbp(text):
    return Money(Decimal(text), "GBP")


def day(text):
    return datetime.date.fromisoformat(text)


PROFILE = {2023: "100000.00", 2024: "120000.00", 2025: "50000.00"}


@pytest.fixture
def three_year_fund(db, officer):
    """A clearly synthetic fund over 2023-24 to 2025-26 with a profile, lines awarded in one year and
    varied in the next (across the 31 March / 1 April boundary), paid, underspent and part returned
    to the funder, and some of it awaiting approval."""
    fund = FundFactory(
        code="synthetic-3y",
        spend_start=day("2023-04-01"),
        spend_end=day("2026-03-31"),
        control_total=gbp("270000.00"),
    )
    for year, amount in PROFILE.items():
        FundYear.objects.create(fund=fund, year=year, control_total=gbp(amount))
    refuge, isva = FundingCategoryFactory(name="Refuge"), FundingCategoryFactory(name="ISVA")
    abuse, violence = ThematicAreaFactory(name="Domestic Abuse"), ThematicAreaFactory(name="Sexual Violence")
    # Awarded on the last day of 2023-24 and varied on the first of 2024-25.
    first = AllocationFactory(
        fund=fund,
        funding_category=refuge,
        thematic_area=abuse,
        amount=Decimal("40000.00"),
        effective_date=day("2024-03-31"),
    )
    second = AllocationFactory(
        fund=fund,
        funding_category=isva,
        thematic_area=violence,
        amount=Decimal("59999.99"),
        effective_date=day("2023-04-01"),
    )
    third = AllocationFactory(
        fund=fund,
        funding_category=isva,
        thematic_area=abuse,
        amount=Decimal("30000.01"),
        effective_date=day("2025-06-30"),
    )
    services.allocation_amounts_set(
        changes=[
            AmountChange(allocation=first, amount=Decimal("82000.00"), effective_date=day("2024-04-01")),
            AmountChange(allocation=second, amount=Decimal("97999.98"), effective_date=day("2025-03-31")),
        ],
        memo="Second year's award",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    for allocation, amount, date in [
        (first, "10000.00", "2024-03-31"),
        (first, "20000.50", "2024-04-01"),
        (second, "59999.99", "2024-01-15"),
        (third, "7500.25", "2026-03-31"),
    ]:
        services.payment_record(
            allocation=allocation,
            amount=Decimal(amount),
            effective_date=day(date),
            reference="BACS-Y",
            acting_user=officer,
        )
    approve_pending(fund=fund)
    services.underspend_record(
        allocation=second,
        amount=Decimal("999.99"),
        effective_date=day("2024-04-01"),
        reference="REM-1",
        acting_user=officer,
    )
    services.funder_return_record(
        fund=fund,
        amount=Decimal("500.00"),
        effective_date=day("2025-04-01"),
        reference="RTF-1",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    # Awaiting approval: a variation in 2025-26 and a new line's award in 2024-25, and a payment.
    services.allocation_amounts_set(
        changes=[
            AmountChange(allocation=third, amount=Decimal("30100.02"), effective_date=day("2026-01-01"))
        ],
        memo="Uplift",
        acting_user=officer,
    )
    AllocationFactory(
        fund=fund,
        funding_category=refuge,
        thematic_area=violence,
        amount=Decimal("1234.56"),
        effective_date=day("2024-12-31"),
        approved=False,
    )
    services.payment_record(
        allocation=third,
        amount=Decimal("0.01"),
        effective_date=day("2025-12-01"),
        reference="BACS-P",
        acting_user=officer,
    )
    return fund


def counts(entry, approval):
    if entry.rejected_at is not None:
        return False
    return approval is Approval.APPROVED_OR_PENDING or entry.approved_at is not None


def python_sum(fund, year, kinds, approval=Approval.APPROVED, **on_line):
    """The Decimal sum of the fund's entries of `kinds` dated in `year` that `approval` counts."""
    amounts = [
        entry.amount.amount
        for entry in LedgerEntry.objects.filter(fund=fund, kind__in=kinds).select_related("allocation")
        if financial_year(entry.effective_date) == year
        and counts(entry, approval)
        and all(getattr(entry.allocation, field).name == name for field, name in on_line.items())
    ]
    return sum(amounts, Decimal("0.00"))


def python_line_count(fund, year, approval=Approval.APPROVED):
    return len(
        {
            entry.allocation_id
            for entry in LedgerEntry.objects.filter(fund=fund, kind__in=Kind.awarded_kinds())
            if financial_year(entry.effective_date) == year and counts(entry, approval)
        }
    )


def test_a_three_year_fund_has_a_reconciliation_for_each_year_of_its_spend_period(three_year_fund):
    years = reconcile_by_year(three_year_fund)
    assert [year.year.label for year in years] == ["2023-24", "2024-25", "2025-26"]
    assert [(year.start, year.end) for year in years] == [
        (day("2023-04-01"), day("2024-03-31")),
        (day("2024-04-01"), day("2025-03-31")),
        (day("2025-04-01"), day("2026-03-31")),
    ]
    assert [year.control_total for year in years] == [gbp(amount) for amount in PROFILE.values()]


@pytest.mark.parametrize("approval", [Approval.APPROVED, Approval.APPROVED_OR_PENDING])
def test_every_years_figures_are_the_decimal_sums_of_its_entries(three_year_fund, approval):
    fund = three_year_fund
    for result in reconcile_by_year(fund, approval):
        year = result.year
        allocated = python_sum(fund, year, Kind.awarded_kinds(), approval)
        assert result.allocated.amount == allocated
        assert result.paid.amount == python_sum(fund, year, [Kind.PAYMENT], approval)
        assert result.underspend_returned.amount == python_sum(
            fund, year, [Kind.UNDERSPEND_RETURNED], approval
        )
        assert result.returned_to_funder.amount == python_sum(fund, year, [Kind.RETURNED_TO_FUNDER], approval)
        assert result.line_count == python_line_count(fund, year, approval)
        assert result.variance.amount == allocated - Decimal(PROFILE[year.start_year])
        for subtotal in result.by_category:
            assert subtotal.amount.amount == python_sum(
                fund, year, Kind.awarded_kinds(), approval, funding_category=subtotal.name
            )
        for subtotal in result.by_thematic_area:
            assert subtotal.amount.amount == python_sum(
                fund, year, Kind.awarded_kinds(), approval, thematic_area=subtotal.name
            )
        assert money.total(row.amount for row in result.by_category) == result.allocated
        assert money.total(row.amount for row in result.by_thematic_area) == result.allocated


def test_the_years_figures_to_the_penny(three_year_fund):
    first, second, third = reconcile_by_year(three_year_fund)
    # 2023-24: the award made on 31 March and the one made on 1 April 2023; paid on 31 March and in January.
    assert (first.allocated, first.line_count, first.paid) == (gbp("99999.99"), 2, gbp("69999.99"))
    assert (first.variance, first.status) == (gbp("-0.01"), Status.UNDER_ALLOCATED)
    assert first.variance_in_words == "The allocations come to £0.01 less than the control total for 2023-24."
    # 2024-25: the variations of 1 April 2024 and 31 March 2025; a payment and the underspend on 1 April.
    assert (second.allocated, second.line_count) == (gbp("79999.99"), 2)
    assert (second.paid, second.underspend_returned) == (gbp("20000.50"), gbp("999.99"))
    assert (second.variance, second.status) == (gbp("-40000.01"), Status.UNDER_ALLOCATED)
    # 2025-26: the third line's award; paid on its last day; the return to the funder on its first.
    assert (third.allocated, third.line_count, third.paid) == (gbp("30000.01"), 1, gbp("7500.25"))
    assert third.returned_to_funder == gbp("500.00")
    assert (third.variance, third.status) == (gbp("-19999.99"), Status.UNDER_ALLOCATED)
    # Awaiting approval and not counted: the uplift in 2025-26 and the new line's award in 2024-25.
    assert (second.pending_total, second.pending_line_count) == (gbp("1234.56"), 1)
    assert (third.pending_total, third.pending_line_count) == (gbp("100.01"), 1)
    assert [(row.name, row.amount, row.line_count) for row in second.by_category] == [
        ("ISVA", gbp("37999.99"), 1),
        ("Refuge", gbp("42000.00"), 1),
    ]
    assert [(row.name, row.amount) for row in second.by_thematic_area] == [
        ("Domestic Abuse", gbp("42000.00")),
        ("Sexual Violence", gbp("37999.99")),
    ]


def test_entries_awaiting_approval_count_only_when_asked(three_year_fund):
    approved = {year.year.label: year for year in reconcile_by_year(three_year_fund)}
    recorded = {
        year.year.label: year for year in reconcile_by_year(three_year_fund, Approval.APPROVED_OR_PENDING)
    }
    assert recorded["2024-25"].allocated == gbp("81234.55")
    assert recorded["2024-25"].line_count == approved["2024-25"].line_count + 1
    assert recorded["2025-26"].allocated == gbp("30100.02")
    assert recorded["2025-26"].paid == gbp("7500.26")
    assert recorded["2025-26"].line_count == approved["2025-26"].line_count


@pytest.mark.parametrize("approval", [Approval.APPROVED, Approval.APPROVED_OR_PENDING])
def test_the_years_add_up_to_the_whole_funds_reconciliation(three_year_fund, approval):
    years = reconcile_by_year(three_year_fund, approval)
    total = reconcile(three_year_fund, approval)
    assert money.total(year.allocated for year in years) == total.ledger_total
    assert money.total(year.control_total for year in years) == total.control_total
    assert total.ledger_total.amount == sum(
        python_sum(three_year_fund, year.year, Kind.awarded_kinds(), approval) for year in years
    )


def test_a_year_outside_the_spend_period_with_an_entry_is_listed_and_the_profile_gives_it_nothing(
    three_year_fund, officer
):
    line = three_year_fund.allocations.get(
        line_number__isnull=False, funding_category__name="Refuge", thematic_area__name="Domestic Abuse"
    )
    services.allocation_amounts_set(
        changes=[AmountChange(allocation=line, amount=Decimal("82000.50"), effective_date=day("2026-04-01"))],
        memo="Late variation",
        acting_user=officer,
    )
    approve_pending(fund=three_year_fund)
    years = reconcile_by_year(three_year_fund)
    assert [year.year.label for year in years] == ["2023-24", "2024-25", "2025-26", "2026-27"]
    late = years[-1]
    assert (late.control_total, late.allocated, late.variance) == (gbp("0.00"), gbp("0.50"), gbp("0.50"))
    assert late.status is Status.OVER_ALLOCATED


def test_one_year_and_a_year_that_is_not_the_funds(three_year_fund):
    year = reconcile_year(three_year_fund, FinancialYear(2024))
    assert year.allocated == gbp("79999.99")
    with pytest.raises(NotAYearOfTheFund) as refused:
        reconcile_year(three_year_fund, FinancialYear(2030))
    assert str(refused.value) == (
        "2030-31 is not a year of synthetic-3y: it has nothing dated in it and it is outside the spend "
        "period; its years are 2023-24, 2024-25 and 2025-26"
    )


def test_the_seed_fund_has_two_years_without_control_totals_and_reconciles_in_total_as_before(seed_fund):
    total = reconcile(seed_fund)
    assert (total.ledger_total, total.control_total, total.variance) == (
        gbp("738810.82"),
        gbp("738810.53"),
        gbp("0.29"),
    )
    before, during = reconcile_by_year(seed_fund)
    assert (before.year.label, during.year.label) == ("2019-20", "2020-21")
    assert (before.allocated, before.line_count, before.by_category) == (gbp("0.00"), 0, [])
    assert (during.allocated, during.line_count) == (total.ledger_total, total.line_count)
    for year in (before, during):
        assert (year.control_total, year.variance, year.status) == (None, None, NO_CONTROL_TOTAL)
    assert during.variance_in_words == (
        "The fund has one control total for its whole spend period, none for 2020-21: it is reconciled in "
        "total."
    )
    assert [(row.code, row.amount) for row in during.by_category] == [
        (row.code, row.amount) for row in total.by_category
    ]


def fund_with_lines(count):
    fund = FundFactory(
        spend_start=day("2023-04-01"), spend_end=day("2025-03-31"), control_total=gbp("1000.00")
    )
    FundYear.objects.create(fund=fund, year=2023, control_total=gbp("600.00"))
    FundYear.objects.create(fund=fund, year=2024, control_total=gbp("400.00"))
    categories = [FundingCategoryFactory() for _ in range(3)]
    areas = [ThematicAreaFactory() for _ in range(2)]
    for index in range(count):
        AllocationFactory(
            fund=fund,
            funding_category=categories[index % 3],
            thematic_area=areas[index % 2],
            amount=Decimal("1.01"),
            effective_date=day("2024-03-31") if index % 2 else day("2024-04-01"),
        )
    return fund


def test_the_years_take_the_same_five_queries_for_3_lines_and_for_60(db):
    queries = {}
    for count in (3, 60):
        fund = fund_with_lines(count)
        with CaptureQueriesContext(connection) as captured:
            years = reconcile_by_year(fund)
        queries[count] = len(captured.captured_queries)
        assert sum(year.line_count for year in years) == count
    # The entries by year, category and area; the profile; the categories' and areas' names; the
    # underspend due and returned by line and year.
    assert queries == {3: 5, 60: 5}


# The command line ---------------------------------------------------------------------------------


def run_reconcile(capsys, *args):
    """The command's exit status (0 when it returns normally) and its output."""
    try:
        call_command("reconcile", *args)
    except SystemExit as exit_info:
        return exit_info.code, capsys.readouterr()
    return 0, capsys.readouterr()


def test_the_command_prints_a_by_year_block_after_the_whole_fund(seed_fund, capsys):
    code, output = run_reconcile(capsys, "moj-ecf-2020")
    assert code == 1
    assert "Ledger total:   £738,810.82 (16 lines)" in output.out
    block = output.out.split("By financial year\n\n")[1].splitlines()
    assert block[0].split() == [
        "Year",
        "Lines",
        "Control",
        "total",
        "Allocated",
        "Variance",
        "Paid",
        "Status",
    ]
    assert block[2].split() == [
        "2019-20",
        "0",
        "-",
        "£0.00",
        "-",
        "£0.00",
        "no",
        "control",
        "total",
        "for",
        "this",
        "year",
    ]
    assert block[3].split()[:6] == ["2020-21", "16", "-", "£738,810.82", "-", "£0.00"]


def test_the_command_reconciles_one_year(three_year_fund, capsys):
    code, output = run_reconcile(capsys, "synthetic-3y", "--year", "2024/25")
    assert code == 1
    lines = output.out.splitlines()
    assert lines[1:7] == [
        "Year:           2024-25 (1 April 2024 to 31 March 2025)",
        "Control total:  £120,000.00",
        "Allocated:      £79,999.99 (2 lines)",
        "Variance:       -£40,000.01 (allocated minus control)",
        "Status:         under-allocated",
        "The allocations come to £40,000.01 less than the control total for 2024-25.",
    ]
    assert re.search(r"^Refuge +1 +£42,000\.00$", output.out, re.MULTILINE)


def test_the_command_exits_0_for_a_reconciled_year(db, capsys):
    fund = fund_with_lines(2)
    FundYear.objects.filter(fund=fund, year=2023).update(control_total=gbp("1.01"))
    Fund.objects.filter(pk=fund.pk).update(
        control_total=gbp("401.01")
    )  # the years' sum, as the database keeps it
    code, output = run_reconcile(capsys, fund.code, "--year", "2023-24")
    assert code == 0
    assert "Status:         reconciled" in output.out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2024-26",
            "'2024-26' is not a financial year: the second year must follow the first, as in 2023-24",
        ),
        ("last year", "'last year' is not a financial year; write it as 2023-24"),
        ("1923-24", "1923 is not a year the ledger holds (2000-01 to 2099-00)"),
        (
            "2030-31",
            "2030-31 is not a year of synthetic-3y: it has nothing dated in it and it is outside the spend "
            "period; its years are 2023-24, 2024-25 and 2025-26",
        ),
    ],
)
def test_the_command_refuses_a_year_it_cannot_read_or_the_fund_does_not_have(
    three_year_fund, capsys, text, message
):
    with pytest.raises(CommandError) as refused:
        call_command("reconcile", "synthetic-3y", "--year", text)
    assert (refused.value.returncode, str(refused.value)) == (2, message)
    assert capsys.readouterr().out == ""


def test_manage_py_exits_2_for_a_bad_year_and_says_why(seed_fund, capsys):
    from grants.management.commands.reconcile import Command

    # run_from_argv is what `manage.py reconcile` runs: it turns the CommandError into the exit status.
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "reconcile", "moj-ecf-2020", "--year", "2020-2022"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "CommandError: '2020-2022' is not a financial year: the second year must follow the first, as in "
        "2023-24\n"
    )


def test_the_json_has_the_years_beside_the_whole_funds_keys(three_year_fund, capsys):
    code, output = run_reconcile(capsys, "synthetic-3y", "--format", "json")
    data = json.loads(output.out)
    by_year = data.pop("by_year")
    cash = data.pop("cash")
    assert data == reconcile(three_year_fund).as_dict()
    assert (cash["received"], cash["paid"], cash["underspend_returned"], cash["cash_held"]) == (
        "0.00",
        "97500.74",
        "999.99",
        "-97000.75",
    )
    assert [year["year"] for year in by_year] == ["2023-24", "2024-25", "2025-26"]
    second = by_year[1]
    assert {key: value for key, value in second.items() if not key.startswith("by_")} == {
        "year": "2024-25",
        "start": "2024-04-01",
        "end": "2025-03-31",
        "control_total": "120000.00",
        "allocated": "79999.99",
        "paid": "20000.50",
        "underspend_returned": "999.99",
        "returned_to_funder": "0.00",
        "carried_forward": "0.00",
        "carried_in": "0.00",
        "carried_out": "0.00",
        "received": "0.00",
        "cash_held": "-19000.51",
        "underspend_due": "0.00",
        "received_pending": "0.00",
        "underspend_due_pending": "0.00",
        "variance": "-40000.01",
        "status": "under-allocated",
        "line_count": 2,
    }
    refuge = second["by_category"][1]
    assert {key: refuge[key] for key in ("name", "amount", "line_count")} == {
        "name": "Refuge",
        "amount": "42000.00",
        "line_count": 1,
    }


def test_the_json_of_one_year_and_of_a_year_without_a_control_total(seed_fund, capsys):
    code, output = run_reconcile(capsys, "moj-ecf-2020", "--year", "2019-20", "--format", "json")
    assert code == 1
    assert json.loads(output.out) == {
        "fund": "moj-ecf-2020",
        "year": "2019-20",
        "start": "2019-04-01",
        "end": "2020-03-31",
        "control_total": None,
        "allocated": "0.00",
        "paid": "0.00",
        "underspend_returned": "0.00",
        "returned_to_funder": "0.00",
        "carried_forward": "0.00",
        "carried_in": "0.00",
        "carried_out": "0.00",
        "received": "0.00",
        "cash_held": "0.00",
        "underspend_due": "0.00",
        "received_pending": "0.00",
        "underspend_due_pending": "0.00",
        "variance": None,
        "status": "no control total for this year",
        "line_count": 0,
        "by_category": [],
        "by_thematic_area": [],
    }


# The fund's years page ----------------------------------------------------------------------------


def fund_url(code):
    return reverse("grants:fund_detail", args=[code])


def years_url(code):
    return reverse("grants:fund_years", args=[code])


def by_year_rows(response) -> list[list[str]]:
    section = the(parse_html(response.content.decode()), "section", id="by-year")
    return [
        [text(cell) for cell in elements(row, "th") + elements(row, "td")]
        for row in elements(the(section, "tbody"), "tr")
    ]


def reconciliation_panel(response):
    return the(
        parse_html(response.content.decode()), "section", **{"aria-labelledby": "reconciliation-heading"}
    )


def test_the_seed_funds_page_shows_its_two_years_and_its_total_reconciliation_unchanged(
    client, officer, seed_fund
):
    client.force_login(officer)
    fund_page = client.get(fund_url("moj-ecf-2020"))
    response = client.get(years_url("moj-ecf-2020"))
    assert by_year_rows(response) == [
        [
            "2019-20 1 April 2019 to 31 March 2020",
            "—",
            "£0.00 (0 lines)",
            "—",
            "no control total for this year",
            "£0.00",
        ],
        [
            "2020-21 1 April 2020 to 31 March 2021",
            "—",
            "£738,810.82 (16 lines)",
            "—",
            "no control total for this year",
            "£0.00",
        ],
    ]
    assert f'href="{years_url("moj-ecf-2020")}"' in fund_page.content.decode()
    panel = text(reconciliation_panel(fund_page))
    assert panel.startswith(
        "Reconciliation: over-allocated The allocations come to £0.29 more than the control total."
    )
    assert (
        "Control total £738,810.53 Ledger total (16 lines) £738,810.82 Variance (ledger minus control) £0.29"
        in panel
    )
    assert "Showing" not in panel
    assert 'href="?year=2020-21#reconciliation-heading"' in response.content.decode()


def test_the_years_page_shows_one_years_reconciliation_when_asked(client, officer, three_year_fund):
    client.force_login(officer)
    response = client.get(years_url("synthetic-3y"), {"year": "2024-25"})
    assert response.status_code == 200
    panel = reconciliation_panel(response)
    assert text(the(panel, "h2")) == "Reconciliation for 2024-25: under-allocated"
    shown = the(panel, "p", id="year-shown")
    assert text(shown) == "Showing 2024-25 (1 April 2024 to 31 March 2025) · Show every year"
    assert dict(the(shown, "a").attributes)["href"] == years_url("synthetic-3y")
    figures = [
        [text(cell) for cell in elements(row, "th") + elements(row, "td")] for row in elements(panel, "tr")
    ]
    assert figures[:11] == [
        ["Control total for 2024-25", "£120,000.00"],
        ["Allocated in 2024-25 (2 lines)", "£79,999.99"],
        ["Variance (allocated minus control)", "-£40,000.01"],
        ["Awaiting approval (1 line), not counted above", "£1,234.56"],
        ["Received from the funder (approved)", "£0.00"],
        ["Paid to providers (approved)", "£20,000.50"],
        ["Underspend returned by providers", "£999.99"],
        ["Returned to the funder", "£0.00"],
        [
            "Cash held: change in 2024-25 (received − paid + underspend returned − returned to the funder)",
            "-£19,000.51",
        ],
        ["Underspend due from providers, outstanding at 31 March 2025", "£0.00"],
        ["Category", "Lines", "Allocated"],
    ]
    assert figures[11:13] == [["ISVA", "1", "£37,999.99"], ["Refuge", "1", "£42,000.00"]]
    assert figures[14:] == [["Domestic Abuse", "1", "£42,000.00"], ["Sexual Violence", "1", "£37,999.99"]]
    rows = by_year_rows(response)
    assert [row[1:] for row in rows] == [
        ["£100,000.00", "£99,999.99 (2 lines)", "-£0.01", "under-allocated", "£69,999.99"],
        ["£120,000.00", "£79,999.99 (2 lines)", "-£40,000.01", "under-allocated", "£20,000.50"],
        ["£50,000.00", "£30,000.01 (1 line)", "-£19,999.99", "under-allocated", "£7,500.25"],
    ]
    assert 'id="year-2024-25" aria-current="true"' in response.content.decode()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (
            "2024-26",
            "'2024-26' is not a financial year: the second year must follow the first, as in 2023-24. "
            "Showing the whole fund instead.",
        ),
        (
            "<b>24</b>",
            "'<b>24</b>' is not a financial year; write it as 2023-24. Showing the whole fund instead.",
        ),
        (
            "2031-32",
            "2031-32 is not a year of synthetic-3y: it has nothing dated in it and it is outside the spend "
            "period; its years are 2023-24, 2024-25 and 2025-26. Showing the whole fund instead.",
        ),
    ],
)
def test_a_bad_year_on_the_years_page_is_said_and_every_year_shown(
    client, officer, three_year_fund, year, message
):
    client.force_login(officer)
    response = client.get(years_url("synthetic-3y"), {"year": year})
    assert response.status_code == 200
    document = parse_html(response.content.decode())
    assert text(the(document, "p", id="year-problem")) == message
    assert "<b>24</b>" not in response.content.decode()
    assert 'id="reconciliation-heading"' not in response.content.decode()
    assert len(by_year_rows(response)) == 3


def test_the_years_page_takes_the_same_queries_for_a_year_and_for_any_size(client, officer, three_year_fund):
    client.force_login(officer)
    url = years_url("synthetic-3y")
    client.get(url)  # the session's first save is not the page's
    with CaptureQueriesContext(connection) as every_year:
        client.get(url)
    with CaptureQueriesContext(connection) as one_year:
        client.get(url, {"year": "2023-24"})
    assert len(one_year.captured_queries) == len(every_year.captured_queries)
    AllocationFactory.create_batch(20, fund=three_year_fund)
    with CaptureQueriesContext(connection) as more_lines:
        client.get(url)
    assert len(more_lines.captured_queries) == len(every_year.captured_queries)


def test_the_years_page_needs_a_login_and_a_role(client, three_year_fund):
    response = client.get(years_url("synthetic-3y"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# What a hostile reading of the years found, each now held. ---------------------------------------


def test_the_whole_fund_exits_1_when_it_reconciles_in_total_but_not_in_each_year(db, capsys):
    fund = FundFactory(spend_start=day("2023-04-01"), spend_end=day("2025-03-31"), control_total=gbp("2.02"))
    FundYear.objects.create(fund=fund, year=2023, control_total=gbp("1.01"))
    FundYear.objects.create(fund=fund, year=2024, control_total=gbp("1.01"))
    for _ in range(2):
        AllocationFactory(fund=fund, amount=Decimal("1.01"), effective_date=day("2023-06-01"))
    code, output = run_reconcile(capsys, fund.code, "--format", "json")
    data = json.loads(output.out)
    assert data["status"] == "reconciled"
    assert [year["status"] for year in data["by_year"]] == ["over-allocated", "under-allocated"]
    assert code == 1


def test_an_entry_dated_outside_the_ledgers_years_is_shown_in_its_year_not_a_crash(db, capsys, officer):
    fund = fund_with_lines(1)
    allocation = Allocation.objects.get(fund=fund)
    approve_pending(allocation=allocation)
    services.payment_record(
        allocation=allocation,
        amount=Decimal("1.00"),
        effective_date=day("2100-06-01"),
        reference="BACS-TYPO",
        acting_user=officer,
    )
    approve_pending(allocation=allocation)
    code, output = run_reconcile(capsys, fund.code, "--format", "json")
    assert code == 1
    assert [(year["year"], year["paid"]) for year in json.loads(output.out)["by_year"]][-1] == (
        "2100-01",
        "1.00",
    )


def test_a_reversal_counts_in_the_year_of_the_entry_it_cancels(db, officer, approver):
    fund = fund_with_lines(0)
    allocation = AllocationFactory(fund=fund, amount=Decimal("90000.00"), effective_date=day("2023-06-01"))
    award = LedgerEntry.objects.get(allocation=allocation, kind=Kind.AWARD)
    approve_pending(allocation=allocation)
    services.entry_reverse(
        entry=LedgerEntry.objects.get(pk=award.pk), memo="Typed in error", acting_user=officer
    )
    approve_pending(allocation=allocation)
    reversal = LedgerEntry.objects.get(reverses=award)
    assert reversal.effective_date != award.effective_date  # recorded later, in another year
    allocated = {year.year.label: year.allocated for year in reconcile_by_year(fund)}
    assert allocated == {"2023-24": gbp("0.00"), "2024-25": gbp("0.00")}
