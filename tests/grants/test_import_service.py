"""Importing allocations from Excel: the round trip, the seed table, re-imports and matching."""

import io
import json
import tempfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Count, Sum

from grants import money, services
from grants.exports.files import build_moj_return_into
from grants.imports import ImportRefused
from grants.imports.snapshot import import_preview
from grants.models import Allocation, Fund, ImportRecord, LedgerEntry, Organisation
from grants.reconciliation import reconcile
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory, approve_pending
from tests.grants.test_fixture import PRINTED_TABLE
from tests.grants.workbooks import HEADER, fixture_objects, seed_table, table


def ledger_state():
    """Counts and sums of every table an import writes, to compare before and after."""
    entries = LedgerEntry.objects.aggregate(count=Count("id"), total=Sum("amount"))
    return {
        "organisations": Organisation.objects.count(),
        "allocations": Allocation.objects.count(),
        "entries": entries["count"],
        "entry_total": money.from_aggregate(entries["total"]),
        "imports": ImportRecord.objects.count(),
        "fund_totals": [
            (fund.code, money.from_aggregate(fund.ledger_total))
            for fund in Fund.objects.with_ledger_total().order_by("code")
        ],
    }


def lines_of(fund):
    return list(
        Allocation.objects.for_fund(fund)
        .with_awarded()
        .order_by("line_number")
        .values_list(
            "line_number",
            "organisation__name",
            "organisation__short_name",
            "service",
            "thematic_area__code",
            "funding_category__code",
            "awarded",
        )
    )


def moj_return(fund) -> bytes:
    output = io.BytesIO()
    build_moj_return_into(fund, output)
    return output.getvalue()


def empty_fund_like(fund, code="moj-ecf-2020-copy"):
    return Fund.objects.create(
        code=code,
        name=f"Copy of {fund.name}",
        funder=fund.funder,
        spend_start=fund.spend_start,
        spend_end=fund.spend_end,
        control_total=fund.control_total,
    )


def without_fund(reconciliation) -> dict:
    data = reconciliation.as_dict()
    del data["fund"]
    return data


def test_round_trip_the_seed_funds_moj_return_into_an_empty_fund(seed_fund):
    content = moj_return(seed_fund)
    copy = empty_fund_like(seed_fund)
    organisations = Organisation.objects.count()

    result = services.allocations_import(
        fund=copy, file_name="return.xlsx", content=content, acting_user=None
    )
    # What an import records awaits approval like any entry; approved, it is the seed fund again.
    assert reconcile(copy).ledger_total.amount == Decimal("0.00")
    assert approve_pending(fund=copy) == 16

    assert lines_of(copy) == lines_of(seed_fund)
    assert without_fund(reconcile(copy)) == without_fund(reconcile(seed_fund))
    assert reconcile(copy).variance.amount == Decimal("0.29")
    assert Organisation.objects.count() == organisations  # all 15 matched, none duplicated
    assert result.plan.sheet.is_moj_return
    assert len(result.plan.matched_organisations) == 15
    assert (result.record.lines_added, result.record.organisations_created) == (16, 0)


def test_the_preview_of_an_import_foresees_the_reconciliation_it_makes(seed_fund):
    content = moj_return(seed_fund)
    copy = empty_fund_like(seed_fund)
    plan = import_preview(copy, file_name="return.xlsx", content=content)
    services.allocations_import(fund=copy, file_name="return.xlsx", content=content, acting_user=None)
    approve_pending(fund=copy)
    actual = without_fund(reconcile(copy))
    del actual["by_organisation"]
    foreseen = without_fund(plan.after)
    del foreseen["by_organisation"]
    assert foreseen == actual


@pytest.fixture
def empty_seed_fund(db):
    """The seed fund's reference data, funder and fund with no organisations and no lines."""
    objects = fixture_objects("grants.thematicarea", "grants.fundingcategory", "grants.funder", "grants.fund")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(objects, handle)
        handle.flush()
        call_command("loaddata", handle.name, verbosity=0)
    return Fund.objects.get(code="moj-ecf-2020")


