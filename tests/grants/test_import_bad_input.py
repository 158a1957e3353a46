"""Bad spreadsheets: every problem is listed with its sheet, row and column, and nothing is written."""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from defusedxml import DefusedXmlException

from grants import services
from grants.checks import openpyxl_parses_with_defusedxml
from grants.imports import ImportRefused
from grants.imports.snapshot import import_preview
from tests.grants.test_import_service import ledger_state
from tests.grants.workbooks import (
    HEADER,
    damaged,
    encrypted,
    entity_bomb,
    seed_table,
    table,
    xlsx,
    zip_bomb,
)

# Line 16 of the seed fund as it stands: unchanged by an import.
GOOD = (
    16,
    "WE:ARE (Women's Empowement and Recovery Educators Ltd)",
    "Domestic Abuse",
    Decimal("18219.00"),
    "DA PCC non-commissioned",
)


def line(**changes):
    """A line for a new organisation, with some cells changed."""
    cells = {
        "number": 17,
        "organisation": "New Provider",
        "theme": "Domestic Abuse",
        "amount": Decimal("250.00"),
        "category": "DA PCC commissioned",
    }
    cells.update(changes)
    return tuple(cells.values())


def refused(fund, content, file_name="bad.xlsx"):
    """The problems importing `content` reports, after checking that it wrote nothing at all."""
    before = ledger_state()
    with pytest.raises(ImportRefused) as caught:
        services.allocations_import(fund=fund, file_name=file_name, content=content, acting_user=None)
    assert ledger_state() == before
    return caught.value.problems


def only(problems):
    assert len(problems) == 1, [str(problem) for problem in problems]
    return problems[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"No.,Organisation,Amount\n1,Roshni,10.00\n", "The file is not an Excel workbook (.xlsx)."),
        (encrypted(), "The file is password-protected (encrypted) or an old-style .xls workbook."),
        (damaged(), "The workbook is damaged and cannot be read"),
        (b"", "The file is empty."),
        (zip_bomb(), "The workbook's part xl/media/image1.bin unpacks to"),
        (entity_bomb(), "The workbook's part xl/worksheets/sheet1.xml declares XML entities or a DTD"),
    ],
    ids=["csv", "encrypted", "damaged", "empty", "zip-bomb", "entity-bomb"],
)
def test_a_file_that_is_not_a_sound_workbook_is_refused_in_words(seed_fund, content, message):
    assert only(refused(seed_fund, content)).message.startswith(message)


def test_a_zip_that_is_not_a_workbook_is_refused(seed_fund):
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert only(refused(seed_fund, output.getvalue())).message == (
        "The file is a zip archive but not an Excel workbook (.xlsx)."
    )


def test_a_workbook_unpacking_past_the_limit_is_refused(seed_fund, settings):
    settings.LEDGER_IMPORT_MAX_UNPACKED_BYTES = 2000
    assert "over the 2 KB limit" in only(refused(seed_fund, seed_table())).message


def test_a_file_over_the_size_limit_is_refused_before_it_is_opened(seed_fund, settings):
    settings.LEDGER_IMPORT_MAX_BYTES = 1024
    problem = only(refused(seed_fund, seed_table()))
    assert problem.message.endswith("files over 1 KB are not imported.")


def test_a_table_over_the_row_limit_is_refused(seed_fund, settings):
    settings.LEDGER_IMPORT_MAX_ROWS = 3
    rows = [line(number=n, organisation=f"Provider {n}") for n in range(17, 22)]
    problem = only(refused(seed_fund, table(*rows)))
    assert str(problem) == "sheet 'Sheet1': The table has more than 3 rows; split it into smaller files."


def test_openpyxl_itself_refuses_an_entity_bomb(db):
    # The pre-check finds the DTD first; this shows the parser behind it would refuse it too.
    with pytest.raises(ValueError, match="Unable to read workbook") as caught:
        openpyxl.load_workbook(io.BytesIO(entity_bomb()), read_only=True)
    assert isinstance(caught.value.__cause__ or caught.value.__context__, DefusedXmlException)


