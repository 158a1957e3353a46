"""The allocation tables' CSV downloads: every column the table shows, and a file name that says what
was filtered (and which year's amounts, with `?year=`)."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from grants import money
from grants.exports.downloads import allocations_csv_header
from grants.models import Allocation
from grants.tables import AllocationTable
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory
from tests.grants.test_reconciliation_by_year import three_year_fund  # noqa: F401 (a fixture)

FUND = reverse("grants:fund_detail", args=["moj-ecf-2020"])
ALL = reverse("grants:allocation_list")


def gbp(text: str) -> str:
    return money.format_gbp(Money(Decimal(text), "GBP"))


def download(client, url, query) -> tuple[str, list[list[str]]]:
    response = client.get(url, {**query, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    prefix = 'attachment; filename="'
    assert disposition.startswith(prefix) and disposition.endswith('"')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return disposition[len(prefix) : -1], list(csv.reader(io.StringIO(body)))


def test_the_csv_has_every_column_the_table_shows_but_its_links(db):
    table = AllocationTable(Allocation.objects.none(), footer_total=money.zero(), can_change=True)
    shown = [str(column.header) for column in table.columns if column.name != "change"]
    assert len(shown) == 10
    assert [heading.removesuffix(" (GBP)") for heading in allocations_csv_header()] == shown


def test_the_csv_says_its_amounts_are_one_years():
    assert allocations_csv_header("2024-25")[6:] == [
        "Amount in 2024-25 (GBP)",
        "Awaiting approval in 2024-25 (GBP)",
        "Paid (approved) in 2024-25 (GBP)",
        "Still to pay in 2024-25 (GBP)",
    ]


def test_the_fund_csv_carries_awaiting_approval_paid_and_still_to_pay(officer, client, seed_fund):
    client.force_login(officer)
    name, rows = download(client, FUND, {})
    assert name == "allocations_moj-ecf-2020.csv"
    assert rows[0][6:] == [
        "Amount (GBP)",
        "Awaiting approval (GBP)",
        "Paid (approved) (GBP)",
        "Still to pay (GBP)",
    ]
    assert len(rows) == 17
    # Line 1 of the seed: awarded, nothing awaiting approval, nothing paid yet.
    assert rows[1] == [
        "moj-ecf-2020",
        "1",
        *rows[1][2:6],
        "80528.42",
        "0.00",
        "0.00",
        "80528.42",
    ]


def test_the_csv_amounts_are_those_the_table_shows_for_a_paid_line_awaiting_a_change(
    client,
    officer,
    three_year_fund,  # noqa: F811
):
    client.force_login(officer)
    url = reverse("grants:fund_detail", args=["synthetic-3y"])
    table = client.get(url).context["table"]
    on_screen = {
        row.number: [row.awarded, row.awarded_pending, row.paid, row.still_to_pay]
        for row in table.page_rows()
    }
    _, rows = download(client, url, {})
    in_file = {int(row[1]): [gbp(value) for value in row[6:]] for row in rows[1:]}
    assert in_file == on_screen
    assert any(amounts[1] != "£0.00" for amounts in in_file.values())  # a pending uplift
    assert any(amounts[2] != "£0.00" for amounts in in_file.values())  # a payment


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({}, "allocations_moj-ecf-2020.csv"),
        (
            {"funding_category": "da-pcc-non-commissioned"},
            "allocations_moj-ecf-2020_category-da-pcc-non-commissioned.csv",
        ),
        (
            {"amount_min": "5000", "amount_max": "20000.5"},
            "allocations_moj-ecf-2020_from-5000_to-20000.5.csv",
        ),
        ({"q": "  Women's  aid "}, "allocations_moj-ecf-2020_search-womens-aid.csv"),
        ({"amount_min": "lots"}, "allocations_moj-ecf-2020_filter-not-valid.csv"),
    ],
)
def test_a_filtered_fund_csv_is_named_for_its_filter(officer, client, seed_fund, query, name):
    client.force_login(officer)
    assert download(client, FUND, query)[0] == name


def test_the_all_allocations_csv_is_named_for_its_filter(officer, client, db):
    client.force_login(officer)
    other = FundFactory(code="other-fund")
    AllocationFactory(fund=other, organisation=OrganisationFactory(name="Roshni Ltd"), amount="5.00")
    AllocationFactory(fund=FundFactory(code="third-fund"), amount="7.00")
    name, rows = download(client, ALL, {})
    assert (name, len(rows)) == ("allocations.csv", 3)
    name, rows = download(client, ALL, {"fund": "other-fund", "organisation": "Roshni"})
    assert name == "allocations_fund-other-fund_organisation-roshni.csv"
    assert [row[0] for row in rows[1:]] == ["other-fund"]


def test_the_csv_for_a_year_names_the_year_and_filter_and_heads_its_amounts_so(
    client,
    officer,
    three_year_fund,  # noqa: F811
):
    client.force_login(officer)
    url = reverse("grants:fund_detail", args=["synthetic-3y"])
    name, rows = download(client, url, {"year": "2025-26"})
    assert name == "allocations_synthetic-3y_2025-26.csv"
    assert rows[0][6] == "Amount in 2025-26 (GBP)"
    assert rows[1][6:] == ["30000.01", "100.01", "7500.25", "22499.75"]  # a cent paid awaits approval
    name, rows = download(client, url, {"year": "2025-26", "amount_min": "40000"})
    assert name == "allocations_synthetic-3y_2025-26_from-40000.csv"
    assert rows[1:] == []
