"""Provider returns through the pages, the monitoring return recomputed, the reminders command, and a
synthetic fund of 200 lines over two years with quarterly returns."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from grants import services
from grants.exports.monitoring_return import build_monitoring_return
from grants.models import Allocation, LedgerEntry, Organisation, ProviderReturn
from grants.selectors import returns as selectors
from grants.services import returns as return_services
from tests.factories import (
    AllocationFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    approve_pending,
)
from tests.grants.test_moj_return import evaluate
from tests.grants.test_provider_returns import (
    fill,
    line,  # noqa: F401 (a fixture)
    period_starting,
    saved,
    two_year_fund,  # noqa: F401 (a fixture)
    workbook_for,
)

Q4 = datetime.date(2024, 1, 1)


def test_officer_sets_up_and_imports_through_the_pages_and_records_the_underspend(client, line, officer):  # noqa: F811
    client.force_login(officer)
    assert client.get(reverse("grants:fund_returns", args=[line.fund.code])).status_code == 200
    page = client.get(reverse("grants:line_returns", args=[line.pk]))
    assert page.status_code == 200 and "Preview the return" in page.content.decode()
    period = period_starting(line.fund, Q4)
    download = client.get(reverse("grants:line_return_workbook", args=[line.pk, period.pk]))
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    upload = io.BytesIO(saved(fill(book, line.fund, to_date="650")))
    upload.name = "q4.xlsx"
    preview = client.post(reverse("grants:line_returns", args=[line.pk]), {"file": upload})
    assert preview.status_code == 302
    shown = client.get(preview["Location"]).content.decode()
    assert "underspend of £150.00 is due back" in shown
    done = client.post(preview["Location"], {"record_underspend": "1", "underspend": "150.00"})
    assert done.status_code == 302
    entry = LedgerEntry.objects.get(kind="underspend_due")
    assert entry.amount.amount == Decimal("150.00") and entry.is_pending
    assert ProviderReturn.objects.get().period == period


def test_a_viewer_reads_but_cannot_import_set_up_or_accept(client, line, officer, viewer):  # noqa: F811
    period = period_starting(line.fund, Q4)
    received = return_services.provider_return_import(
        allocation=line,
        file_name="r.xlsx",
        content=saved(fill(workbook_for(line, period), line.fund)),
        acting_user=officer,
    ).provider_return
    client.force_login(viewer)
    assert client.get(reverse("grants:line_returns", args=[line.pk])).status_code == 200
    assert client.get(reverse("grants:fund_returns", args=[line.fund.code])).status_code == 403
    upload = io.BytesIO(b"x")
    upload.name = "r.xlsx"
    assert client.post(reverse("grants:line_returns", args=[line.pk]), {"file": upload}).status_code == 403
    accept = client.post(reverse("grants:return_accept", args=[received.pk]), {"version": "1"})
    assert accept.status_code == 403
    assert not ProviderReturn.objects.get().is_accepted


def test_an_approver_accepts_through_the_page(client, line, officer, approver):  # noqa: F811
    period = period_starting(line.fund, Q4)
    received = return_services.provider_return_import(
        allocation=line,
        file_name="r.xlsx",
        content=saved(fill(workbook_for(line, period), line.fund)),
        acting_user=officer,
    ).provider_return
    client.force_login(approver)
    client.post(reverse("grants:return_accept", args=[received.pk]), {"version": "1"})
    assert ProviderReturn.objects.get().accepted_by == approver


def test_the_pages_need_a_login(client, line):  # noqa: F811
    response = client.get(reverse("grants:line_returns", args=[line.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_reminders_list_due_and_overdue_and_email_those_with_a_contact(line, capsys):  # noqa: F811
    line.organisation.contact_email = "finance@provider.example"
    line.organisation.save()
    silent = AllocationFactory(
        fund=line.fund,
        organisation=OrganisationFactory(name="No Email Ltd"),
        effective_date=datetime.date(2023, 4, 10),  # awarded in the year, so expected to report
    )
    call_command("provider_returns_due", "--today", "2023-08-15", "--email", "--fund", line.fund.code)
    out = capsys.readouterr().out
    assert f"OVERDUE  {line.fund.code} line {line.line_number} {line.organisation.name}" in out
    assert "2 returns outstanding, 2 overdue." in out
    assert f"Not reminded (no contact email): {silent.organisation.name}" in out
    [message] = mail.outbox
    assert message.to == ["finance@provider.example"]
    assert "1 April 2023 to 30 June 2023, due 31 July 2023 (overdue)" in message.body


def test_dashboard_counts_overdue_returns(client, line, officer):  # noqa: F811
    client.force_login(officer)
    page = client.get(reverse("grants:dashboard")).content.decode()
    overdue = selectors.overdue_count(datetime.date.today())  # noqa: DTZ011
    # Every quarter of 2023-24, the only year the line is awarded in, has passed its due date and
    # none is received; 2024-25's quarters expect nothing of it.
    assert overdue == 4
    assert "4 provider returns overdue" in page


@pytest.fixture
def big_fund(two_year_fund, officer):  # noqa: F811
    """200 lines over two years, each awarded £1,000.00 a year and paid in each year; every tenth
    line's Q4 2023-24 return received."""
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Provider {n:03}") for n in range(200)
    )
    area, category = ThematicAreaFactory(), FundingCategoryFactory()
    lines = services.allocations_create(
        fund=two_year_fund,
        lines=[
            services.NewLine(
                line_number=n + 1,
                organisation=organisations[n],
                thematic_area=area,
                funding_category=category,
                amount=Decimal("1000.00"),
                effective_date=datetime.date(2023, 4, 3),
            )
            for n in range(200)
        ],
        memo="Award",
        acting_user=officer,
    )
    approve_pending()
    for n, line in enumerate(lines):  # noqa: F402
        services.payment_record(
            allocation=line,
            amount=Decimal(500 + n),
            effective_date=datetime.date(2023, 5, 1),
            reference="B",
            acting_user=officer,
        )
    approve_pending()
    return two_year_fund


