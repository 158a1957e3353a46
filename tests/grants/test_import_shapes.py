"""Importing the tables offices actually publish (issue 20), each shape built here with openpyxl.

The tables are synthetic, written in the shapes of real published ones (other commissioners', a
combined authority's and Parliament's): synonym headings, the amount column first, an empty heading
over the names and "£" over the amounts, section rows, a stream column, a Total row that disagrees,
a total in the title or a sentence, a recipient called "Total ...", two sheets, a misprinted amount.
They go into a synthetic fund, never the seed fund; the seed fund's reference data (thematic areas
Sexual Violence and Domestic Abuse; funding categories Sexual Violence, DA PCC commissioned and DA PCC
non-commissioned) is what they are mapped to.
"""

from decimal import Decimal

import openpyxl
import pytest

from grants import money, services
from grants.imports import ImportRefused
from grants.imports.reading import Mapping
from grants.imports.snapshot import import_preview
from grants.models import Allocation, FundingCategory, ImportRecord, LedgerEntry
from tests.factories import FundFactory
from tests.grants.workbooks import xlsx

SV, DA = "Sexual Violence", "Domestic Abuse"
COMMISSIONED, NON_COMMISSIONED = "DA PCC commissioned", "DA PCC non-commissioned"


@pytest.fixture
def fund(seed_fund):
    """A synthetic fund beside the seed fund, sharing its thematic areas and funding categories."""
    return FundFactory(code="synthetic-victims-2023", name="Synthetic victims' fund 2023-24")


def preview(fund, content, **mapping):
    return import_preview(fund, file_name="table.xlsx", content=content, mapping=Mapping(**mapping))


def clean(fund, content, **mapping):
    plan = preview(fund, content, **mapping)
    assert [str(problem) for problem in plan.problems] == []
    return plan


def described(plan):
    return [
        (
            line.row,
            line.line_number,
            line.organisation.name,
            line.service,
            line.thematic_area.name,
            line.funding_category.name,
            line.amount,
        )
        for line in plan.lines
    ]


def imported(fund, content, user, **mapping):
    result = services.allocations_import(
        fund=fund, file_name="table.xlsx", content=content, acting_user=user, mapping=Mapping(**mapping)
    )
    return result


def ledger_lines(fund):
    return list(
        Allocation.objects.for_fund(fund)
        .order_by("line_number")
        .values_list(
            "line_number", "organisation__name", "service", "thematic_area__name", "funding_category__name"
        )
    )


def test_synonym_headings_need_no_mapping_but_a_whole_file_category_and_area(fund, officer):
    content = xlsx(
        [
            ("Victims' services grants 2023/24",),
            (),
            ("Service provider", "Amount Awarded", "Further detail"),
            ("Harbour Women's Refuge", Decimal("40000"), "Two refuge spaces"),
            ("Valley Counselling", Decimal("12500.50"), None),
            ("Riverside ISVA Service", 9999.99, "Match funded"),
        ]
    )
    plan = preview(fund, content)
    assert [column.key for column in plan.sheet.columns] == ["organisation", "amount", "notes"]
    assert [str(problem) for problem in plan.problems] == [
        "sheet 'Sheet1', row 4: 3 lines (rows 4, 5, 6) have no thematic area: the file has no thematic area "
        "column. Choose a thematic area for the whole file.",
        "sheet 'Sheet1', row 4: 3 lines (rows 4, 5, 6) have no funding category: the file has no funding "
        "category column. Choose a funding category for the whole file.",
    ]
    plan = clean(fund, content, thematic_area=DA, funding_category="da-pcc-commissioned")
    assert described(plan) == [
        (4, 1, "Harbour Women's Refuge", "", DA, COMMISSIONED, Decimal("40000.00")),
        (5, 2, "Valley Counselling", "", DA, COMMISSIONED, Decimal("12500.50")),
        (6, 3, "Riverside ISVA Service", "", DA, COMMISSIONED, Decimal("9999.99")),
    ]
    assert all(line.numbered_by_ledger for line in plan.lines)
    assert [line.notes for line in plan.lines] == ["Two refuge spaces", "", "Match funded"]
    assert plan.sheet_total == money.gbp("62500.49")
    assert plan.stated_total is None

    result = imported(fund, content, officer, thematic_area=DA, funding_category="da-pcc-commissioned")
    assert result.record.lines_added == 3
    assert LedgerEntry.objects.pending().filter(allocation__fund=fund).count() == 3
    notes = dict(Allocation.objects.for_fund(fund).values_list("line_number", "notes"))
    assert notes == {1: "Two refuge spaces", 2: "", 3: "Match funded"}


