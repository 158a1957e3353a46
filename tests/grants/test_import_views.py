"""The import pages: upload, preview (nothing written), confirm (everything written, once)."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from grants import roles, services
from grants.models import Allocation, ImportRecord, PendingImport
from tests.factories import AllocationFactory, UserFactory
from tests.grants.test_import_service import empty_fund_like, ledger_state
from tests.grants.workbooks import seed_table, table

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
    assert "The sheet's Total row says £738,810.53; its lines add up to £738,810.82." in page
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


def test_a_bad_upload_lists_its_problems_and_keeps_nothing(client, copy_fund, importer):
    client.force_login(importer)
    before = ledger_state()
    content = table(
        (1, "New Provider", "Domestic Abuse", Decimal("-3.00"), "DA PCC commissioned"),
        (2, "Other Provider", "Domestic Abuse", Decimal("3.00"), "Unknown"),
    )
    response = upload(client, content, name="bad.xlsx")
    page = response.content.decode()
    assert response.status_code == 200
    assert "bad.xlsx cannot be imported: 2 problems" in page
    assert re.search(
        r"<td>Sheet1</td><td class=\"num\">2</td><td>D \(Amount\)</td><td>the amount -3 is negative", page
    )
    assert (
        "<td>E (Extraordinary funding category)</td><td>unknown funding category &#x27;Unknown&#x27;" in page
    )
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

    assert "The ledger has changed since the preview" in response.content.decode()
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
    page = upload(client, content).content.decode()
    assert "you are not allowed to add organisations" in page
    assert ledger_state() == before


def test_the_preview_of_a_submitted_fund_says_confirming_will_be_refused_and_offers_no_button(
    client, copy_fund, importer, approver
):
    client.force_login(importer)
    response = upload(client, seed_table())
    assert response.status_code == 302
    # The return is submitted after the upload, before the preview is looked at.
    submission = services.fund_submit_return(fund=copy_fund, acting_user=approver)
    before = ledger_state()

    preview = client.get(response["Location"])
    page = preview.content.decode()
    assert page.count(escape(services.locked_message(submission))) == 1
    assert "version 1" in page and "by approver" in page
    assert "Nothing has been written yet: check the lines" not in page
    assert 'name="digest"' not in page
    assert "<button" not in page.split('<main id="main">', 1)[1].split("</main>")[0]
    # Confirming anyway (a stale page, a crafted POST) is refused as before, writing nothing.
    refused = client.post(response["Location"], {"digest": "anything"})
    assert escape(services.locked_message(submission)) in refused.content.decode()
    assert ledger_state() == before

    # Reopened, the same preview offers the button again.
    services.fund_reopen(fund=copy_fund, reason="Correction from the MoJ", acting_user=approver)
    page = client.get(response["Location"]).content.decode()
    assert escape(services.locked_message(submission)) not in page
    assert 'name="digest"' in page
