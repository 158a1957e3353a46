"""The statutory grants register (Elected Local Policing Bodies (Specified Information) Order 2011,
Schedule 1 paragraph 3(f)): one row per grant with the Order's fields, approved money only, and the
public page the office switches on."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from grants import services
from grants.demo_fund import demo_fund_create
from grants.models import LedgerEntry, LineRegisterText
from grants.selectors import grants_register, register_gaps
from grants.years import FinancialYear
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory, submit_return
from tests.grants.test_fixture import PRINTED_TABLE

HEADINGS = [
    "Line",
    "Recipient",
    "Amount (approved, £)",
    "Date awarded",
    "Purpose",
    "Conditions",
    "Why it is expected to reduce crime and disorder",
]


def register_defaults(fund):
    return services.fund_publication_update(
        fund=fund,
        acting_user=None,
        register_purpose="Support for victims of domestic abuse and sexual violence",
        register_conditions="Spent by 31 October 2020; quarterly returns",
        register_crime_reduction="Supported victims are less likely to be harmed again",
    )


def download(client, fund, file_format, year=""):
    url = reverse("grants:fund_register_download", args=[fund.code, file_format])
    return client.get(url, {"year": year} if year else {})


def test_the_seed_funds_register_has_one_row_per_grant_with_the_orders_fields(client, viewer, seed_fund):
    fund = register_defaults(seed_fund)
    line = fund.allocations.get(line_number=3)
    services.line_register_text_set(allocation=line, acting_user=None, purpose="Counselling for survivors")
    client.force_login(viewer)
    response = download(client, fund, "csv")
    assert response["Content-Disposition"] == 'attachment; filename="grants-register_moj-ecf-2020.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == HEADINGS
    assert len(rows) == 1 + 16
    assert [Decimal(row[2]) for row in rows[1:]] == [Decimal(printed[3]) for printed in PRINTED_TABLE]
    assert rows[1][3] == "2020-08-19"
    assert rows[1][4] == "Support for victims of domestic abuse and sexual violence"
    assert rows[3][4] == "Counselling for survivors"  # the line's own purpose
    assert rows[3][5] == "Spent by 31 October 2020; quarterly returns"  # the fund's default
    assert all(all(row[index] for index in range(7)) for row in rows[1:])

    book = openpyxl.load_workbook(io.BytesIO(download(client, fund, "xlsx").content))
    sheet = book["Register"]
    assert [cell.value for cell in sheet[3]] == HEADINGS
    amounts = [sheet.cell(row, 3).value for row in range(4, 4 + 16)]
    assert [Decimal(repr(amount)) for amount in amounts] == [Decimal(printed[3]) for printed in PRINTED_TABLE]
    assert sheet.cell(4, 4).value.date() == datetime.date(2020, 8, 19)
    assert sheet.cell(4 + 16, 1).value is None


def test_the_demo_funds_register_by_year_counts_each_years_approved_money(
    client, viewer, seed_fund, officer, approver
):
    fund = demo_fund_create(recorder=officer, approver=approver)
    client.force_login(viewer)
    whole = list(csv.reader(io.StringIO(download(client, fund, "csv").content.decode())))
    assert whole[0] == HEADINGS and len(whole) == 1 + 7
    total = Decimal(0)
    for start in (2023, 2024, 2025):
        year = FinancialYear(start)
        rows = list(csv.reader(io.StringIO(download(client, fund, "csv", year.label).content.decode())))
        assert rows[0] == HEADINGS
        assert 1 < len(rows) <= 1 + 7
        expected = {row.line_number: row.amount for row in grants_register(fund, year)}
        assert {int(row[0]): Decimal(row[2]) for row in rows[1:]} == expected
        total += sum(expected.values(), Decimal(0))
    assert total == sum((Decimal(row[2]) for row in whole[1:]), Decimal(0))
    response = download(client, fund, "csv", "2024-25")
    assert (
        response["Content-Disposition"] == f'attachment; filename="grants-register_{fund.code}_2024-25.csv"'
    )


def test_nothing_awaiting_approval_is_in_the_register(db):
    fund = FundFactory()
    approved = AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    AllocationFactory(fund=fund, amount=Decimal("555.55"), approved=False)
    LedgerEntry.objects.create(
        fund=fund,
        allocation=approved,
        kind="variation",
        amount=Decimal("250.00"),
        effective_date=datetime.date(2020, 9, 1),
        memo="Pending rise",
    )
    rows = grants_register(fund)
    assert [(row.line_number, row.amount) for row in rows] == [(approved.line_number, Decimal("1000.00"))]


def test_the_register_page_says_what_is_missing_and_gaps_are_empty_when_complete(client, viewer, seed_fund):
    client.force_login(viewer)
    page = client.get(reverse("grants:fund_register", args=[seed_fund.code])).content.decode()
    assert 'id="register-gaps"' in page
    assert "Purpose: not given for lines 1, 2, 3" in page
    register_defaults(seed_fund)
    assert register_gaps(grants_register(seed_fund)) == []
    page = client.get(reverse("grants:fund_register", args=[seed_fund.code])).content.decode()
    assert 'id="register-gaps"' not in page


def test_a_line_text_can_be_corrected_while_the_return_is_submitted(submitted_fund):
    from django.db import DatabaseError, transaction

    line = submitted_fund.allocations.first()
    # The positive control: the line itself is frozen.
    with pytest.raises(DatabaseError, match="submitted MoJ return"), transaction.atomic():
        type(line).objects.filter(pk=line.pk).update(notes="changed")
    text = services.line_register_text_set(allocation=line, acting_user=None, conditions="Corrected")
    assert LineRegisterText.objects.get(pk=text.pk).conditions == "Corrected"
    fund = services.fund_publication_update(
        fund=submitted_fund, acting_user=None, register_purpose="Corrected too"
    )
    fund.refresh_from_db()
    assert fund.register_purpose == "Corrected too"


@pytest.fixture
def submitted_fund(db, approver):
    fund = FundFactory()
    AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    submit_return(fund, approver)
    return fund


def test_the_public_page_is_off_by_default_and_when_on_shows_only_approved_money(client, db):
    fund = FundFactory(name="Victims' fund")
    approved = AllocationFactory(
        fund=fund, organisation=OrganisationFactory(name="Approved Refuge"), amount=Decimal("1000.00")
    )
    AllocationFactory(
        fund=fund,
        organisation=OrganisationFactory(name="Pending Refuge"),
        amount=Decimal("777.77"),
        approved=False,
    )
    LedgerEntry.objects.create(
        fund=fund,
        allocation=approved,
        kind="variation",
        amount=Decimal("250.00"),
        effective_date=datetime.date(2020, 9, 1),
        memo="Pending rise",
    )
    url = reverse("grants:public_fund", args=[fund.code])
    assert client.get(url).status_code == 404
    services.fund_publication_update(
        fund=fund, acting_user=None, is_published=True, register_purpose="Refuge"
    )
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Approved Refuge" in page and "£1,000.00" in page
    assert "Pending Refuge" not in page and "777.77" not in page and "1,250.00" not in page
    assert "Pending rise" not in page
    # Nothing of the ledger's inside: no navigation, no login or admin links.
    assert "/accounts/" not in page and "/admin/" not in page and "Log out" not in page
    assert reverse("grants:fund_detail", args=[fund.code]) not in page
    assert "Content-Security-Policy" in response.headers


def test_a_line_register_text_is_set_on_its_page_and_a_fund_default_is_shown_escaped(client, officer, db):
    fund = FundFactory()
    services.fund_publication_update(fund=fund, acting_user=None, register_purpose="<b>Refuge</b> support")
    line = AllocationFactory(fund=fund)
    client.force_login(officer)
    url = reverse("grants:line_register_text", args=[line.pk])
    page = client.get(url).content.decode()
    assert "&lt;b&gt;Refuge&lt;/b&gt; support" in page and "<b>Refuge</b>" not in page
    response = client.post(
        url, {"purpose": "", "conditions": "Monthly reports", "crime_reduction": "", "version": 0}
    )
    assert response.status_code == 302
    (row,) = grants_register(fund)
    assert (row.purpose, row.conditions) == ("<b>Refuge</b> support", "Monthly reports")
    response = client.post(url, {"conditions": "@SUM(1)", "version": 1})
    assert response.status_code == 200
    (row,) = grants_register(fund)
    assert row.conditions == "Monthly reports"


def test_the_forms_open_with_what_is_saved(client, officer, db):
    fund = FundFactory()
    services.fund_publication_update(fund=fund, acting_user=None, register_conditions="Quarterly returns")
    line = AllocationFactory(fund=fund)
    services.line_register_text_set(allocation=line, acting_user=None, purpose="Helpline")
    client.force_login(officer)
    form = client.get(reverse("grants:fund_publication", args=[fund.code])).context["form"]
    fund.refresh_from_db()
    assert form["register_conditions"].value() == "Quarterly returns"
    assert form["version"].value() == fund.version
    form = client.get(reverse("grants:line_register_text", args=[line.pk])).context["form"]
    assert form["purpose"].value() == "Helpline"


def test_every_link_on_the_public_page_opens_without_a_login(client, db):
    """The public page is for anyone: none of its links may lead an anonymous reader to the ledger's
    login page; the accessibility statement it links to is readable by anyone."""
    import re

    from django.conf import settings

    fund = FundFactory()
    AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    services.fund_publication_update(fund=fund, acting_user=None, is_published=True)
    page = client.get(reverse("grants:public_fund", args=[fund.code])).content.decode()
    links = [href for href in re.findall(r'href="([^"]+)"', page) if href.startswith("/")]
    assert links  # the stylesheet at least
    for href in links:
        response = client.get(href)
        assert response.status_code == 200, href
    assert reverse(settings.LOGIN_URL) not in page
    # Its accessibility statement is among them, readable without a login.
    assert reverse("grants:accessibility") in links


def test_a_line_text_form_opened_before_a_colleagues_save_is_refused(client, officer, db):
    """Two sessions open a line's register text; the second to save must not silently undo the
    first's words (the same rule as every other form in the ledger)."""
    line = AllocationFactory()
    url = reverse("grants:line_register_text", args=[line.pk])
    client.force_login(officer)
    stale = client.get(url).context["form"]
    first = {"purpose": "Helpline", "conditions": "", "crime_reduction": ""}
    first.update({k: v for k, v in stale.initial.items() if k == "version"})
    assert client.post(url, first).status_code == 302
    second = {"purpose": "Outreach", "conditions": "", "crime_reduction": ""}
    second.update({k: v for k, v in stale.initial.items() if k == "version"})
    response = client.post(url, second)
    assert response.status_code == 200
    assert LineRegisterText.objects.get(allocation=line).purpose == "Helpline"
    # Reopened, the form saves.
    fresh = client.get(url).context["form"]
    again = {
        "purpose": "Outreach",
        "conditions": "",
        "crime_reduction": "",
        **{"version": fresh.initial["version"]},
    }
    assert client.post(url, again).status_code == 302
    assert LineRegisterText.objects.get(allocation=line).purpose == "Outreach"


def test_a_download_for_a_year_it_cannot_read_is_refused_not_the_whole_fund(client, viewer, db):
    """`?year=2023-2` is a mistyped year: the download must not quietly be the whole fund's register
    under a whole-fund name, as if it were the year asked for."""
    fund = FundFactory()
    AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    client.force_login(viewer)
    response = download(client, fund, "csv", "2023-2")
    assert response.status_code == 302
    assert response.url == reverse("grants:fund_register", args=[fund.code]) + "?year=2023-2"
    page = client.get(response.url).content.decode()
    assert "is not a financial year" in page