def test_the_amount_column_first_and_a_misprinted_provider_heading(fund):
    content = xlsx(
        [
            ("Amount", "Provided", "Thematic area", "Category"),
            (Decimal("1500"), "Valley Counselling", SV, SV),
            (Decimal("2750.25"), "Harbour Women's Refuge", DA, "DA PCC non-commissioned"),
        ]
    )
    plan = clean(fund, content)
    assert [(column.letter, column.key, column.how) for column in plan.sheet.columns] == [
        ("A", "amount", "heading"),
        ("B", "organisation", "heading close to 'provider'"),
        ("C", "thematic_area", "heading"),
        ("D", "funding_category", "heading"),
    ]
    assert described(plan) == [
        (2, 1, "Valley Counselling", "", SV, SV, Decimal("1500.00")),
        (3, 2, "Harbour Women's Refuge", "", DA, NON_COMMISSIONED, Decimal("2750.25")),
    ]


def test_an_empty_heading_over_the_names_and_a_pound_sign_over_the_amounts_with_the_total_in_the_title(fund):
    content = xlsx(
        [
            ("Recipients of funding from the PCC's Covid-19 Fund: (£52,655.56)",),
            (None, "£"),
            ("Harbour Women's Refuge", Decimal("20000")),
            ("Valley Counselling", Decimal("12655.56")),
            ("Riverside ISVA Service", Decimal("20000")),
        ]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert [(column.letter, column.key) for column in plan.sheet.columns] == [
        ("A", "organisation"),
        ("B", "amount"),
    ]
    assert plan.sheet.columns[0].how == "no heading; its cells are names"
    assert [line.amount for line in plan.lines] == [
        Decimal("20000.00"),
        Decimal("12655.56"),
        Decimal("20000.00"),
    ]
    assert plan.stated_total == money.gbp("52655.56")
    assert plan.sheet.stated_total_source == "the title (row 1)"
    assert plan.stated_total_difference == money.gbp("0.00")
    assert not plan.stated_total_differs


def test_section_rows_set_the_category_and_area_of_the_lines_below_them(fund, officer):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Funding for domestic abuse services already commissioned by the PCC",),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Valley Counselling", Decimal("8000")),
            ("Sexual Violence Support",),
            ("Valley Counselling", Decimal("6000")),
            ("Riverside ISVA Service", Decimal("14000")),
        ]
    )
    plan = preview(fund, content)
    assert [(unmapped.text, unmapped.first_row, unmapped.column) for unmapped in plan.unmapped] == [
        ("Funding for domestic abuse services already commissioned by the PCC", 2, "A (section row)"),
        ("Sexual Violence Support", 5, "A (section row)"),
    ]
    assert all(unmapped.section for unmapped in plan.unmapped)
    assert [problem.row for problem in plan.problems] == [2, 5]  # nothing said twice for the lines
    assert plan.lines == []

    mapping = {
        "values": (
            ("Funding for domestic abuse services already commissioned by the PCC", "da-pcc-commissioned"),
            ("sexual violence support", "Sexual Violence"),  # capitals and punctuation aside
        ),
        "thematic_area": DA,
    }
    plan = clean(fund, content, **mapping)
    # "Sexual Violence" is both a thematic area and a funding category: its section sets both.
    assert described(plan) == [
        (3, 1, "Harbour Women's Refuge", "", DA, COMMISSIONED, Decimal("30000.00")),
        (4, 2, "Valley Counselling", "", DA, COMMISSIONED, Decimal("8000.00")),
        (6, 3, "Valley Counselling", "", SV, SV, Decimal("6000.00")),
        (7, 4, "Riverside ISVA Service", "", SV, SV, Decimal("14000.00")),
    ]
    assert [(text.text, text.how, text.meaning) for text in plan.chosen_texts] == [
        (
            "Funding for domestic abuse services already commissioned by the PCC",
            "chosen",
            "funding category DA PCC commissioned",
        ),
        (
            "Sexual Violence Support",
            "chosen",
            "thematic area Sexual Violence and funding category Sexual Violence",
        ),
    ]
    assert len(plan.new_organisations) == 3  # Valley Counselling once, with two lines

    imported(fund, content, officer, **mapping)
    assert ledger_lines(fund) == [
        (1, "Harbour Women's Refuge", "", DA, COMMISSIONED),
        (2, "Valley Counselling", "", DA, COMMISSIONED),
        (3, "Valley Counselling", "", SV, SV),
        (4, "Riverside ISVA Service", "", SV, SV),
    ]


