"""Fixed query counts at two sizes of ledger: reconciliation, the fund page and the dashboard.

The ledger is the benchmark's synthetic one (`benchmark.generate`), at 40 and 400 lines; the
timings themselves are the benchmark's business (`make bench`, docs/performance.md).
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmark.generate import BENCH_USERNAME, fund_code, generate, shape_for
from grants import roles
from grants.models import Fund
from grants.reconciliation import reconcile, reconcile_all
from grants.reconciliation.years import reconcile_by_year
from grants.years import financial_year
from tests.factories import user_in_role

SIZES = [40, 400]

# Session and user (2), the user's permissions (2), the fund, the filter's category, the count and
# footer total together (the stored figures of the category's groups), the reconciliation (the
# fund's stored group figures, and its budgets), the money held on no line (the groups are the
# reconciliation's), its submissions, its unregistered recipients, its profile by financial year
# (the years with their revisions counted), the filter form's areas and categories (2), the changes
# to lines awaiting approval, the cash the office holds of the fund (its entries that move cash,
# summed per line and then in total: one query), the page of lines, and the payment forecast (its
# payments by month, and its planned instalments by month: 2); then the session saved again
# (a savepoint, its UPDATE and the release: the idle timeout restarts on every request,
# ledger/settings.py).
SESSION_SAVE = 3
FUND_PAGE_QUERIES = 20 + SESSION_SAVE
# With ?year=: the same, the count and footer total from the year's stored group figures instead of
# the whole fund's, and the reconciliation by year (5, as `reconcile_by_year`) for the headline and
# the year selector.
FUND_YEAR_PAGE_QUERIES = FUND_PAGE_QUERIES + 5
# Session and user (2), permissions (2), the funds with their totals, the categories across them,
# and their budgets (all from the stored figures but the budgets), the overdue provider returns (one
# query over the overdue periods), the planned instalments due soon and overdue (for each, the count
# and total, and the first rows: 4); then the session saved again.
DASHBOARD_QUERIES = 12 + SESSION_SAVE
# With ?year=: session and user (2), permissions (2), and the funds with their control totals and
# ledger totals for the year (from the stored figures by year), the overdue provider returns; then
# the session saved again.
DASHBOARD_YEAR_QUERIES = 6 + SESSION_SAVE


def signed_in_officer(client):
    """The generated ledger's finance officer, signed in."""
    client.force_login(get_user_model().objects.get(username=BENCH_USERNAME))
    return client


@pytest.mark.parametrize("lines", SIZES)
def test_reconciliation_takes_five_queries_whatever_the_fund_size(db, django_assert_num_queries, lines):
    generate(lines)
    fund = Fund.objects.get(code=fund_code(0))
    # The figures by category, area and organisation, the names of each (3), and the budgets.
    with django_assert_num_queries(5):
        result = reconcile(fund)
    assert result.line_count == shape_for(lines).largest_fund_lines
    assert result.by_organisation
    with django_assert_num_queries(4):
        assert reconcile(fund, by_organisation=False).by_organisation == []


@pytest.mark.parametrize("lines", SIZES)
def test_a_fund_reconciles_by_year_in_five_queries_whatever_its_size(db, django_assert_num_queries, lines):
    generate(lines)
    fund = Fund.objects.get(code=fund_code(0))
    # The stored figures by year, category and area (with the money held on no line summed from
    # its few entries), the fund's profile, the names of categories and areas (2), and the
    # underspend due and returned by line and year (for what is outstanding at each year's end).
    with django_assert_num_queries(5):
        years = reconcile_by_year(fund)
    assert sum(year.line_count for year in years) == shape_for(lines).largest_fund_lines


@pytest.mark.parametrize("lines", SIZES)
def test_every_fund_reconciles_in_five_queries_whatever_their_number(db, django_assert_num_queries, lines):
    generate(lines)
    # The funds, their figures, the names of their categories and areas (2), and the budgets.
    with django_assert_num_queries(5):
        results = reconcile_all()
    assert len(results) == shape_for(lines).funds
    assert sum(result.line_count for result in results) == lines


def audit_user_queries() -> int:
    """On PostgreSQL the audit trail's middleware names the signed-in user for the request's changes
    with set_config, and clears it at the end (audit/context.py): two queries. SQLite needs none."""
    return 2 if connection.vendor == "postgresql" else 0


@pytest.mark.parametrize("lines", SIZES)
def test_fund_page_takes_a_fixed_number_of_queries(db, client, django_assert_num_queries, lines):
    generate(lines)
    signed_in = signed_in_officer(client)
    url = reverse("grants:fund_detail", args=[fund_code(0)])
    with django_assert_num_queries(FUND_PAGE_QUERIES + audit_user_queries()):
        response = signed_in.get(url, {"funding_category": "category-1", "sort": "-awarded"})
    assert response.status_code == 200
    assert "No allocations match." not in response.content.decode()


# An approver's pages add one query: how many entries and changes by others await their decision,
# beside "Approvals" in the navigation (grants.context_processors.approvals).
APPROVER_NAVIGATION_QUERIES = 1