def test_the_system_check_fails_when_openpyxl_is_not_defused(monkeypatch):
    assert openpyxl_parses_with_defusedxml() == []
    monkeypatch.setattr("openpyxl.DEFUSEDXML", False)
    (error,) = openpyxl_parses_with_defusedxml()
    assert error.id == "grants.E001"


def test_an_unknown_heading_is_kept_in_notes_and_a_missing_thematic_area_is_asked_for(seed_fund):
    content = xlsx(
        [("No.", "Organisation", "Amount", "Notes", "Category"), (1, "Roshni", Decimal("1.00"), "x", "DA")]
    )
    problems = refused(seed_fund, content)
    assert [str(problem) for problem in problems] == [
        "sheet 'Sheet1', row 2: 1 line (row 2) has no thematic area: the file has no thematic area column. "
        "Choose a thematic area for the whole file.",
        "sheet 'Sheet1', row 2, column E (Funding category): unknown funding category 'DA'; "
        "the ledger has Sexual Violence, DA PCC commissioned, DA PCC non-commissioned.",
    ]


def test_a_sheet_without_a_header_row_is_refused(seed_fund):
    problem = only(refused(seed_fund, xlsx([("Roshni", Decimal("1.00"))])))
    assert problem.message.startswith("No header row found in the first 30 rows")


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"amount": "lots"}, "D (Amount)", "the amount 'lots' is text, not a number."),
        (
            {"amount": "£1,000.00"},
            "D (Amount)",
            "the amount '£1,000.00' is a number stored as text; enter it as a number (formatted as "
            "currency if you like).",
        ),
        (
            {"amount": Decimal("-5.00")},
            "D (Amount)",
            "the amount -5 is negative; an award must be more than £0.00.",
        ),
        ({"amount": 0}, "D (Amount)", "the amount is zero; an award must be more than £0.00."),
        (
            {"amount": Decimal("1.005")},
            "D (Amount)",
            "the amount 1.005 has more than 2 decimal places (whole pence only).",
        ),
        (
            {"amount": "=B2*2"},
            "D (Amount)",
            "the amount is a formula (=B2*2) with no saved result; open the file in Excel, save it, and "
            "upload it again (or type the amount).",
        ),
        ({"amount": None}, "D (Amount)", "the amount is empty."),
        (
            {"number": "17"},
            "A (No.)",
            "the line number '17' is a number stored as text; enter it as a number.",
        ),
        ({"number": Decimal("1.5")}, "A (No.)", "the line number 1.5 is not a whole number."),
        (
            {"theme": "Burglary"},
            "C (Thematic area)",
            "unknown thematic area 'Burglary'; the ledger has Sexual Violence, Domestic Abuse.",
        ),
        (
            {"category": "Other"},
            "E (Funding category)",
            "unknown funding category 'Other'; the ledger has Sexual Violence, DA PCC commissioned, "
            "DA PCC non-commissioned.",
        ),
        ({"organisation": None}, "B (Organisation)", "the cell is empty."),
    ],
    ids=[
        "text",
        "number-as-text",
        "negative",
        "zero",
        "three-places",
        "formula-without-result",
        "empty-amount",
        "line-number-as-text",
        "fractional-line",
        "unknown-theme",
        "unknown-category",
        "no-organisation",
    ],
)
def test_a_bad_cell_is_named_by_sheet_row_and_column(seed_fund, cells, column, message):
    problem = only(refused(seed_fund, table(GOOD, line(**cells))))
    assert (problem.sheet, problem.row, problem.column, problem.message) == ("Sheet1", 3, column, message)


def test_a_date_stored_as_text_is_named(seed_fund):
    header = (*HEADER, "Award date")
    content = table((*line(), "19/08/2020"), header=header)
    problem = only(refused(seed_fund, content))
    assert (problem.row, problem.column, problem.message) == (
        2,
        "F (Award date)",
        "the date '19/08/2020' is a date stored as text; enter it as a date.",
    )