def test_a_section_row_naming_a_thematic_area_needs_no_mapping(fund):
    content = xlsx(
        [
            ("Organisation", "£"),
            ("Domestic Abuse",),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Sexual Violence",),
            ("Riverside ISVA Service", Decimal("14000")),
        ]
    )
    plan = clean(fund, content, funding_category=NON_COMMISSIONED)
    assert [(line.thematic_area.name, line.funding_category.name) for line in plan.lines] == [
        (DA, NON_COMMISSIONED),
        (SV, SV),  # the section names a category too, and says more than the whole file's default
    ]
    assert plan.chosen_texts == []


def test_a_stream_column_is_mapped_once_per_distinct_text(fund):
    content = xlsx(
        [
            ("Organisation", "Funding stream", "Amount"),
            ("Harbour Women's Refuge", "domestic abuse services funding", Decimal("30000")),
            ("Valley Counselling", "sexual violence services funding", Decimal("8000")),
            ("Riverside ISVA Service", "Sexual violence services funding.", Decimal("14000")),
        ]
    )
    plan = preview(fund, content, thematic_area=DA)
    assert [(unmapped.text, unmapped.fields, unmapped.column) for unmapped in plan.unmapped] == [
        ("domestic abuse services funding", ("funding_category",), "B (Funding category)"),
        ("sexual violence services funding", ("funding_category",), "B (Funding category)"),
    ]
    plan = clean(
        fund,
        content,
        thematic_area=DA,
        values=(
            ("domestic abuse services funding", NON_COMMISSIONED),
            ("sexual violence services funding", SV),
        ),
    )
    assert [line.funding_category.name for line in plan.lines] == [NON_COMMISSIONED, SV, SV]


def test_a_total_row_that_disagrees_is_shown_to_the_penny_and_changes_no_line(fund):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Valley Counselling", Decimal("8000.10")),
            ("Total funding to be approved", Decimal("68000")),
        ]
    )
    plan = clean(fund, content, thematic_area=DA, funding_category=COMMISSIONED)
    assert [line.amount for line in plan.lines] == [Decimal("30000.00"), Decimal("8000.10")]
    assert plan.stated_total == money.gbp("68000.00")
    assert plan.sheet.stated_total_source == "the Total row (row 4)"
    assert plan.sheet_total == money.gbp("38000.10")
    assert plan.stated_total_difference == money.gbp("-29999.90")
    assert plan.stated_total_differs


def test_a_total_stated_in_a_sentence_below_the_table(fund):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Valley Counselling", Decimal("8000")),
            (),
            ("Total funding of £38,000 via the MOJ Victims Budget for 2023/24.",),
        ]
    )
    plan = clean(fund, content, thematic_area=DA, funding_category=COMMISSIONED)
    assert plan.stated_total == money.gbp("38000.00")
    assert plan.sheet.stated_total_source == "the Total row (row 5)"
    assert plan.stated_total_difference == money.gbp("0.00")


def test_several_amounts_stated_around_the_table_are_shown_and_none_is_taken(fund):
    content = xlsx(
        [
            ("Grants of up to £25,000 from the £500,000 fund",),
            ("Provider", "Amount"),
            ("Harbour Women's Refuge", Decimal("25000")),
        ]
    )
    plan = clean(fund, content, thematic_area=DA, funding_category=COMMISSIONED)
    assert plan.stated_total is None
    assert plan.sheet.stated_totals_ignored == [(1, Decimal("25000")), (1, Decimal("500000"))]


