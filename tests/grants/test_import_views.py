"""The import pages: upload, preview (nothing written), confirm (everything written, once)."""

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from grants import money, roles, services
from grants.imports.reading import Mapping
from grants.models import Allocation, Approval, ImportRecord, LedgerEntry, PendingImport
from tests.factories import AllocationFactory, UserFactory, submit_return
from tests.grants.test_import_service import empty_fund_like, ledger_state
from tests.grants.workbooks import HEADER, damaged, encrypted, seed_table, table, xlsx

IMPORT_URL = reverse("grants:fund_import", args=["moj-ecf-2020-copy"])


def grant(user, *codenames):
    """`user` with these permissions besides reading, which every role has."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="grants", codename__in=[*codenames, *roles.VIEW])
    )
    return user


@pytest.fixture
def importer(db):
    return grant(UserFactory(username="importer"), "add_allocation", "change_allocation", "add_organisation")


@pytest.fixture
def copy_fund(seed_fund):
    return empty_fund_like(seed_fund)


def upload(client, content, name="ECF allocations.xlsx"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content)})


def test_the_import_pages_need_a_login(client, copy_fund):
    response = client.get(IMPORT_URL)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={IMPORT_URL}")


def test_the_import_pages_need_the_right_to_add_and_change_allocations(client, copy_fund):
    user = grant(UserFactory(), "add_allocation")
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, seed_table()).status_code == 403
    assert not PendingImport.objects.exists()


def test_the_fund_page_offers_the_import_only_to_those_allowed(client, copy_fund, importer, viewer):
    fund_url = reverse("grants:fund_detail", args=[copy_fund.code])
    client.force_login(viewer)
    assert IMPORT_URL not in client.get(fund_url).content.decode()
    client.force_login(importer)
    assert f'href="{IMPORT_URL}"' in client.get(fund_url).content.decode()


def test_upload_preview_confirm(client, copy_fund, importer):
    client.force_login(importer)
    before = ledger_state()
    response = upload(client, seed_table())
    assert response.status_code == 302
    pending = PendingImport.objects.get()
    assert response["Location"] == reverse("grants:fund_import_preview", args=[copy_fund.code, pending.token])

    preview = client.get(response["Location"])
    page = preview.content.decode()
    assert ledger_state() == before  # the preview writes nothing
    assert "Nothing has been written yet: check the lines" in page
    assert "16 new, 0 changed, 0 unchanged" in page
    assert page.count("New line") == 16
    assert "The allocations come to £0.29 more than the control total." in page
    assert (
        "The file states £738,810.53 in the Total row (row 22); its lines add up to £738,810.82; difference "
        "£0.29: the lines come to £0.29 more than the file states. The lines are imported as they are."
        in page
    )
    # Read by its headings alone: no column chosen, no text to say, nothing carried but the digest.
    assert preview.context["plan"].mapping == Mapping()
    assert not preview.context["choices"].texts()
    assert preview.context["confirm_fields"] == []
    assert "Organisations already in the ledger" in page
    digest = preview.context["plan"].digest
    assert f'name="digest" value="{digest}"' in page

    done = client.post(response["Location"], {"digest": digest})
    assert done.status_code == 302
    assert done["Location"] == reverse("grants:fund_detail", args=[copy_fund.code])
    assert Allocation.objects.filter(fund=copy_fund).count() == 16
    record = ImportRecord.objects.get()
    assert (record.imported_by, record.file_name, record.lines_added) == (
        importer,
        "ECF allocations.xlsx",
        16,
    )
    assert not PendingImport.objects.exists()
    fund_page = client.get(done["Location"]).content.decode()
    assert (
        "Imported ECF allocations.xlsx: 16 lines added, 0 amounts changed, 0 unchanged, 0 organisations added"
        in fund_page
    )


def test_uploading_the_same_file_again_says_there_is_nothing_to_change(client, copy_fund, importer):
    client.force_login(importer)
    content = seed_table()
    first = upload(client, content)
    client.post(first["Location"], {"digest": client.get(first["Location"]).context["plan"].digest})
    before = ledger_state()

    again = client.get(upload(client, content)["Location"])
    page = again.content.decode()
    assert "Nothing to change: every line in this file already matches the ledger." in page
    assert "This file was imported into this fund on" in page
    assert 'name="digest"' not in page
    assert page.count("<td>Unchanged</td>") == 16
    assert ledger_state() == before


def test_a_file_with_bad_rows_goes_to_the_preview_with_its_problems_and_no_button(
    client, copy_fund, importer
):
    client.force_login(importer)
    before = ledger_state()
    content = table(
        (1, "New Provider", "Domestic Abuse", Decimal("-3.00"), "DA PCC commissioned"),
        (2, "Other Provider", "Domestic Abuse", Decimal("3.00"), "Unknown"),
    )
    response = upload(client, content, name="bad.xlsx")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "bad.xlsx cannot be imported: 2 problems" in page
    assert re.search(
        r"<td>Sheet1</td><td class=\"num\">2</td><td>D \(Amount\)</td><td>the amount -3 is negative", page
    )
    assert "<td>E (Funding category)</td><td>unknown funding category &#x27;Unknown&#x27;" in page
    # The unknown category is a text the officer can say the meaning of, beside the problem.
    assert '<select name="meaning_1"' in page
    assert 'name="digest"' not in page
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (damaged(), "The workbook is damaged and cannot be read"),
        (encrypted(), "encrypted"),
        (xlsx([("Just a note",), ("and another",)]), "No header row found in the first 30 rows"),
    ],
    ids=["damaged", "encrypted", "one sheet without a header row"],
)
def test_a_file_that_cannot_be_opened_or_mapped_shows_its_problems_on_the_upload_page(
    client, copy_fund, importer, content, message
):
    client.force_login(importer)
    before = ledger_state()
    response = upload(client, content, name="bad.xlsx")
    assert response.status_code == 200
    page = response.content.decode()
    assert "bad.xlsx cannot be imported: 1 problem" in page
    assert message in page
    assert ledger_state() == before
    assert not PendingImport.objects.exists()


def test_a_file_over_the_size_limit_is_refused_by_the_form(client, copy_fund, importer, settings):
    settings.LEDGER_IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(importer)
    response = upload(client, bytes(1024 * 1024 + 1))
    assert "files over 1.0 MB are not imported." in response.content.decode()
    assert not PendingImport.objects.exists()


def test_confirming_after_the_ledger_changed_refuses_and_shows_the_new_preview(client, copy_fund, importer):
    client.force_login(importer)
    preview_url = upload(client, seed_table())["Location"]
    digest = client.get(preview_url).context["plan"].digest
    AllocationFactory(fund=copy_fund, line_number=40, amount=Decimal("1.00"))
    before = ledger_state()

    response = client.post(preview_url, {"digest": digest})

    assert "The ledger or the choices have changed since the preview" in response.content.decode()
    assert response.context["plan"].digest != digest
    assert ledger_state() == before


def test_someone_else_cannot_see_or_confirm_your_upload(client, copy_fund, importer):
    client.force_login(importer)
    preview_url = upload(client, seed_table())["Location"]
    other = grant(UserFactory(), "add_allocation", "change_allocation", "add_organisation")
    client.force_login(other)
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url, {"digest": "x"}).status_code == 404


def test_an_import_that_adds_organisations_needs_the_right_to_add_them(client, copy_fund):
    user = grant(UserFactory(), "add_allocation", "change_allocation")
    client.force_login(user)
    content = table((1, "Brand New Provider", "Domestic Abuse", Decimal("3.00"), "DA PCC commissioned"))
    before = ledger_state()
    preview_url = upload(client, content)["Location"]
    preview = client.get(preview_url)
    page = preview.content.decode()
    assert "you are not allowed to add organisations" in page
    assert 'name="digest"' not in page
    refused = client.post(preview_url, {"digest": preview.context["plan"].digest})
    assert "you are not allowed to add organisations" in refused.content.decode()
    assert ledger_state() == before


def test_the_preview_of_a_submitted_fund_says_confirming_will_be_refused_and_offers_no_button(
    client, copy_fund, importer, approver
):
    client.force_login(importer)
    response = upload(client, seed_table())
    assert response.status_code == 302
    # The return is submitted after the upload, before the preview is looked at.
    submission = submit_return(copy_fund, approver)
    before = ledger_state()

    preview = client.get(response["Location"])
    page = preview.content.decode()
    assert page.count(escape(services.locked_message(submission))) == 1
    assert "version 1" in page and "by approver" in page
    assert "Nothing has been written yet: check the lines" not in page
    assert 'name="digest"' not in page
    main = page.split('<main id="main">', 1)[1].split("</main>")[0]
    assert '<form method="post"' not in main and '<button type="submit">Import' not in main
    # Confirming anyway (a stale page, a crafted POST) is refused as before, writing nothing.
    refused = client.post(response["Location"], {"digest": "anything"})
    assert escape(services.locked_message(submission)) in refused.content.decode()
    assert ledger_state() == before

    # Reopened, the same preview offers the button again.
    services.fund_reopen(fund=copy_fund, reason="Correction from the MoJ", acting_user=approver)
    page = client.get(response["Location"]).content.decode()
    assert escape(services.locked_message(submission)) not in page
    assert 'name="digest"' in page


def workbook(sheets: dict[str, list[tuple]]) -> bytes:
    """An .xlsx with one sheet per item, in order; Decimal cells get the currency format."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "£#,##0.00"
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


