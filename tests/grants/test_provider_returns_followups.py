"""Follow-ups to provider returns found on a hostile reading: an approver sees what they accept, only
lines with an award are expected to report, the monitoring return checks its figures, and a measure
can be retired."""

import dataclasses
import datetime
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from grants import services
from grants.exports.monitoring_return import build_monitoring_return
from grants.models import LedgerEntry, Measure, ProviderReturn
from grants.selectors import returns as selectors
from grants.services import returns as return_services
from tests.factories import AllocationFactory, approve_pending
from tests.grants.test_moj_return import evaluate
from tests.grants.test_provider_returns import (
    fill,
    import_filled,
    line,  # noqa: F401 (a fixture)
    period_starting,
    saved,
    two_year_fund,  # noqa: F401 (a fixture)
    workbook_for,
)
from tests.grants.test_query_counts import SESSION_SAVE, audit_user_queries

Q1 = datetime.date(2023, 4, 1)

# Session and user (2), permissions (2), the return with its line, fund, organisation, period and
# people, its figures with their measures, the ledger's side of the line for the period, and (for an
# approver, in the page's header) the count of what awaits their approval; then the session saved
# again.
RETURN_PAGE_QUERIES = 8 + SESSION_SAVE


def test_an_approver_sees_the_returns_figures_and_findings_before_accepting_it_as_shown(
    client,
    line,  # noqa: F811
    officer,
    approver,
):
    received = import_filled(line, period_starting(line.fund, Q1), officer, to_date="900")
    client.force_login(approver)
    listed = client.get(reverse("grants:line_returns", args=[line.pk])).content.decode()
    page_url = reverse("grants:return_detail", args=[received.pk])
    assert f'href="{page_url}"' in listed
    assert 'name="version"' not in listed  # no accepting from the list, blind
    page = client.get(page_url).content.decode()
    for measure in Measure.objects.filter(fund=line.fund):
        assert measure.name in page
    assert "£300.00" in page and "£500.00" in page  # staff's spend and the stated period total
    assert "<dd>30</dd>" in page  # an output, as a count
    assert "Recruitment was slower than planned." in page
    assert "Spent £100.00 more than paid." in page
    assert f'name="version" value="{received.version}"' in page
    accept = reverse("grants:return_accept", args=[received.pk])
    assert re.search(rf'<form method="post" action="{accept}"', page)
    done = client.post(accept, {"version": str(received.version)})
    assert done.status_code == 302
    assert ProviderReturn.objects.get().accepted_by == approver


def test_a_return_changed_after_it_was_shown_is_not_accepted(client, line, officer, approver):  # noqa: F811
    received = import_filled(line, period_starting(line.fund, Q1), officer)
    client.force_login(approver)
    shown_version = received.version
    import_filled(line, received.period, officer, to_date="750")  # a corrected file replaces it
    done = client.post(reverse("grants:return_accept", args=[received.pk]), {"version": str(shown_version)})
    assert done["Location"] == reverse("grants:return_detail", args=[received.pk])
    assert not ProviderReturn.objects.get().is_accepted


def test_the_return_page_takes_a_fixed_number_of_queries_whatever_the_measures(
    client,
    line,  # noqa: F811
    officer,
    approver,
    django_assert_num_queries,
):
    received = import_filled(line, period_starting(line.fund, Q1), officer)
    client.force_login(approver)
    url = reverse("grants:return_detail", args=[received.pk])
    with django_assert_num_queries(RETURN_PAGE_QUERIES + audit_user_queries()):
        assert client.get(url).status_code == 200
    for n in range(3):
        return_services.measure_create(fund=line.fund, kind="output", name=f"Extra {n}", acting_user=officer)
    second = period_starting(line.fund, datetime.date(2023, 7, 1))
    more = import_filled(line, second, officer, outputs=(1, 2, 3, 4, 5, 6))
    assert more.values.count() == 11
    with django_assert_num_queries(RETURN_PAGE_QUERIES + audit_user_queries()):
        assert client.get(reverse("grants:return_detail", args=[more.pk])).status_code == 200


def test_a_viewer_reads_a_return_but_is_offered_no_accept_and_the_page_needs_a_login(
    client,
    line,  # noqa: F811
    officer,
    viewer,
):
    received = import_filled(line, period_starting(line.fund, Q1), officer)
    url = reverse("grants:return_detail", args=[received.pk])
    assert "login" in client.get(url)["Location"]
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200 and "Accept this return" not in page.content.decode()
    assert client.get(reverse("grants:return_detail", args=[received.pk + 99])).status_code == 404