def test_a_recipient_named_total_is_a_line_where_lines_follow_it(fund):
    content = xlsx(
        [
            ("Recipient", "Grant"),
            ("Harbour Women's Refuge", Decimal("1000")),
            ("Total Insight Theatre", Decimal("2500")),
            ("Valley Counselling", Decimal("500")),
            ("Total", Decimal("4000")),
        ]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert [line.organisation.name for line in plan.lines] == [
        "Harbour Women's Refuge",
        "Total Insight Theatre",
        "Valley Counselling",
    ]
    assert plan.sheet.total_row == 5
    assert plan.stated_total == money.gbp("4000.00")
    assert plan.stated_total_difference == money.gbp("0.00")


def two_sheets() -> bytes:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Domestic abuse"
    for row in [("Provider", "Amount"), ("Harbour Women's Refuge", 30000)]:
        first.append(row)
    second = workbook.create_sheet("Sexual violence")
    for row in [("Provider", "Amount"), ("Riverside ISVA Service", 14000), ("Valley Counselling", 6000.5)]:
        second.append(row)
    import io

    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_a_workbook_with_a_table_on_each_sheet_is_read_one_sheet_at_a_time(fund):
    content = two_sheets()
    plan = clean(fund, content, thematic_area=DA, funding_category=COMMISSIONED)
    assert plan.sheet.sheet_name == "Domestic abuse"
    assert plan.sheet.other_sheet_names == ["Sexual violence"]
    assert [line.organisation.name for line in plan.lines] == ["Harbour Women's Refuge"]

    plan = clean(fund, content, sheet="Sexual violence", thematic_area=SV, funding_category=SV)
    assert [(line.organisation.name, line.amount) for line in plan.lines] == [
        ("Riverside ISVA Service", Decimal("14000.00")),
        ("Valley Counselling", Decimal("6000.50")),
    ]
    with pytest.raises(ImportRefused) as refused:
        preview(fund, content, sheet="Nope")
    assert str(refused.value) == (
        "The workbook has no sheet called 'Nope'; its sheets are 'Domestic abuse', 'Sexual violence'."
    )


def test_a_misprinted_amount_is_refused_with_its_cell_named_never_guessed(fund, officer):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Valley Counselling", "£22,10"),
        ]
    )
    plan = preview(fund, content, thematic_area=DA, funding_category=COMMISSIONED)
    assert [str(problem) for problem in plan.problems] == [
        "sheet 'Sheet1', row 3, column B (Amount): '£22,10' is not an amount: its commas do not separate "
        "thousands, so it could mean more than one figure. Type the amount as a number."
    ]
    with pytest.raises(ImportRefused):
        imported(fund, content, officer, thematic_area=DA, funding_category=COMMISSIONED)
    assert not Allocation.objects.for_fund(fund).exists()


def test_columns_are_chosen_by_heading_or_by_letter(fund):
    content = xlsx(
        [
            ("Ref", "Body", "Sum (£)", "Stream"),
            ("VS-01", "Harbour Women's Refuge", Decimal("100"), SV),
        ]
    )
    with pytest.raises(ImportRefused) as refused:
        preview(fund, content, thematic_area=SV)
    assert "No header row found in the first 30 rows" in str(refused.value)
    for reference in ("C", "Sum", "sum (£)"):
        with pytest.raises(ImportRefused) as refused:
            preview(fund, content, columns=(("amount", reference),))
        assert str(refused.value) == (
            "sheet 'Sheet1', row 1: the Organisation column is missing: no heading reads as one "
            "(Organisation, Provider, Recipient, Grantee, Service provider, Service); say which column it is."
        )
    plan = clean(
        fund,
        content,
        thematic_area=SV,
        columns=(("ignore", "Ref"), ("organisation", "B"), ("amount", "sum (£)")),
    )
    assert described(plan) == [(2, 1, "Harbour Women's Refuge", "", SV, SV, Decimal("100.00"))]
    with pytest.raises(ImportRefused) as refused:
        preview(fund, content, columns=(("organisation", "Recipient name"), ("amount", "C")))
    assert "no column is headed 'Recipient name' (to read as Organisation)" in str(refused.value)


def test_a_file_without_line_numbers_reimports_as_no_change(fund, officer):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Harbour Women's Refuge", Decimal("30000")),
            ("Valley Counselling", Decimal("8000")),
        ]
    )
    choices = {"thematic_area": DA, "funding_category": COMMISSIONED}
    assert imported(fund, content, officer, **choices).record.lines_added == 2
    again = imported(fund, content, officer, **choices)
    assert again.record is None
    assert [line.action for line in again.plan.lines] == ["unchanged", "unchanged"]
    assert ImportRecord.objects.filter(fund=fund).count() == 1

    revised = xlsx(
        [
            ("Provider", "Amount"),
            ("Valley Counselling", Decimal("9000")),
            ("New Horizons Project", Decimal("500")),
        ]
    )
    plan = clean(fund, revised, **choices)
    assert [(line.line_number, line.action, line.amount) for line in plan.lines] == [
        (2, "changed", Decimal("9000.00")),
        (3, "new", Decimal("500.00")),
    ]


