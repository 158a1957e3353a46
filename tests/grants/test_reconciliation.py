"""Reconciliation: the fund's ledger against its control total, to the penny."""

import dataclasses
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from djmoney.money import Money

from grants import money
from grants.models import Allocation, Approval, LedgerEntry
from grants.reconciliation import Status, reconcile, reconcile_all
from tests.factories import (
    AllocationFactory,
    CategoryBudgetFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    approve_pending,
)


def gbp(text):
    return Money(Decimal(text), "GBP")


@pytest.fixture
def fund(db):
    return FundFactory(control_total=gbp("1000.00"))


def test_a_fund_whose_lines_add_up_to_its_control_total_is_reconciled(fund):
    AllocationFactory(fund=fund, amount=Decimal("600.00"))
    AllocationFactory(fund=fund, amount=Decimal("400.00"))
    result = reconcile(fund)
    assert result.ledger_total == gbp("1000.00")
    assert result.variance == gbp("0.00")
    assert result.status is Status.RECONCILED
    assert result.variance_in_words == "The allocations add up exactly to the control total."
    assert result.line_count == 2


def test_a_fund_allocated_one_penny_too_much_is_over_allocated(fund):
    AllocationFactory(fund=fund, amount=Decimal("1000.01"))
    result = reconcile(fund)
    assert result.variance == gbp("0.01")
    assert result.status is Status.OVER_ALLOCATED
    assert result.variance_in_words == "The allocations come to £0.01 more than the control total."


def test_a_fund_with_money_left_is_under_allocated(fund):
    AllocationFactory(fund=fund, amount=Decimal("250.50"))
    result = reconcile(fund)
    assert result.variance == gbp("-749.50")
    assert result.status is Status.UNDER_ALLOCATED
    assert result.variance_in_words == "The allocations come to £749.50 less than the control total."


def test_a_fund_with_no_lines_has_a_zero_ledger_total(fund):
    result = reconcile(fund)
    assert (result.ledger_total, result.line_count, result.status) == (
        gbp("0.00"),
        0,
        Status.UNDER_ALLOCATED,
    )


def test_the_seed_fund_is_twenty_nine_pence_over_its_stated_total(seed_fund):
    result = reconcile(seed_fund)
    assert result.control_total == gbp("738810.53")
    assert result.ledger_total == gbp("738810.82")
    assert result.variance == gbp("0.29")
    assert result.status is Status.OVER_ALLOCATED
    assert result.line_count == 16
    bcwa = next(row for row in result.by_organisation if row.name == "Black Country Women's Aid")
    assert (bcwa.amount, bcwa.line_count) == (gbp("195347.39"), 2)
    assert len(result.by_organisation) == 15


def test_totals_of_many_pence_stay_exact_on_both_databases(fund):
    # 0.10 and 0.20 have no exact binary form: SQLite sums them as floats. A thousand of each
    # drifts in the floats' last places; the ledger must still say exactly £300.00.
    _bulk_lines(fund, 2000, amount=lambda n: gbp("0.10") if n % 2 else gbp("0.20"))
    result = reconcile(fund)
    assert result.ledger_total == gbp("300.00")
    expected = {
        row.code: sum(
            (Decimal("0.10") if n % 2 else Decimal("0.20") for n in range(1, 2001) if n % 3 == index),
            Decimal("0.00"),
        )
        for index, row in enumerate(sorted(result.by_category, key=lambda row: row.code))
    }
    assert {row.code: row.amount.amount for row in result.by_category} == expected


def test_ledger_total_matches_a_decimal_sum_of_the_same_rows(seed_fund):
    amounts = LedgerEntry.objects.filter(allocation__fund=seed_fund).values_list("amount", flat=True)
    exact = sum((Decimal(str(amount)) for amount in amounts), Decimal("0"))
    assert reconcile(seed_fund).ledger_total.amount == money.quantize(exact)


def test_variations_count_towards_the_line_and_the_fund(fund, officer):
    from grants import services

    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    services.allocation_set_amount(
        allocation=line, amount=Decimal("999.99"), memo="Revised bid", acting_user=officer
    )
    pending = reconcile(fund)
    assert (pending.ledger_total, pending.pending_total, pending.pending_line_count) == (
        gbp("1000.00"),
        gbp("-0.01"),
        1,
    )
    approve_pending(allocation=line)
    result = reconcile(fund)
    assert result.ledger_total == gbp("999.99")
    assert result.variance == gbp("-0.01")


