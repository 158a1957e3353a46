"""Follow-ups to provider returns found on a hostile reading: an approver sees what they accept, only
lines with an award are expected to report, the monitoring return checks its figures, and a measure
can be retired."""

import datetime
import re

from django.urls import reverse

from grants.models import Measure, ProviderReturn
from grants.services import returns as return_services
from tests.grants.test_provider_returns import (
    import_filled,
    line,  # noqa: F401 (a fixture)
    period_starting,
    two_year_fund,  # noqa: F401 (a fixture)
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