def test_the_seed_table_typed_as_a_plain_sheet_imports_as_the_fixture_holds_it(empty_seed_fund):
    result = services.allocations_import(
        fund=empty_seed_fund, file_name="ECF allocations.xlsx", content=seed_table(), acting_user=None
    )
    approve_pending(fund=empty_seed_fund)

    organisations = {
        item["fields"]["name"]: item["fields"] for item in fixture_objects("grants.organisation")
    }
    assert {organisation.name: organisation.short_name for organisation in Organisation.objects.all()} == {
        name: fields["short_name"] for name, fields in organisations.items()
    }
    expected = []
    awards = {
        item["fields"]["allocation"][1]: Decimal(item["fields"]["amount"])
        for item in fixture_objects("grants.ledgerentry")
    }
    for item in fixture_objects("grants.allocation"):
        fields = item["fields"]
        expected.append(
            (
                fields["line_number"],
                fields["organisation"][0],
                organisations[fields["organisation"][0]]["short_name"],
                fields["service"],
                fields["thematic_area"][0],
                fields["funding_category"][0],
                awards[fields["line_number"]],
            )
        )
    assert lines_of(empty_seed_fund) == sorted(expected)
    assert list(
        Allocation.objects.for_fund(empty_seed_fund)
        .order_by("line_number")
        .values_list("source_text", flat=True)
    ) == [item["fields"]["source_text"] for item in fixture_objects("grants.allocation")]
    bcwa = Organisation.objects.get(short_name="BCWA")
    assert list(bcwa.allocations.values_list("line_number", "service")) == [
        (1, "Sexual Violence Service"),
        (4, "Domestic Abuse Service"),
    ]
    rec = reconcile(empty_seed_fund)
    assert (rec.ledger_total.amount, rec.control_total.amount) == (Decimal("738810.82"), Decimal("738810.53"))
    assert (str(rec.status), rec.variance.amount) == ("over-allocated", Decimal("0.29"))
    assert result.plan.sheet.stated_total == Decimal("738810.53")
    assert result.plan.stated_total_differs
    assert result.record.organisations_created == 15


def test_amounts_shown_as_currency_import_to_the_penny(empty_seed_fund):
    services.allocations_import(
        fund=empty_seed_fund, file_name="t.xlsx", content=seed_table(), acting_user=None
    )
    approve_pending(fund=empty_seed_fund)
    amounts = dict(
        Allocation.objects.for_fund(empty_seed_fund).with_awarded().values_list("line_number", "awarded")
    )
    assert money.from_aggregate(amounts[1]).amount == Decimal("80528.42")
    assert [money.as_string(money.from_aggregate(amounts[n])) for n in sorted(amounts)] == [
        amount for _, _, _, amount, _ in PRINTED_TABLE
    ]


def test_the_seed_table_into_the_seed_fund_changes_nothing(seed_fund):
    before = ledger_state()
    result = services.allocations_import(
        fund=seed_fund, file_name="seed.xlsx", content=seed_table(), acting_user=None
    )
    assert result.record is None
    assert len(result.plan.unchanged_lines) == 16
    assert ledger_state() == before


def test_importing_the_same_file_again_changes_nothing_and_says_so(empty_seed_fund, officer):
    content = seed_table()
    first = services.allocations_import(
        fund=empty_seed_fund, file_name="ecf.xlsx", content=content, acting_user=officer
    )
    before = ledger_state()

    again = services.allocations_import(
        fund=empty_seed_fund, file_name="ecf.xlsx", content=content, acting_user=officer
    )

    assert again.record is None
    assert again.plan.changes_nothing
    assert again.previous == first.record
    assert (first.record.imported_by, first.record.file_name) == (officer, "ecf.xlsx")
    assert first.record.sha256 == again.plan.sheet.sha256 and len(first.record.sha256) == 64
    assert ledger_state() == before


def test_a_changed_amount_is_recorded_as_a_variation_naming_the_file(seed_fund, officer):
    rows = [
        (number, organisation, theme, Decimal(amount), category)
        for number, organisation, theme, amount, category in PRINTED_TABLE
    ]
    rows[7] = (8, rows[7][1], rows[7][2], Decimal("1300.50"), rows[7][4])
    content = table(*rows)
    plan = import_preview(seed_fund, file_name="revised.xlsx", content=content)
    assert [(line.line_number, line.change.amount) for line in plan.changed_lines] == [(8, Decimal("35.50"))]
    assert len(plan.unchanged_lines) == 15

    result = services.allocations_import(
        fund=seed_fund, file_name="revised.xlsx", content=content, acting_user=officer
    )

    variation = LedgerEntry.objects.get(kind="variation")
    assert (variation.allocation.line_number, variation.amount.amount) == (8, Decimal("35.50"))
    assert variation.memo == f"Imported from revised.xlsx (SHA-256 {result.record.sha256})"
    assert (variation.recorded_by, variation.approved_at) == (officer, None)
    assert reconcile(seed_fund).pending_total.amount == Decimal("35.50")
    approve_pending(fund=seed_fund)
    assert reconcile(seed_fund).ledger_total.amount == Decimal("738846.32")
    assert (result.record.amounts_changed, result.record.lines_unchanged) == (1, 15)


def test_an_organisation_written_differently_is_matched_not_duplicated(seed_fund):
    content = table(
        (17, "BLACK COUNTRY WOMENS AID", "Domestic Abuse", Decimal("10.00"), "da-pcc-commissioned")
    )
    count = Organisation.objects.count()
    plan = import_preview(seed_fund, file_name="x.xlsx", content=content)
    assert plan.problems == []
    assert [(match.organisation.short_name, match.how) for match in plan.matched_organisations] == [
        ("BCWA", "name")
    ]
    services.allocations_import(fund=seed_fund, file_name="x.xlsx", content=content, acting_user=None)
    assert Organisation.objects.count() == count
    assert Allocation.objects.get(fund=seed_fund, line_number=17).organisation.short_name == "BCWA"