def test_the_same_line_twice_in_one_table_is_still_refused(fund):
    content = xlsx(
        [
            ("Provider", "Amount"),
            ("Valley Counselling", Decimal("6000")),
            ("Valley Counselling", Decimal("6000")),
        ]
    )
    plan = preview(fund, content, thematic_area=SV, funding_category=SV)
    assert [(problem.row, problem.column) for problem in plan.problems] == [(3, "A (Organisation)")]
    assert "appears twice in the file (first in row 2)" in plan.problems[0].message


def test_a_mapping_to_an_unknown_name_is_a_problem(fund):
    content = xlsx([("Provider", "Amount"), ("Valley Counselling", Decimal("6000"))])
    plan = preview(fund, content, thematic_area="Burglary", funding_category=SV)
    assert [str(problem) for problem in plan.problems] == [
        "'Burglary' is not a thematic area the ledger knows, so it cannot be the whole file's; it has Sexual "
        "Violence, Domestic Abuse.",
        "sheet 'Sheet1', row 2: 1 line (row 2) has no thematic area: the file has no thematic area column. "
        "Choose a thematic area for the whole file.",
    ]


def sectioned_table(*lines) -> bytes:
    return xlsx(
        [
            ("Provider", "Amount"),
            ("Sexual Violence Support",),
            ("Riverside ISVA Service", Decimal("14000")),
            ("Domestic abuse services",),
            ("Harbour Women's Refuge", Decimal("30000")),
            *lines,
        ]
    )


SECTIONS = (("Sexual Violence Support", SV), ("Domestic abuse services", DA))


def test_what_the_officer_said_a_text_means_is_kept_for_the_fund_and_read_next_time(fund, officer):
    from audit.models import AuditEvent
    from grants.models import ImportValueMapping

    first = imported(fund, sectioned_table(), officer, values=SECTIONS, funding_category=NON_COMMISSIONED)
    assert first.record.lines_added == 2
    kept = {
        row.text: (
            row.thematic_area and row.thematic_area.name,
            row.funding_category and row.funding_category.name,
        )
        for row in ImportValueMapping.objects.filter(fund=fund)
    }
    assert kept == {"Sexual Violence Support": (SV, SV), "Domestic abuse services": (DA, None)}
    assert ImportValueMapping.objects.get(text="Domestic abuse services").mapped_by == officer
    assert (
        AuditEvent.objects.filter(table_name=ImportValueMapping._meta.db_table, action="insert").count() == 2
    )

    # The same office's next table: no mapping needed for the texts, and the readings say why.
    revised = sectioned_table(("New Horizons Project", Decimal("500")))
    plan = clean(fund, revised, funding_category=NON_COMMISSIONED)
    assert [(text.text, text.how) for text in plan.texts] == [
        ("Sexual Violence Support", "remembered"),
        ("Domestic abuse services", "remembered"),
    ]
    assert described(plan)[-1] == (6, 3, "New Horizons Project", "", DA, NON_COMMISSIONED, Decimal("500.00"))
    # Another fund remembers nothing of it.
    other = FundFactory(code="synthetic-other")
    assert [unmapped.text for unmapped in preview(other, revised).unmapped] == [
        "Sexual Violence Support",
        "Domestic abuse services",
    ]


def test_a_new_choice_replaces_the_one_kept_and_a_refused_import_keeps_nothing(fund, officer):
    from grants.models import ImportValueMapping

    imported(fund, sectioned_table(), officer, values=SECTIONS, funding_category=NON_COMMISSIONED)
    misprinted = sectioned_table(("New Horizons Project", "£22,10"))
    with pytest.raises(ImportRefused):
        imported(fund, misprinted, officer, values=(("Domestic abuse services", COMMISSIONED),))
    assert ImportValueMapping.objects.get(text="Domestic abuse services").funding_category is None

    revised = sectioned_table(("New Horizons Project", Decimal("500")))
    choice = {"values": (("domestic abuse services", COMMISSIONED),), "thematic_area": DA}
    # Now said to be a category only, the section puts Harbour Women's Refuge, line 2 under DA PCC
    # non-commissioned, under DA PCC commissioned: without numbers that is refused, never a second line.
    plan = preview(fund, revised, **choice)
    assert [(problem.row, problem.column) for problem in plan.problems] == [(5, "A (Organisation)")]
    assert plan.problems[0].message.startswith(
        "Harbour Women's Refuge is already in this fund (line 2 under Domestic Abuse / DA PCC "
        "non-commissioned), and this file puts it under Domestic Abuse / DA PCC commissioned."
    )
    next_year = xlsx(
        [("Provider", "Amount"), ("Domestic abuse services",), ("New Horizons Project", Decimal("500"))]
    )
    result = imported(fund, next_year, officer, **choice)
    assert [(line.thematic_area.name, line.funding_category.name) for line in result.plan.new_lines] == [
        (DA, COMMISSIONED)
    ]
    kept = ImportValueMapping.objects.get(fund=fund, text_key="domesticabuseservices")
    assert (kept.text, kept.thematic_area, kept.funding_category.name) == (
        "Domestic abuse services",
        None,
        COMMISSIONED,
    )


