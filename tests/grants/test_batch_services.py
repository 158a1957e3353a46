"""The batch services: many lines, amount changes or organisations checked together, then written
together or not at all; the import applies a file through them in a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from grants import services
from grants.models import Allocation, LedgerEntry, Organisation
from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    approve_pending,
    submit_return,
)
from tests.grants.workbooks import table


@pytest.fixture
def fund(db):
    return FundFactory()


@pytest.fixture
def theme(db):
    return ThematicAreaFactory()


@pytest.fixture
def category(db):
    return FundingCategoryFactory()


def new_line(theme, category, number, amount="100.00", **changes):
    details = {
        "line_number": number,
        "organisation": OrganisationFactory(),
        "thematic_area": theme,
        "funding_category": category,
        "amount": amount,
    }
    details.update(changes)
    return services.NewLine(**details)


def nothing_written():
    return not Allocation.objects.exists() and not LedgerEntry.objects.exists()


def test_allocations_create_writes_every_line_with_its_award(fund, theme, category, officer):
    lines = [new_line(theme, category, number, f"{number}0.00") for number in (1, 2, 3)]

    created = services.allocations_create(fund=fund, lines=lines, memo="Board report", acting_user=officer)

    assert [allocation.line_number for allocation in created] == [1, 2, 3]
    assert all(allocation.pk for allocation in created)
    assert list(
        LedgerEntry.objects.order_by("allocation__line_number").values_list(
            "allocation__line_number", "kind", "amount", "memo", "recorded_by", "approved_at"
        )
    ) == [
        (1, "award", Decimal("10.00"), "Board report", officer.pk, None),
        (2, "award", Decimal("20.00"), "Board report", officer.pk, None),
        (3, "award", Decimal("30.00"), "Board report", officer.pk, None),
    ]


def test_a_batch_with_one_bad_row_writes_nothing_and_names_that_row(fund, theme, category, officer):
    lines = [
        new_line(theme, category, 1),
        new_line(theme, category, 2, "12.345"),
        new_line(theme, category, 3, service="x" * 201),
    ]

    with pytest.raises(services.RowsRefused) as refused:
        services.allocations_create(fund=fund, lines=lines, memo="Board report", acting_user=officer)

    assert {index: error.message_dict for index, error in refused.value.rows.items()} == {
        1: {"amount": ["12.345 is not an amount in pounds and pence (at most 2 decimal places)."]},
        2: {"service": ["Ensure this value has at most 200 characters (it has 201)."]},
    }
    assert nothing_written()


def test_every_problem_of_a_row_is_listed_not_just_the_first(fund, theme, category, officer):
    AllocationFactory(fund=fund, line_number=7)
    with pytest.raises(services.RowsRefused) as refused:
        services.allocations_create(
            fund=fund, lines=[new_line(theme, category, 7, "0.00")], memo="", acting_user=officer
        )
    assert refused.value.rows[0].messages == [
        "An award must be more than £0.00.",
        "This fund already has a line with that number.",
    ]


def test_the_same_line_number_twice_in_a_batch_is_refused(fund, theme, category, officer):
    lines = [new_line(theme, category, 5), new_line(theme, category, 6), new_line(theme, category, 5)]

    with pytest.raises(services.RowsRefused) as refused:
        services.allocations_create(fund=fund, lines=lines, memo="", acting_user=officer)

    assert {index: error.messages for index, error in refused.value.rows.items()} == {
        2: ["Line 5 appears twice in this batch."]
    }
    assert nothing_written()


def test_the_same_organisation_service_area_and_category_twice_in_a_batch_is_refused(
    fund, theme, category, officer
):
    provider = OrganisationFactory()
    AllocationFactory(
        fund=fund,
        line_number=1,
        organisation=provider,
        service="Helpline",
        thematic_area=theme,
        funding_category=category,
    )
    lines = [
        new_line(theme, category, 2, organisation=provider, service="Outreach"),
        new_line(theme, category, 3, organisation=provider, service="Outreach "),
        new_line(theme, category, 4, organisation=provider, service="Helpline"),
    ]

    with pytest.raises(services.RowsRefused) as refused:
        services.allocations_create(fund=fund, lines=lines, memo="", acting_user=officer)

    assert {index: error.messages for index, error in refused.value.rows.items()} == {
        1: [
            "This batch has two lines for that organisation and service in the same thematic area and "
            "funding category."
        ],
        2: [
            "This fund already has a line for that organisation and service in that thematic area and "
            "funding category."
        ],
    }
    assert Allocation.objects.count() == 1


def test_one_organisation_may_have_lines_in_several_categories_and_areas_in_one_batch(
    fund, theme, category, officer
):
    provider = OrganisationFactory()
    AllocationFactory(
        fund=fund, line_number=1, organisation=provider, thematic_area=theme, funding_category=category
    )
    other_category, other_theme = FundingCategoryFactory(), ThematicAreaFactory()
    lines = [
        new_line(theme, other_category, 2, organisation=provider),
        new_line(other_theme, category, 3, organisation=provider),
        new_line(other_theme, other_category, 4, organisation=provider),
    ]

    created = services.allocations_create(fund=fund, lines=lines, memo="", acting_user=officer)

    assert [line.line_number for line in created] == [2, 3, 4]
    assert list(
        Allocation.objects.filter(organisation=provider)
        .order_by("line_number")
        .values_list("line_number", "service", "thematic_area", "funding_category")
    ) == [
        (1, "", theme.pk, category.pk),
        (2, "", theme.pk, other_category.pk),
        (3, "", other_theme.pk, category.pk),
        (4, "", other_theme.pk, other_category.pk),
    ]


def test_a_batch_line_typed_twice_in_another_category_is_still_refused(fund, theme, category, officer):
    provider, other_category = OrganisationFactory(), FundingCategoryFactory()
    lines = [
        new_line(theme, other_category, 1, organisation=provider),
        new_line(theme, category, 2, organisation=provider),
        new_line(theme, other_category, 3, organisation=provider),
    ]

    with pytest.raises(services.RowsRefused) as refused:
        services.allocations_create(fund=fund, lines=lines, memo="", acting_user=officer)

    assert {index: error.messages for index, error in refused.value.rows.items()} == {
        2: [
            "This batch has two lines for that organisation and service in the same thematic area and "
            "funding category."
        ]
    }
    assert nothing_written()


def test_a_submitted_fund_refuses_the_whole_batch(fund, theme, category, officer, approver):
    AllocationFactory(fund=fund, line_number=1)
    submit_return(fund, approver)
    before = (Allocation.objects.count(), LedgerEntry.objects.count())

    with pytest.raises(services.ValidationError, match="MoJ return was submitted") as refused:
        services.allocations_create(
            fund=fund,
            lines=[new_line(theme, category, 2), new_line(theme, category, 3)],
            memo="",
            acting_user=officer,
        )

    assert not isinstance(refused.value, services.RowsRefused)
    assert (Allocation.objects.count(), LedgerEntry.objects.count()) == before


def test_allocation_amounts_set_records_a_variation_per_changed_line(fund, officer):
    lines = [AllocationFactory(fund=fund, amount=Decimal("100.00")) for _ in range(3)]
    changes = [
        services.AmountChange(allocation=lines[0], amount="150.00", effective_date=datetime.date(2020, 9, 1)),
        services.AmountChange(allocation=lines[1], amount="100.00"),
        services.AmountChange(allocation=lines[2], amount="0.00", expected_current="100.00"),
    ]

    variations = services.allocation_amounts_set(changes=changes, memo="Revised letter", acting_user=officer)

    assert variations[1] is None
    assert [
        (entry.amount.amount, entry.memo, entry.recorded_by) for entry in (variations[0], variations[2])
    ] == [
        (Decimal("50.00"), "Revised letter", officer),
        (Decimal("-100.00"), "Revised letter", officer),
    ]
    assert variations[0].effective_date == datetime.date(2020, 9, 1)
    approve_pending(fund=fund)
    assert [services.allocation_awarded(line).amount for line in lines] == [
        Decimal("150.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    ]


def test_allocation_amounts_set_refuses_the_batch_for_one_stale_or_bad_row(fund, officer):
    lines = [AllocationFactory(fund=fund, amount=Decimal("100.00")) for _ in range(3)]
    changes = [
        services.AmountChange(allocation=lines[0], amount="150.00"),
        services.AmountChange(allocation=lines[1], amount="90.00", expected_current="95.00"),
        services.AmountChange(allocation=lines[2], amount="-1.00"),
        services.AmountChange(allocation=lines[0], amount="160.00"),
    ]

    with pytest.raises(services.RowsRefused) as refused:
        services.allocation_amounts_set(changes=changes, memo="Revised letter", acting_user=officer)

    assert {index: error.message_dict for index, error in refused.value.rows.items()} == {
        1: {"amount": [services.stale_amount_message(services.allocation_awarded(lines[1]))]},
        2: {"amount": ["An allocation cannot be varied below £0.00."]},
        3: {"amount": ["This line's amount is changed twice in one batch."]},
    }
    assert not LedgerEntry.objects.filter(kind="variation").exists()


def test_organisations_create_refuses_a_name_taken_or_repeated_ignoring_case(db, officer):
    OrganisationFactory(name="Roshni")
    new = [
        services.NewOrganisation(name="Birmingham Crisis Centre"),
        services.NewOrganisation(name="ROSHNI"),
        services.NewOrganisation(name="birmingham crisis centre "),
        services.NewOrganisation(name="Sandwell Women's Aid", charity_number="12"),
    ]

    with pytest.raises(services.RowsRefused) as refused:
        services.organisations_create(organisations=new, acting_user=officer)

    assert {index: error.messages for index, error in refused.value.rows.items()} == {
        1: ["An organisation with this name already exists."],
        2: ["This batch has two organisations with this name."],
        3: [Organisation._meta.get_field("charity_number").validators[0].message],
    }
    assert list(Organisation.objects.values_list("name", flat=True)) == ["Roshni"]


def sheet(first: int, count: int) -> bytes:
    return table(
        *[
            (number, f"Provider {number}", "Domestic Abuse", Decimal("10.00"), "DA PCC commissioned")
            for number in range(first, first + count)
        ]
    )


def test_an_import_records_one_audit_event_per_row_with_the_importer_and_the_file(seed_fund, officer):
    fund = FundFactory()
    result = services.allocations_import(
        fund=fund, file_name="new.xlsx", content=sheet(1, 25), acting_user=officer
    )

    memo = services.import_memo("new.xlsx", result.record.sha256)
    written = {
        Organisation: Organisation.objects.filter(name__startswith="Provider "),
        Allocation: Allocation.objects.filter(fund=fund),
        LedgerEntry: LedgerEntry.objects.filter(fund=fund),
    }
    for model, rows in written.items():
        row_ids = sorted(rows.values_list("pk", flat=True))
        inserted = AuditEvent.objects.filter(
            table_name=model._meta.db_table, action="insert", row_id__in=row_ids
        )
        assert len(row_ids) == 25
        assert sorted(inserted.values_list("row_id", flat=True)) == row_ids
        assert set(inserted.values_list("actor_id", "actor_username", "reason")) == {
            (officer.pk, officer.username, memo)
        }


def test_applying_an_import_takes_the_same_queries_for_ten_and_a_hundred_lines(seed_fund, officer):
    def queries(first, count):
        fund = FundFactory()
        with CaptureQueriesContext(connection) as captured:
            services.allocations_import(
                fund=fund, file_name=f"{count}.xlsx", content=sheet(first, count), acting_user=officer
            )
        assert Allocation.objects.filter(fund=fund).count() == count
        statements = [query["sql"] for query in captured.captured_queries]
        inserts = [sql for sql in statements if sql.startswith("INSERT INTO")]
        return len(statements) - len(inserts), len(inserts)

    few_other, few_inserts = queries(1, 10)
    many_other, many_inserts = queries(1001, 100)

    assert many_other == few_other
    if connection.vendor == "postgresql":
        assert many_inserts == few_inserts == 4  # organisations, lines, awards, the import record
    else:
        # SQLite takes at most 999 parameters a statement, so bulk_create splits the rows into
        # batches: the INSERTs grow with the rows, by one statement per batch of about 70.
        assert few_inserts == 4
        assert many_inserts <= 4 + 3 * (100 // 60)