def test_an_organisation_matched_by_its_short_name(seed_fund):
    content = table((17, "we are", "Domestic Abuse", Decimal("10.00"), "DA PCC commissioned"))
    plan = import_preview(seed_fund, file_name="x.xlsx", content=content)
    assert [(match.organisation.name, match.how) for match in plan.matched_organisations] == [
        ("Women's Empowement and Recovery Educators Ltd", "short name")
    ]


def test_an_ambiguous_organisation_is_a_problem_not_a_guess(seed_fund):
    OrganisationFactory(name="Roshni Trust", short_name="ROSHNI")
    before = ledger_state()
    content = table((17, "Roshni", "Domestic Abuse", Decimal("10.00"), "DA PCC commissioned"))
    with pytest.raises(ImportRefused) as refused:
        services.allocations_import(fund=seed_fund, file_name="x.xlsx", content=content, acting_user=None)
    (problem,) = refused.value.problems
    assert (problem.row, problem.column) == (2, "B (Organisation)")
    assert "could be any of several organisations (Roshni; Roshni Trust (ROSHNI))" in problem.message
    assert ledger_state() == before


def test_the_import_refuses_a_plan_that_changed_since_the_preview(seed_fund):
    content = moj_return(seed_fund)
    copy = empty_fund_like(seed_fund)
    plan = import_preview(copy, file_name="r.xlsx", content=content)
    AllocationFactory(fund=copy, line_number=99, amount=Decimal("5.00"))
    before = ledger_state()
    with pytest.raises(services.ImportPlanChanged, match="changed since the preview"):
        services.allocations_import(
            fund=copy, file_name="r.xlsx", content=content, acting_user=None, expected_digest=plan.digest
        )
    assert ledger_state() == before


def test_the_preview_writes_nothing(seed_fund):
    copy = empty_fund_like(seed_fund)
    before = ledger_state()
    plan = import_preview(copy, file_name="ecf.xlsx", content=seed_table())
    assert len(plan.new_lines) == 16
    assert ledger_state() == before


def test_the_preview_takes_the_same_queries_for_few_and_many_lines(seed_fund, django_assert_max_num_queries):
    fund = FundFactory()

    def sheet(count):
        return table(
            *[
                (number, f"Provider {number}", "Domestic Abuse", Decimal("10.00"), "DA PCC commissioned")
                for number in range(1, count + 1)
            ]
        )

    with django_assert_max_num_queries(12) as few:
        import_preview(fund, file_name="few.xlsx", content=sheet(3))
    with django_assert_max_num_queries(12) as many:
        plan = import_preview(fund, file_name="many.xlsx", content=sheet(60))
    assert len(plan.new_lines) == 60
    assert len(many.captured_queries) == len(few.captured_queries)


def test_lines_of_the_fund_not_in_the_file_are_kept(seed_fund):
    content = table(
        (17, "Aaina Hub", "Domestic Abuse", Decimal("250.00"), "DA PCC non-commissioned"), header=HEADER
    )
    plan = import_preview(seed_fund, file_name="x.xlsx", content=content)
    # Aaina Hub already has line 13 (no service); a second line needs a service to tell it apart.
    assert [problem.message for problem in plan.problems] == [
        "Aaina Hub is already line 13 of this fund, not line 17."
    ]
    content = xlsx_with_service()
    plan = import_preview(seed_fund, file_name="x.xlsx", content=content)
    assert plan.problems == []
    assert (len(plan.new_lines), plan.kept_line_count) == (1, 16)
    assert plan.after.ledger_total.amount == Decimal("739060.82")


def xlsx_with_service():
    return table(
        (17, "Aaina Hub", "Helpline", "Domestic Abuse", Decimal("250.00"), "DA PCC non-commissioned"),
        header=("No.", "Organisation", "Service", "Thematic area", "Amount (£)", "Funding category"),
    )


def test_an_amount_excel_stored_with_seventeen_digits_imports_as_the_amount_it_shows(seed_fund):
    # Excel may keep 80528.42 in the file as the double's long form; the shortest repr is the figure shown.
    copy = empty_fund_like(seed_fund)
    content = table((1, "Aaina Hub", "Domestic Abuse", Decimal("80528.419999999998"), "DA PCC commissioned"))
    plan = import_preview(copy, file_name="x.xlsx", content=content)
    assert plan.problems == []
    assert [line.amount for line in plan.lines] == [Decimal("80528.42")]


def test_import_records_are_read_only_in_the_admin(seed_fund, staff_client):
    copy = empty_fund_like(seed_fund)
    services.allocations_import(fund=copy, file_name="ecf.xlsx", content=seed_table(), acting_user=None)
    record = ImportRecord.objects.get()
    page = staff_client.get("/admin/grants/importrecord/").content.decode()
    assert "ecf.xlsx" in page and record.sha256 in page
    assert staff_client.get(f"/admin/grants/importrecord/{record.pk}/delete/").status_code == 403
    with pytest.raises(ValidationError, match="cannot be deleted"):
        record.delete()