def test_the_same_organisation_and_service_twice_is_a_problem(seed_fund):
    content = table(line(number=17), line(number=18, organisation="new provider."))
    problem = only(refused(seed_fund, content))
    assert (problem.row, problem.column) == (3, "B (Organisation)")
    assert problem.message == (
        "New Provider appears twice in the file (first in row 2) with the same thematic area and funding "
        "category; a fund has one line per organisation and service in each."
    )


def test_the_same_line_number_twice_is_a_problem(seed_fund):
    content = table(line(number=17), line(number=17, organisation="Other Provider"))
    problem = only(refused(seed_fund, content))
    assert (problem.row, problem.message) == (3, "line 17 appears twice in the file (first in row 2).")


def test_a_line_number_taken_by_another_organisation_is_a_problem(seed_fund):
    problem = only(refused(seed_fund, table(line(number=3, organisation="Roshni"))))
    assert problem.message == (
        "line 3 of this fund is Coventry Rape and Sexual Abuse Centre in the ledger, not Roshni; an import "
        "does not renumber or replace lines."
    )


def test_every_problem_in_the_file_is_listed_not_just_the_first(seed_fund):
    content = table(
        line(number=17, amount="abc"),
        line(number=18, organisation="Another", theme="Nope"),
        line(number=19, organisation="Third", amount=Decimal("-1")),
    )
    problems = refused(seed_fund, content)
    assert [(problem.row, problem.column) for problem in problems] == [
        (2, "D (Amount)"),
        (3, "C (Thematic area)"),
        (4, "D (Amount)"),
    ]


def test_a_refused_import_half_way_through_rolls_back_everything(seed_fund, monkeypatch):
    """A refusal inside the transaction (here, of the fifth line, after the batch service has written
    all six) undoes every line and organisation the import wrote, and names that line's row."""
    from django.core.exceptions import ValidationError

    real = services.allocations_create
    written = []

    def failing(**kwargs):
        written.extend(real(**kwargs))
        raise services.RowsRefused({4: ValidationError("the database refused it")})

    monkeypatch.setattr(services.imports, "allocations_create", failing)
    rows = [line(number=n, organisation=f"Provider {n}") for n in range(20, 26)]
    problem = only(refused(seed_fund, table(*rows)))
    assert (problem.row, problem.message) == (6, "the database refused it")
    assert [allocation.line_number for allocation in written] == [20, 21, 22, 23, 24, 25]


def test_an_entity_bomb_past_the_pre_check_is_still_refused_by_the_parser(seed_fund, monkeypatch):
    monkeypatch.setattr("grants.imports.archive._declares_dtd", lambda archive, member: False)
    assert only(refused(seed_fund, entity_bomb())).message == (
        "The workbook declares XML entities or a DTD (an XML bomb?); it is not imported."
    )


def test_a_line_below_the_total_row_is_a_problem_and_notes_there_are_not(seed_fund):
    content = table(
        line(number=17),
        ("Total", None, None, Decimal("250.00")),
        ("Figures agreed at the board meeting.",),
        line(number=18, organisation="Late Provider"),
    )
    problem = only(refused(seed_fund, content))
    assert (problem.row, problem.column, problem.message) == (
        5,
        "A (No.)",
        "a line below the Total row (row 3); move it above the Total row.",
    )


def test_an_organisation_whose_name_starts_with_total_is_still_a_line(seed_fund):

    content = table(
        line(number=17, organisation="Total Support Services"), ("Total", None, None, Decimal("250"))
    )
    plan = import_preview(seed_fund, file_name="x.xlsx", content=content)
    assert plan.problems == []
    assert [line.organisation.name for line in plan.new_lines] == ["Total Support Services"]
    assert plan.sheet.stated_total == Decimal("250")