def test_only_lines_with_an_approved_award_in_the_periods_year_are_expected_to_report(
    line,  # noqa: F811
    officer,
    capsys,
):
    """`line` is awarded in 2023-24 only; `later` in 2024-25 only; `unapproved` has an award still
    awaiting approval. Each is expected to report only for the periods of a year it has an approved
    amount in."""
    later = AllocationFactory(
        fund=line.fund, amount=Decimal("500.00"), effective_date=datetime.date(2024, 4, 10)
    )
    unapproved = AllocationFactory(
        fund=line.fund, amount=Decimal("300.00"), effective_date=datetime.date(2023, 4, 10), approved=False
    )
    in_first_year = datetime.date(2023, 8, 15)  # 2023-24's first quarter overdue
    assert selectors.overdue_count(in_first_year) == 1
    assert [(row.allocation, row.state) for row in selectors.returns_outstanding(in_first_year)] == [
        (line, "overdue")
    ]
    in_second_year = datetime.date(2024, 8, 15)  # 2023-24's four quarters and 2024-25's first overdue
    outstanding = selectors.returns_outstanding(in_second_year)
    assert [(row.allocation, row.period.start.year) for row in outstanding] == [
        (line, 2023),
        (line, 2023),
        (line, 2023),
        (line, 2024),  # 2023-24's last quarter, January to March 2024
        (later, 2024),
    ]
    assert selectors.overdue_count(in_second_year) == 5
    assert [row.state for row in selectors.line_returns(later, in_second_year)][:5] == [
        "nothing to report",
        "nothing to report",
        "nothing to report",
        "nothing to report",
        "overdue",
    ]
    assert selectors.line_returns(unapproved, in_first_year)[0].state == "nothing to report"
    call_command("provider_returns_due", "--today", "2024-08-15")
    said = capsys.readouterr().out
    assert "5 returns outstanding, 5 overdue." in said
    assert unapproved.organisation.name not in said
    import_filled(line, period_starting(line.fund, Q1), officer)
    assert selectors.overdue_count(in_second_year) == 4


def test_a_line_varied_to_nothing_in_a_year_is_not_expected_to_report_for_it(line):  # noqa: F811
    """An award varied down to £0.00 leaves the line nothing to report on in that year."""
    withdrawn = AllocationFactory(
        fund=line.fund, amount=Decimal("400.00"), effective_date=datetime.date(2023, 4, 10)
    )
    assert selectors.overdue_count(datetime.date(2023, 8, 15)) == 2
    services.allocation_set_amount(
        allocation=withdrawn,
        amount="0.00",
        memo="Withdrawn",
        effective_date=datetime.date(2023, 5, 1),
        acting_user=None,
    )
    approve_pending(allocation=withdrawn, kind=LedgerEntry.Kind.VARIATION)
    assert selectors.overdue_count(datetime.date(2023, 8, 15)) == 1
    assert [row.allocation for row in selectors.returns_outstanding(datetime.date(2023, 8, 15))] == [line]


def monitoring_checks(tmp_path, data) -> dict[str, Decimal]:
    """The monitoring return's checks, recomputed by the `formulas` package, by their labels."""
    path = tmp_path / "monitoring.xlsx"
    path.write_bytes(build_monitoring_return(data))
    sheet = openpyxl.load_workbook(path)["Monitoring"]
    values = evaluate(path)
    start = next(c.row for c in sheet["A"] if c.value and str(c.value).startswith("Checks"))
    return {
        sheet.cell(row, 2).value: Decimal(str(values[f"MONITORING!C{row}"])).quantize(Decimal("0.01"))
        for row in range(start + 1, start + 4)
    }


