"""The plain fund pages: login required, the reconciliation stated to the penny."""

from decimal import Decimal

import pytest
from django.test.html import parse_html
from django.urls import reverse

from tests.factories import AllocationFactory, FundFactory
from tests.grants.test_tables import body_rows, elements, link, text


@pytest.mark.parametrize(
    "url",
    [reverse("grants:fund_list"), reverse("grants:fund_detail", args=["moj-ecf-2020"])],
)
def test_fund_pages_send_an_anonymous_user_to_log_in(client, seed_fund, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_the_home_page_is_the_dashboard_behind_a_login(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next=/")
    assert reverse("grants:dashboard") == "/"


def test_fund_page_states_the_seed_variance_in_words_and_figures(client, officer, seed_fund):
    client.force_login(officer)
    response = client.get(reverse("grants:fund_detail", args=["moj-ecf-2020"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The allocations come to £0.29 more than the control total." in page
    assert "over-allocated" in page
    for shown in ["£738,810.53", "£738,810.82", "£0.29", "£246,111.19", "£425,350.63", "£67,349.00"]:
        assert shown in page
    assert "Black Country Women&#x27;s Aid (BCWA)" in page
    # Line 1's row: its amount, nothing awaiting approval, nothing paid, all of it still to pay.
    line_url = f"/allocations/{seed_fund.allocations.get(line_number=1).pk}/"
    rows = body_rows(parse_html(page))
    (row,) = [row for row in rows if link(elements(row, "td")[0]) == (line_url, "1")]
    money_cells = [
        text(cell) for cell in elements(row, "td", **{"class": "num"}) if text(cell).startswith("£")
    ]
    assert money_cells == ["£80,528.42", "£0.00", "£0.00", "£80,528.42"]


def test_fund_page_takes_the_same_queries_for_few_and_many_lines(
    client, officer, django_assert_max_num_queries
):
    fund = FundFactory()
    for _ in range(3):
        AllocationFactory(fund=fund, amount=Decimal("10.00"))
    client.force_login(officer)
    url = reverse("grants:fund_detail", args=[fund.code])
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    for _ in range(20):
        AllocationFactory(fund=fund, amount=Decimal("10.00"))
    with django_assert_max_num_queries(25) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "£230.00" in response.content.decode()


def test_unknown_fund_is_not_found(client, officer, db):
    client.force_login(officer)
    assert client.get(reverse("grants:fund_detail", args=["nope"])).status_code == 404


def test_fund_list_shows_each_fund_with_its_status(client, officer, seed_fund):
    reconciled = FundFactory(name="Balanced fund")
    AllocationFactory(fund=reconciled, amount=Decimal("1000.00"))
    client.force_login(officer)
    page = client.get(reverse("grants:fund_list")).content.decode()
    assert "Balanced fund" in page
    assert "badge-reconciled" in page
    assert "badge-over-allocated" in page
    assert "£738,810.82" in page


def test_login_page_keeps_csrf_protection(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_an_organisation_filter_that_is_no_id_is_not_a_500(client, viewer, value):
    """A "²" passed str.isdigit() and int() refused it; a number past 2**63 - 1 overflowed SQLite."""
    line = AllocationFactory(fund=FundFactory(code="org-filter"))
    client.force_login(viewer)

    response = client.get(reverse("grants:allocation_list"), {"organisation": value})

    assert response.status_code == 200
    assert line.organisation.name not in response.content.decode()