def test_a_recipient_named_total_on_the_last_row_is_still_a_line(fund):
    content = xlsx(
        [
            ("Recipient", "Grant"),
            ("Harbour Women's Refuge", Decimal("1000")),
            ("Total Insight Theatre", Decimal("2500")),
        ]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert [line.organisation.name for line in plan.lines] == [
        "Harbour Women's Refuge",
        "Total Insight Theatre",
    ]
    assert plan.sheet.total_row == 0
    assert plan.stated_total is None


@pytest.mark.parametrize(
    "label", ["TOTAL", "Grand Total", "Total Funding", "Total grants awarded", "Totals:"]
)
def test_a_total_row_is_known_by_its_label(fund, label):
    content = xlsx(
        [("Recipient", "Grant"), ("Harbour Women's Refuge", Decimal("1000")), (label, Decimal("1000"))]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert [line.organisation.name for line in plan.lines] == ["Harbour Women's Refuge"]
    assert (plan.sheet.total_row, plan.stated_total) == (3, money.gbp("1000.00"))


def test_a_title_amount_that_disagrees_with_the_total_row_is_shown_beside_it(fund):
    content = xlsx(
        [
            ("Recipients of funding from the PCC's Covid-19 Fund: (£52,655.56)",),
            ("Recipient", "Grant"),
            ("Harbour Women's Refuge", Decimal("50000")),
            ("Total", Decimal("50000")),
        ]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert plan.stated_total == money.gbp("50000.00")
    assert plan.sheet.stated_total_source == "the Total row (row 4)"
    assert plan.sheet.stated_totals_ignored == [(1, Decimal("52655.56"))]


# What a hostile reading of the import found, each now held. ------------------------------------


def test_subtotal_rows_are_never_lines_and_are_shown_beside_the_lines_they_add_up(fund):
    content = xlsx(
        [
            ("Organisation", "Amount"),
            ("Sexual Violence",),
            ("Alpha Trust", Decimal("100")),
            ("Beta Project", Decimal("200")),
            ("Total Sexual Violence", Decimal("300")),
            ("Domestic Abuse",),
            ("Gamma House", Decimal("50")),
            ("Subtotal", Decimal("60")),
            ("Delta Refuge", Decimal("25")),
            ("Total", Decimal("300")),  # a total that lines follow adds up part of the table
            ("Epsilon Aid", Decimal("5")),
            ("Total", Decimal("380")),
        ]
    )
    plan = clean(fund, content, funding_category=SV)
    assert [line.organisation.name for line in plan.lines] == [
        "Alpha Trust",
        "Beta Project",
        "Gamma House",
        "Delta Refuge",
        "Epsilon Aid",
    ]
    assert [(row.row, row.label, row.amount, row.lines_sum, row.differs) for row in plan.sheet.subtotals] == [
        (5, "Total Sexual Violence", Decimal("300"), Decimal("300.00"), False),
        (8, "Subtotal", Decimal("60"), Decimal("50.00"), True),
        (10, "Total", Decimal("300"), Decimal("25.00"), True),
    ]
    assert plan.stated_total == money.gbp("380.00")
    assert plan.sheet_total == money.gbp("380.00")


def test_a_section_closes_the_sections_opened_under_the_one_it_replaces(fund):
    content = xlsx(
        [
            ("Organisation", "Amount"),
            ("Domestic Abuse",),
            ("Non-commissioned services",),
            ("Alpha Trust", Decimal("100")),
            ("Sexual Violence Support",),
            ("Beta Rape Crisis", Decimal("50")),
        ]
    )
    plan = clean(
        fund,
        content,
        funding_category=SV,
        values=(
            ("Non-commissioned services", "funding_category:da-pcc-non-commissioned"),
            ("Sexual Violence Support", "thematic_area:sexual-violence"),
        ),
    )
    assert [(line.thematic_area.name, line.funding_category.name) for line in plan.lines] == [
        (DA, NON_COMMISSIONED),
        (SV, SV),  # the whole file's category, not the closed section's
    ]


def test_a_ledger_name_is_read_as_the_ledger_has_it_and_a_mapping_of_one_is_not_kept(fund, officer):
    from grants.models import ImportValueMapping

    content = xlsx(
        [("Organisation", "Category", "Amount"), ("Alpha Trust", "Sexual Violence", Decimal("100"))]
    )
    shadow = {"values": (("Sexual Violence", "funding_category:da-pcc-commissioned"),), "thematic_area": SV}
    plan = clean(fund, content, **shadow)
    assert plan.lines[0].funding_category.name == COMMISSIONED  # the officer's choice, shown, for this file
    assert plan.texts_to_remember == []
    imported(fund, content, officer, **shadow)
    assert not ImportValueMapping.objects.exists()

    # Even a mapping kept before (by the admin or an older import) does not outrank the ledger's names.
    ImportValueMapping.objects.create(
        fund=fund,
        text="Sexual Violence",
        text_key="sexualviolence",
        funding_category=FundingCategory.objects.get(code="da-pcc-commissioned"),
    )
    second = xlsx([("Organisation", "Category", "Amount"), ("Beta Project", "Sexual Violence", Decimal("5"))])
    plan = clean(fund, second, thematic_area=SV)
    assert plan.lines[0].funding_category.name == SV
    assert plan.texts == []


def test_an_unsaid_section_row_says_it_may_be_a_line_missing_its_amount(fund):
    content = xlsx(
        [("Organisation", "Amount"), ("Alpha Trust", Decimal("100")), ("Victim Support",), ("Beta", 5)]
    )
    plan = preview(fund, content, thematic_area=SV, funding_category=SV)
    assert [problem.message for problem in plan.problems] == [
        "the section row 'Victim Support' names no thematic area or funding category the ledger knows; say "
        "what it is (the ledger has the thematic areas Sexual Violence, Domestic Abuse and the funding "
        "categories Sexual Violence, DA PCC commissioned, DA PCC non-commissioned), or, if it is a line, "
        "give it its amount."
    ]


def test_a_chart_sheet_is_not_offered_or_read(fund):
    import io

    from openpyxl.chart import BarChart, Reference

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [("Provider", "Amount"), ("Alpha Trust", 100)]:
        sheet.append(row)
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=2), titles_from_data=True)
    workbook.create_chartsheet("Chart").add_chart(chart)
    output = io.BytesIO()
    workbook.save(output)
    content = output.getvalue()

    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert plan.sheet.sheet_names == ["Sheet"]
    with pytest.raises(ImportRefused) as refused:
        preview(fund, content, sheet="Chart")
    assert str(refused.value) == "The workbook has no sheet called 'Chart'; its sheets are 'Sheet'."


def test_the_total_rows_figure_is_read_from_its_amount_column(fund):
    content = xlsx(
        [
            ("Organisation", "Service users", "Amount"),
            ("Alpha Trust", 540, Decimal("1000")),
            ("Total", 540, Decimal("1000")),
        ]
    )
    plan = clean(fund, content, thematic_area=SV, funding_category=SV, columns=(("notes", "Service users"),))
    assert plan.stated_total == money.gbp("1000.00")
    assert plan.stated_total_difference == money.gbp("0.00")


@pytest.mark.parametrize(
    "heading", ["Awarded to", "Allocated to", "Organisation type", "Provider ID", "Granted"]
)
def test_a_heading_with_another_word_is_not_read_as_a_near_miss(heading):
    from grants.imports.reading import field_for_heading

    assert field_for_heading(heading) == (None, "")


def test_a_one_word_title_above_the_table_is_not_its_header(fund):
    content = xlsx([("Grants",), (), ("Provider", "Amount"), ("Alpha Trust", Decimal("100"))])
    plan = clean(fund, content, thematic_area=SV, funding_category=SV)
    assert plan.sheet.header_row == 3
    assert [line.organisation.name for line in plan.lines] == ["Alpha Trust"]