def test_the_monitoring_returns_checks_catch_a_wrong_figure(line, officer, tmp_path):  # noqa: F811
    """Each check recomputes to 0 on the ledger's figures, and away from 0 when a provider's cost types
    differ from the total it stated, when a line's paid is wrong, or when a line is missing."""
    second = AllocationFactory(
        fund=line.fund, amount=Decimal("700.00"), effective_date=datetime.date(2023, 4, 3)
    )
    services.payment_record(
        allocation=second,
        amount=Decimal("250.00"),
        effective_date=datetime.date(2023, 5, 2),
        reference="BACS-2",
        acting_user=officer,
    )
    approve_pending(allocation=second, kind=LedgerEntry.Kind.PAYMENT)
    period = period_starting(line.fund, Q1)
    import_filled(line, period, officer)  # cost types 300 + 50 + 100 + 25 + 25 = total 500
    data = selectors.monitoring_data(line.fund, period, datetime.date(2023, 8, 15))
    assert (data.ledger_paid, data.ledger_award) == (Decimal("1050.00"), Decimal("1700.00"))
    labels = [
        "Providers' cost types less their stated spend in the period",
        "Paid total less the ledger's paid to period end for the fund",
        "Award total less the ledger's award for the year for the fund",
    ]
    assert monitoring_checks(tmp_path, data) == dict.fromkeys(labels, Decimal("0.00"))

    first = data.lines[0]
    staff = next(m.pk for m in data.measures if m.kind == "spend")
    wrong_cost = dataclasses.replace(first, values={**first.values, staff: Decimal("310.00")})
    checks = monitoring_checks(tmp_path, dataclasses.replace(data, lines=[wrong_cost, *data.lines[1:]]))
    assert checks[labels[0]] == Decimal("10.00")

    over_stated = dataclasses.replace(first, spend_to_date=Decimal("450.00"))  # below the period's 500
    checks = monitoring_checks(tmp_path, dataclasses.replace(data, lines=[over_stated, *data.lines[1:]]))
    assert checks[labels[0]] == Decimal("50.00")

    wrong_paid = dataclasses.replace(first, paid=Decimal("900.00"))
    checks = monitoring_checks(tmp_path, dataclasses.replace(data, lines=[wrong_paid, *data.lines[1:]]))
    assert checks[labels[1]] == Decimal("100.00")

    checks = monitoring_checks(tmp_path, dataclasses.replace(data, lines=data.lines[1:]))
    assert (checks[labels[1]], checks[labels[2]]) == (Decimal("-800.00"), Decimal("-1000.00"))


def retire(client, measure):
    return client.post(
        reverse("grants:fund_returns", args=[measure.fund.code]),
        {"action": "retire", "measure": measure.pk, "version": measure.version},
    )


def test_a_retired_measure_is_kept_in_returns_made_left_out_of_new_workbooks_and_not_required(
    client,
    line,  # noqa: F811
    officer,
    viewer,
    tmp_path,
):
    mistake = return_services.measure_create(
        fund=line.fund, kind="output", name="Added by mistake", acting_user=officer
    )
    made_before = import_filled(line, period_starting(line.fund, Q1), officer, outputs=(12, 30, 40, 7))
    assert made_before.values.filter(measure=mistake).get().value == Decimal("7.00")
    old_workbook = workbook_for(line, period_starting(line.fund, datetime.date(2023, 7, 1)))
    client.force_login(viewer)
    assert retire(client, mistake).status_code == 403
    client.force_login(officer)
    assert retire(client, mistake).status_code == 302
    mistake.refresh_from_db()
    assert mistake.is_retired
    assert AuditEvent.objects.filter(
        table_name="grants_measure", row_id=mistake.pk, action="update", after__retired_at__isnull=False
    ).exists()
    page = client.get(reverse("grants:fund_returns", args=[line.fund.code])).content.decode()
    assert "Added by mistake (Output (a count)): retired" in page

    # The return made before keeps it, and the monitoring return of its period shows it.
    assert made_before.values.filter(measure=mistake).exists()
    data = selectors.monitoring_data(line.fund, made_before.period, datetime.date(2023, 8, 15))
    assert mistake in data.measures
    # A new workbook leaves it out, and imports without it; a workbook made before still imports.
    q3 = period_starting(line.fund, datetime.date(2023, 10, 1))
    new_workbook = workbook_for(line, q3)
    keys = {row[2].value for row in new_workbook["Return"].iter_rows()}
    assert f"measure:{mistake.pk}" not in keys
    received = import_filled(line, q3, officer)  # three outputs only
    assert not received.values.filter(measure=mistake).exists()
    assert mistake not in selectors.monitoring_data(line.fund, q3, datetime.date(2024, 2, 15)).measures
    old = return_services.provider_return_import(
        allocation=line,
        file_name="q2.xlsx",
        content=saved(fill(old_workbook, line.fund, outputs=(1, 2, 3, 4))),
        acting_user=officer,
    ).provider_return
    assert old.values.filter(measure=mistake).get().value == Decimal("4.00")


def test_retiring_twice_or_from_a_stale_page_is_refused(line, officer, viewer):  # noqa: F811
    measure = Measure.objects.filter(fund=line.fund).first()
    with pytest.raises(ValidationError, match="Only a finance officer"):
        return_services.measure_retire(measure=measure, expected_version=measure.version, acting_user=viewer)
    with pytest.raises(ValidationError, match="Someone else saved a change"):
        return_services.measure_retire(
            measure=measure, expected_version=measure.version + 5, acting_user=officer
        )
    return_services.measure_retire(measure=measure, expected_version=measure.version, acting_user=officer)
    with pytest.raises(ValidationError, match="already retired"):
        return_services.measure_retire(
            measure=measure, expected_version=measure.version + 1, acting_user=officer
        )