# An office's table with no numbers and no category columns: the names under an empty heading, the
# amounts under "£", section rows saying what the lines below are, and its total in the title.
UNFAMILIAR = [
    ("Grants awarded in 2021: £4,400.00 in all",),
    (),
    ("", "£"),
    ("Domestic Abuse",),
    ("Safer Homes Trust", Decimal("1200.50")),
    ("Newtown Refuge", Decimal("800.00")),
    ("Sexual Violence Support",),
    ("Rape Crisis Newtown", Decimal("2400.00")),
]


def lines_of(fund):
    return [
        (
            line.line_number,
            line.organisation.name,
            line.thematic_area.name,
            line.funding_category.name,
            line.awarded,
        )
        for line in Allocation.objects.for_fund(fund)
        .with_awarded(Approval.APPROVED_OR_PENDING)
        .order_by("line_number")
    ]


def test_an_unfamiliar_table_is_mapped_in_the_preview_then_imported(client, copy_fund, importer):
    client.force_login(importer)
    before = ledger_state()
    upload_response = upload(client, xlsx(UNFAMILIAR), name="2021 awards.xlsx")
    assert upload_response.status_code == 302
    preview_url = upload_response["Location"]

    first = client.get(preview_url)
    page = first.content.decode()
    # The columns as read, each with its choice; the problems beside them.
    assert [
        (column.letter, column.heading, column.key, column.how) for column in first.context["sheet"].columns
    ] == [
        ("A", "", "organisation", "no heading; its cells are names"),
        ("B", "£", "amount", "heading"),
    ]
    assert '<label for="id_column_A" class="visually-hidden">Column A (no heading) is</label>' in page
    assert '<option value="" selected>As read: Organisation</option>' in page
    assert [str(problem) for problem in first.context["problems"]] == [
        "sheet 'Sheet1', row 5: 2 lines (rows 5, 6) have no funding category: the file has no funding "
        "category column, and no section row above them names one. Choose a funding category for the "
        "whole file.",
        "sheet 'Sheet1', row 7, column A (section row): the section row 'Sexual Violence Support' names no "
        "thematic area or funding category the ledger knows; say what it is (the ledger has the thematic "
        "areas Sexual Violence, Domestic Abuse and the funding categories Sexual Violence, DA PCC "
        "commissioned, DA PCC non-commissioned), or, if it is a line, give it its amount.",
    ]
    assert '<input type="hidden" name="text_1" value="Sexual Violence Support"' in page
    assert '<label for="id_meaning_1">“Sexual Violence Support” means</label>' in page
    assert 'name="digest"' not in page

    mapped = client.get(
        preview_url,
        {
            "funding_category": "da-pcc-commissioned",
            "text_1": "Sexual Violence Support",
            "meaning_1": "both:sexual-violence",
        },
    )
    page = mapped.content.decode()
    plan = mapped.context["plan"]
    assert mapped.context["problems"] == []
    assert [
        (
            line.line_number,
            line.numbered_by_ledger,
            line.organisation.name,
            line.thematic_area.name,
            line.funding_category.name,
            line.amount,
        )
        for line in plan.lines
    ] == [
        (1, True, "Safer Homes Trust", "Domestic Abuse", "DA PCC commissioned", Decimal("1200.50")),
        (2, True, "Newtown Refuge", "Domestic Abuse", "DA PCC commissioned", Decimal("800.00")),
        (3, True, "Rape Crisis Newtown", "Sexual Violence", "Sexual Violence", Decimal("2400.00")),
    ]
    assert page.count("<td>New line, numbered by the ledger</td>") == 3
    assert (
        "The file states £4,400.00 in the title (row 1); its lines add up to £4,400.50; difference £0.50: "
        "the lines come to £0.50 more than the file states. The lines are imported as they are." in page
    )
    assert (
        "“Sexual Violence Support” (first in row 7) is read as thematic area Sexual Violence and funding "
        "category Sexual Violence, as you chose" in page
    )
    assert ledger_state() == before
    confirm = dict(mapped.context["confirm_fields"])
    assert confirm == {
        "funding_category": "da-pcc-commissioned",
        "text_1": "Sexual Violence Support",
        "meaning_1": "both:sexual-violence",
    }
    for name, value in confirm.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in page

    done = client.post(preview_url, {**confirm, "digest": plan.digest})
    assert done.status_code == 302
    assert done["Location"] == reverse("grants:fund_detail", args=[copy_fund.code])
    assert lines_of(copy_fund) == [
        (1, "Safer Homes Trust", "Domestic Abuse", "DA PCC commissioned", Decimal("1200.50")),
        (2, "Newtown Refuge", "Domestic Abuse", "DA PCC commissioned", Decimal("800.00")),
        (3, "Rape Crisis Newtown", "Sexual Violence", "Sexual Violence", Decimal("2400.00")),
    ]
    entries = LedgerEntry.objects.filter(allocation__fund=copy_fund)
    assert entries.count() == 3
    assert not entries.filter(approved_at__isnull=False).exists()  # awaiting approval, like any entry
    assert ImportRecord.objects.get().lines_added == 3