def test_category_budgets_get_their_own_variance(fund):
    ring_fenced = FundingCategoryFactory(code="sv", name="Sexual Violence", sort_order=1)
    unspent = FundingCategoryFactory(code="da", name="Domestic Abuse", sort_order=2)
    free = FundingCategoryFactory(code="other", name="Other", sort_order=3)
    CategoryBudgetFactory(fund=fund, funding_category=ring_fenced, amount=gbp("300.00"))
    CategoryBudgetFactory(fund=fund, funding_category=unspent, amount=gbp("200.00"))
    AllocationFactory(fund=fund, funding_category=ring_fenced, amount=Decimal("300.01"))
    AllocationFactory(fund=fund, funding_category=free, amount=Decimal("50.00"))

    rows = {row.code: row for row in reconcile(fund).by_category}
    assert list(rows) == ["sv", "other", "da"]
    assert (rows["sv"].budget, rows["sv"].variance, rows["sv"].status) == (
        gbp("300.00"),
        gbp("0.01"),
        Status.OVER_ALLOCATED,
    )
    # A ring-fenced category with nothing allocated yet still shows its whole budget unspent.
    assert (rows["da"].amount, rows["da"].line_count, rows["da"].variance) == (
        gbp("0.00"),
        0,
        gbp("-200.00"),
    )
    assert (rows["other"].budget, rows["other"].variance, rows["other"].status) == (None, None, None)


def test_json_shape_has_every_key_with_two_decimal_place_strings(seed_fund):
    data = reconcile(seed_fund).as_dict()
    assert list(data) == [
        "fund",
        "control_total",
        "ledger_total",
        "variance",
        "status",
        "line_count",
        "pending_total",
        "pending_line_count",
        "by_category",
        "by_thematic_area",
        "by_organisation",
    ]
    assert data["fund"] == "moj-ecf-2020"
    assert (data["control_total"], data["ledger_total"], data["variance"]) == (
        "738810.53",
        "738810.82",
        "0.29",
    )
    assert data["status"] == "over-allocated"
    assert (data["line_count"], data["pending_total"], data["pending_line_count"]) == (16, "0.00", 0)
    assert data["by_category"][2] == {
        "code": "da-pcc-non-commissioned",
        "name": "DA PCC non-commissioned",
        "amount": "67349.00",
        "line_count": 4,
    }
    assert data["by_thematic_area"][0]["amount"] == "246111.19"
    coventry_haven = next(row for row in data["by_organisation"] if row["name"] == "Coventry Haven")
    assert coventry_haven["amount"] == "43216.00"


def test_json_of_a_ring_fenced_category_has_its_budget_variance_and_status(fund):
    category = FundingCategoryFactory(code="sv", name="Sexual Violence")
    CategoryBudgetFactory(fund=fund, funding_category=category, amount=gbp("300.00"))
    AllocationFactory(fund=fund, funding_category=category, amount=Decimal("299.99"))
    assert reconcile(fund).as_dict()["by_category"] == [
        {
            "code": "sv",
            "name": "Sexual Violence",
            "amount": "299.99",
            "line_count": 1,
            "budget": "300.00",
            "variance": "-0.01",
            "status": "under-allocated",
        }
    ]


def _bulk_lines(fund, count, amount=lambda n: gbp("1.01")):
    """`count` lines with approved awards, written in bulk so the query-count test stays quick."""
    themes = [ThematicAreaFactory(), ThematicAreaFactory()]
    categories = [FundingCategoryFactory(), FundingCategoryFactory(), FundingCategoryFactory()]
    organisations = OrganisationFactory.create_batch(7)
    lines = Allocation.objects.bulk_create(
        Allocation(
            fund=fund,
            line_number=n,
            organisation=organisations[n % 7],
            service=f"Service {n}",
            thematic_area=themes[n % 2],
            funding_category=categories[n % 3],
        )
        for n in range(1, count + 1)
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            fund=fund,
            allocation=line,
            kind="award",
            amount=amount(line.line_number),
            effective_date="2020-08-19",
            memo="Award",
        )
        for line in Allocation.objects.filter(fund=fund)
    )
    approve_pending(fund=fund)
    return lines


@pytest.mark.parametrize("line_count", [1, 500])
def test_reconciliation_takes_the_same_number_of_queries_for_1_and_500_lines(
    fund, django_assert_num_queries, line_count
):
    _bulk_lines(fund, line_count)
    with django_assert_num_queries(5):
        result = reconcile(fund)
    assert result.line_count == line_count
    assert result.ledger_total == gbp(str(Decimal("1.01") * line_count))


# The command line ---------------------------------------------------------------------------------