@pytest.mark.parametrize("lines", SIZES)
def test_an_approvers_fund_page_adds_one_query_for_what_awaits_them(
    db, client, django_assert_num_queries, lines
):
    generate(lines)
    client.force_login(user_in_role(roles.APPROVER, "bench-approver"))
    url = reverse("grants:fund_detail", args=[fund_code(0)])
    queries = FUND_PAGE_QUERIES + APPROVER_NAVIGATION_QUERIES + audit_user_queries()
    with django_assert_num_queries(queries):
        response = client.get(url, {"funding_category": "category-1", "sort": "-awarded"})
    assert response.status_code == 200
    assert (
        'id="awaiting-approval"' in response.content.decode() or "Approvals</a>" in response.content.decode()
    )


# Session and user (2), permissions (2), the fund, the reconciliation by year (the fund's stored
# figures by year, category and area with its money held on no line; its profile's figures; the
# names of those categories and areas; the underspend due and returned by line and year: 5; the
# total is added up from the years), the entries on the fund itself (money received from and
# returned to the funder), its return in force (if any, the page offers nothing to record: issue
# 18); then the session saved again.
YEARS_PAGE_QUERIES = 12 + SESSION_SAVE


@pytest.mark.parametrize("lines", SIZES)
def test_the_years_page_takes_a_fixed_number_of_queries_with_or_without_a_year(
    db, client, django_assert_num_queries, lines
):
    generate(lines)
    signed_in = signed_in_officer(client)
    url = reverse("grants:fund_years", args=[fund_code(0)])
    fund = Fund.objects.get(code=fund_code(0))
    year = financial_year(fund.spend_start).label
    with django_assert_num_queries(YEARS_PAGE_QUERIES + audit_user_queries()):
        response = signed_in.get(url, {"year": year})
    assert response.status_code == 200
    assert f"Showing {year} (" in response.content.decode()
    with django_assert_num_queries(YEARS_PAGE_QUERIES + audit_user_queries()):
        assert signed_in.get(url).status_code == 200


@pytest.mark.parametrize("lines", SIZES)
def test_the_fund_page_for_one_year_takes_a_fixed_number_of_queries(
    db, client, django_assert_num_queries, lines
):
    generate(lines)
    signed_in = signed_in_officer(client)
    fund = Fund.objects.get(code=fund_code(0))
    year = financial_year(fund.spend_start).label
    url = reverse("grants:fund_detail", args=[fund.code])
    with django_assert_num_queries(FUND_YEAR_PAGE_QUERIES + audit_user_queries()):
        response = signed_in.get(url, {"year": year, "funding_category": "category-1", "sort": "-awarded"})
    assert response.status_code == 200
    assert f"Reconciliation for {year}" in response.content.decode()
    # Without the filter: no category to look up.
    with django_assert_num_queries(FUND_YEAR_PAGE_QUERIES - 1 + audit_user_queries()):
        response = signed_in.get(url, {"year": year})
    assert "No allocations match." not in response.content.decode()


@pytest.mark.parametrize("lines", SIZES)
def test_the_dashboard_for_one_year_takes_a_fixed_number_of_queries(
    db, client, django_assert_num_queries, lines
):
    generate(lines)
    signed_in = signed_in_officer(client)
    year = financial_year(Fund.objects.get(code=fund_code(0)).spend_start).label
    with django_assert_num_queries(DASHBOARD_YEAR_QUERIES + audit_user_queries()):
        response = signed_in.get(reverse("grants:dashboard"), {"year": year})
    assert response.status_code == 200
    assert f"Funds and their reconciliation for {year}" in response.content.decode()
    assert fund_code(shape_for(lines).funds - 1) in response.content.decode()


@pytest.mark.parametrize("lines", SIZES)
def test_dashboard_takes_a_fixed_number_of_queries(db, client, django_assert_num_queries, lines):
    generate(lines)
    signed_in = signed_in_officer(client)
    with django_assert_num_queries(DASHBOARD_QUERIES + audit_user_queries()):
        response = signed_in.get(reverse("grants:dashboard"))
    assert response.status_code == 200
    assert fund_code(shape_for(lines).funds - 1) in response.content.decode()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's planner scans small tables"
)
def test_the_fund_pages_lines_sorted_by_amount_come_in_order_from_an_index(db, client):
    """The page of a fund's lines in a category by amount, as the fund page asks for it, is read
    from the stored figures' index in that order: no sort of every line, so its cost does not grow
    with the fund's size."""
    generate(400)
    signed_in = signed_in_officer(client)
    url = reverse("grants:fund_detail", args=[fund_code(0)])
    with CaptureQueriesContext(connection) as queries:
        signed_in.get(url, {"funding_category": "category-1", "sort": "-awarded"})
    [page] = [
        query["sql"]
        for query in queries.captured_queries
        if "grants_linefigures" in query["sql"] and "LIMIT" in query["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {page}")
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert "USING INDEX line_figures_category_awarded" in plan
    assert "TEMP B-TREE" not in plan