def test_a_200_line_fund_monitoring_return_agrees_with_decimal_sums_recomputed(
    big_fund, officer, tmp_path, django_assert_max_num_queries
):
    period = period_starting(big_fund, Q4)
    lines = list(Allocation.objects.filter(fund=big_fund).order_by("line_number"))
    for line in lines[::10]:  # noqa: F402
        return_services.provider_return_import(
            allocation=line,
            file_name="r.xlsx",
            content=saved(fill(workbook_for(line, period), big_fund)),
            acting_user=officer,
        )
    with django_assert_max_num_queries(6):
        data = selectors.monitoring_data(big_fund, period, datetime.date(2024, 6, 1))
    assert len(data.lines) == 200
    path = tmp_path / "monitoring.xlsx"
    path.write_bytes(build_monitoring_return(data))
    sheet = openpyxl.load_workbook(path)["Monitoring"]
    total_row = 4 + 200 + 1
    assert sheet.cell(total_row, 2).value == "Total"
    values = evaluate(path)
    paid = sum((Decimal(500 + n) for n in range(200)), Decimal(0))
    assert Decimal(str(values[f"MONITORING!D{total_row}"])) == paid
    assert Decimal(str(values[f"MONITORING!C{total_row}"])) == Decimal("200000.00")
    assert Decimal(str(values[f"MONITORING!E{total_row}"])) == Decimal("600.00") * 20
    checks = [values[f"MONITORING!C{total_row + 3}"], values[f"MONITORING!C{total_row + 4}"]]
    assert checks == [0, 0]
    overdue = selectors.returns_outstanding(datetime.date(2024, 6, 1), big_fund)
    assert len(overdue) == 200 * 4 - 20  # four quarters of 2023-24 overdue, 20 received
    assert selectors.overdue_count(datetime.date(2024, 6, 1)) == len(overdue)


def test_the_preview_makes_every_comparison_for_the_200_lines_in_one_query(
    big_fund, django_assert_num_queries
):
    period = period_starting(big_fund, Q4)
    ids = list(Allocation.objects.filter(fund=big_fund).values_list("pk", flat=True))
    with django_assert_num_queries(1):
        sides = selectors.ledger_side(ids, period)
    for n, pk in enumerate(sorted(ids)):
        paid = Decimal(500 + n)
        assert sides[pk].paid == paid
        assert selectors.compare(period, sides[pk], paid - 10).underspend == Decimal("10")
        assert selectors.compare(period, sides[pk], paid + 5).findings[1] == "Spent £5.00 more than paid."


def test_a_name_that_looks_like_a_formula_stays_text_in_the_monitoring_return(line):  # noqa: F811
    from tests.factories import write_around_the_formula_rule

    write_around_the_formula_rule(Organisation, "name", line.organisation_id, '=HYPERLINK("http://x","y")')
    period = period_starting(line.fund, Q4)
    content = build_monitoring_return(selectors.monitoring_data(line.fund, period, datetime.date(2024, 6, 1)))
    cell = openpyxl.load_workbook(io.BytesIO(content))["Monitoring"]["B5"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","y")', "s")


def test_the_line_returns_page_takes_as_many_queries_with_returns_as_without(client, line, officer):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(officer)
    url = reverse("grants:line_returns", args=[line.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for period in list(line.fund.reporting_periods.all())[:4]:
        return_services.provider_return_import(
            allocation=line,
            file_name="r.xlsx",
            content=saved(fill(workbook_for(line, period), line.fund)),
            acting_user=officer,
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)