def test_a_column_the_headings_do_not_explain_is_chosen_in_the_preview(client, copy_fund, importer):
    client.force_login(importer)
    content = xlsx(
        [
            ("Name of charity", "Amount", "Area", "Stream"),
            ("Safer Homes Trust", Decimal("10.01"), "Domestic Abuse", "DA PCC non-commissioned"),
            ("Newtown Refuge", Decimal("20.02"), "Domestic Abuse", "DA PCC commissioned"),
        ]
    )
    preview_url = upload(client, content)["Location"]
    first = client.get(preview_url)
    assert first.context["plan"] is None
    assert "the Organisation column is missing" in first.content.decode()
    assert [(column.letter, column.key) for column in first.context["sheet"].columns] == [
        ("A", "notes"),
        ("B", "amount"),
        ("C", "thematic_area"),
        ("D", "funding_category"),
    ]

    mapped = client.get(preview_url, {"column_A": "organisation"})
    plan = mapped.context["plan"]
    assert mapped.context["problems"] == []
    assert plan.mapping.columns == (("organisation", "A"),)
    assert [(line.organisation.name, line.funding_category.name) for line in plan.lines] == [
        ("Safer Homes Trust", "DA PCC non-commissioned"),
        ("Newtown Refuge", "DA PCC commissioned"),
    ]
    assert '<option value="organisation" selected>Organisation</option>' in mapped.content.decode()
    assert plan.sheet_total == money.gbp("30.03")
    assert mapped.context["stated_total"] == ""  # the file states no total: nothing is said about one

    client.post(preview_url, {**dict(mapped.context["confirm_fields"]), "digest": plan.digest})
    assert [(number, name, amount) for number, name, _, _, amount in lines_of(copy_fund)] == [
        (1, "Safer Homes Trust", Decimal("10.01")),
        (2, "Newtown Refuge", Decimal("20.02")),
    ]