def run_reconcile(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("reconcile", *args)
    return exit_info.value.code, capsys.readouterr()


def test_reconcile_command_exits_0_for_a_reconciled_fund(fund, capsys):
    AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    call_command("reconcile", fund.code)  # returns normally: exit status 0
    out = capsys.readouterr().out
    assert "Status:         reconciled" in out
    assert "The allocations add up exactly to the control total." in out


def test_reconcile_command_exits_1_and_states_the_seed_variance(seed_fund, capsys):
    code, output = run_reconcile(capsys, "moj-ecf-2020")
    assert code == 1
    assert "Control total:  £738,810.53" in output.out
    assert "Ledger total:   £738,810.82 (16 lines)" in output.out
    assert "Variance:       £0.29 (ledger minus control)" in output.out
    assert "The allocations come to £0.29 more than the control total." in output.out
    assert re.search(r"^DA PCC commissioned +9 +£425,350\.63$", output.out, re.MULTILINE)


def test_reconcile_command_json_output_parses(seed_fund, capsys):
    code, output = run_reconcile(capsys, "moj-ecf-2020", "--format", "json")
    assert code == 1
    data = json.loads(output.out)
    # The keys of the whole fund's reconciliation, as before, and its years and cash beside them.
    by_year = data.pop("by_year")
    cash = data.pop("cash")
    assert data == reconcile(seed_fund).as_dict()
    assert [year["year"] for year in by_year] == ["2019-20", "2020-21"]
    # The seed fund records nothing received from its funder, so it holds nothing in cash of its own.
    assert (cash["control_total"], cash["allocated"], cash["received"]) == ("738810.53", "738810.82", "0.00")


def test_reconcile_command_exits_2_for_an_unknown_fund(seed_fund, capsys):
    from grants.management.commands.reconcile import Command

    # run_from_argv is what `manage.py reconcile` runs: it turns the CommandError into the exit status.
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "reconcile", "no-such-fund"])
    assert exit_info.value.code == 2
    assert "No fund has the code 'no-such-fund'. Known codes: moj-ecf-2020." in capsys.readouterr().err


def test_unknown_fund_message_lists_the_known_codes(seed_fund):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("reconcile", "no-such-fund")
    assert error.value.returncode == 2
    assert str(error.value) == "No fund has the code 'no-such-fund'. Known codes: moj-ecf-2020."


def test_an_organisation_with_lines_in_several_categories_and_areas_is_added_up_once(fund):
    # The fund's figures are read once, by category, area and organisation together, and added up
    # for each breakdown: an organisation's lines under different categories and areas come together.
    themes = [ThematicAreaFactory(name="Domestic Abuse"), ThematicAreaFactory(name="Sexual Violence")]
    categories = [FundingCategoryFactory(name="ISVA"), FundingCategoryFactory(name="IDVA")]
    zeta, alpha = OrganisationFactory(name="Zeta Refuge"), OrganisationFactory(name="Alpha Trust")
    for n, (organisation, amount) in enumerate(
        [(zeta, "100.10"), (zeta, "200.20"), (zeta, "300.30"), (alpha, "0.01")], start=1
    ):
        AllocationFactory(
            fund=fund,
            organisation=organisation,
            service=f"Service {n}",
            thematic_area=themes[n % 2],
            funding_category=categories[n // 2 % 2],
            amount=Decimal(amount),
        )
    result = reconcile(fund)
    assert [(row.name, row.amount, row.line_count) for row in result.by_organisation] == [
        ("Alpha Trust", gbp("0.01"), 1),
        ("Zeta Refuge", gbp("600.60"), 3),
    ]
    assert [(row.name, row.amount, row.line_count) for row in result.by_thematic_area] == [
        ("Domestic Abuse", gbp("200.21"), 2),
        ("Sexual Violence", gbp("400.40"), 2),
    ]
    assert (result.ledger_total, result.line_count) == (gbp("600.61"), 4)
    assert reconcile(fund, by_organisation=False) == dataclasses.replace(result, by_organisation=[])


def test_figures_as_recorded_count_awards_and_variations_but_never_payments(fund, officer):
    from grants import services

    paid = AllocationFactory(
        fund=fund, organisation=OrganisationFactory(name="Paid Provider"), amount=Decimal("500.00")
    )
    AllocationFactory(
        fund=fund,
        organisation=OrganisationFactory(name="Awaiting Provider"),
        amount=Decimal("25.00"),
        approved=False,
    )
    services.payment_record(
        allocation=paid,
        amount=Decimal("125.00"),
        effective_date=datetime.date(2020, 9, 1),
        reference="BACS-1",
        acting_user=officer,
    )
    recorded = reconcile(fund, Approval.APPROVED_OR_PENDING)
    assert (recorded.ledger_total, recorded.line_count) == (gbp("525.00"), 2)
    assert [(row.name, row.amount, row.line_count) for row in recorded.by_organisation] == [
        ("Awaiting Provider", gbp("25.00"), 1),
        ("Paid Provider", gbp("500.00"), 1),
    ]
    approved = reconcile(fund)
    assert (approved.ledger_total, approved.line_count) == (gbp("500.00"), 1)
    assert (approved.pending_total, approved.pending_line_count) == (gbp("25.00"), 1)
    assert [(row.name, row.amount, row.line_count) for row in approved.by_organisation] == [
        ("Awaiting Provider", gbp("0.00"), 0),
        ("Paid Provider", gbp("500.00"), 1),
    ]


def test_every_fund_at_once_gives_each_fund_its_own_reconciliation(fund):
    other = FundFactory(control_total=gbp("10.00"))
    AllocationFactory(fund=fund, amount=Decimal("999.99"))
    AllocationFactory(fund=other, amount=Decimal("10.00"))
    AllocationFactory(fund=other, amount=Decimal("0.01"), approved=False)
    results = {result.fund_code: result for result in reconcile_all()}
    for each in (fund, other):
        assert results[each.code] == reconcile(each, by_organisation=False)