def test_a_workbook_whose_table_is_on_its_second_sheet_is_read_once_the_sheet_is_chosen(
    client, copy_fund, importer
):
    client.force_login(importer)
    content = workbook(
        {
            "Cover": [("Allocations for 2021",), ("Prepared by the finance team",)],
            "Table 2021": [
                HEADER,
                (1, "Safer Homes Trust", "Domestic Abuse", Decimal("99.99"), "DA PCC commissioned"),
            ],
        }
    )
    response = upload(client, content)
    assert response.status_code == 302  # the sheet can be chosen in the preview
    first = client.get(response["Location"])
    page = first.content.decode()
    assert "No header row found in the first 30 rows" in page
    assert '<label for="id_sheet">Sheet to read</label>' in page
    assert '<option value="Table 2021">Table 2021</option>' in page

    chosen = client.get(response["Location"], {"sheet": "Table 2021"})
    plan = chosen.context["plan"]
    assert chosen.context["problems"] == []
    assert (plan.sheet.sheet_name, len(plan.lines), plan.sheet_total) == ("Table 2021", 1, money.gbp("99.99"))
    assert '<input type="hidden" name="sheet" value="Table 2021">' in chosen.content.decode()
    client.post(response["Location"], {**dict(chosen.context["confirm_fields"]), "digest": plan.digest})
    assert [(number, amount) for number, _, _, _, amount in lines_of(copy_fund)] == [(1, Decimal("99.99"))]


def test_invalid_choices_in_the_query_string_are_form_errors_not_a_server_error(client, copy_fund, importer):
    client.force_login(importer)
    preview_url = upload(client, seed_table())["Location"]
    response = client.get(
        preview_url,
        {
            "column_B": "salary",
            "column_ZZ": "amount",
            "thematic_area": "no-such-area",
            "meaning_7": "funding_category:sexual-violence",
            "sheet": "Nowhere",
        },
    )
    assert response.status_code == 200
    form = response.context["mapping_form"]
    assert form.errors == {
        "column_B": ["Select a valid choice. salary is not one of the available choices."],
        "column_ZZ": ["Only the first 40 columns of a sheet are read."],
        "thematic_area": ["Select a valid choice. no-such-area is not one of the available choices."],
        "meaning_7": ["This meaning names no text of the file."],
        "sheet": ["The workbook has no sheet called “Nowhere”."],
    }
    page = response.content.decode()
    assert "Some choices could not be used" in page
    assert "Sheet to read: The workbook has no sheet called “Nowhere”." in page
    # Read without them, as uploaded; no confirmation is offered until the choices are valid.
    assert response.context["plan"].mapping == Mapping()
    assert len(response.context["plan"].lines) == 16
    assert 'name="digest"' not in page
    # The same values posted to confirm write nothing.
    before = ledger_state()
    posted = client.post(
        preview_url, {"thematic_area": "no-such-area", "digest": response.context["plan"].digest}
    )
    assert posted.status_code == 200
    assert "Some choices could not be used" in posted.content.decode()
    assert ledger_state() == before


def test_a_mapping_changed_between_preview_and_confirmation_is_refused_and_nothing_is_written(
    client, copy_fund, importer
):
    client.force_login(importer)
    preview_url = upload(client, xlsx(UNFAMILIAR))["Location"]
    shown = client.get(
        preview_url,
        {
            "funding_category": "da-pcc-commissioned",
            "text_1": "Sexual Violence Support",
            "meaning_1": "funding_category:sexual-violence",
        },
    )
    digest = shown.context["plan"].digest
    before = ledger_state()

    tampered = {**dict(shown.context["confirm_fields"]), "funding_category": "da-pcc-non-commissioned"}
    response = client.post(preview_url, {**tampered, "digest": digest})

    assert response.status_code == 200
    assert "would no longer do what the preview showed. Nothing was imported" in response.content.decode()
    assert ledger_state() == before
    assert PendingImport.objects.exists()
    # The page now previews what was posted, with a digest of its own to confirm.
    replanned = response.context["plan"]
    assert replanned.digest != digest
    assert {line.funding_category.name for line in replanned.lines[:2]} == {"DA PCC non-commissioned"}
    # Confirming the untampered mapping still works: the refusal was the mapping's, not the file's.
    client.post(preview_url, {**dict(shown.context["confirm_fields"]), "digest": digest})
    assert [category for _, _, _, category, _ in lines_of(copy_fund)] == [
        "DA PCC commissioned",
        "DA PCC commissioned",
        "Sexual Violence",
    ]


def test_a_total_stated_below_the_lines_sum_is_shown_with_the_shortfall_and_the_lines_kept(
    client, copy_fund, importer
):
    client.force_login(importer)
    content = xlsx(
        [
            ("Awards for 2021, £40.00 in all",),
            HEADER,
            (1, "Safer Homes Trust", "Domestic Abuse", Decimal("10.01"), "DA PCC commissioned"),
            (2, "Newtown Refuge", "Domestic Abuse", Decimal("20.02"), "DA PCC commissioned"),
        ]
    )
    response = client.get(upload(client, content)["Location"])
    assert response.context["stated_total"] == (
        "The file states £40.00 in the title (row 1); its lines add up to £30.03; difference -£9.97: the "
        "lines come to £9.97 less than the file states. The lines are imported as they are."
    )
    assert [line.amount for line in response.context["plan"].lines] == [Decimal("10.01"), Decimal("20.02")]
    assert 'name="digest"' in response.content.decode()  # a disagreeing total is said, not a problem


def test_several_totals_stated_outside_the_table_are_listed_and_none_is_taken(client, copy_fund, importer):
    client.force_login(importer)
    content = xlsx(
        [
            ("Budget for 2021: £5,000.00",),
            HEADER,
            (1, "Safer Homes Trust", "Domestic Abuse", Decimal("10.01"), "DA PCC commissioned"),
            (),
            ("Awarded by the March board: £2,500.00",),
        ]
    )
    response = client.get(upload(client, content)["Location"])
    assert response.context["plan"].stated_total is None
    assert response.context["stated_total"] == ""
    assert (
        "The file states several amounts outside the table, none of them taken as its total: £5,000.00 "
        "(row 1), £2,500.00 (row 5)." in response.content.decode()
    )
