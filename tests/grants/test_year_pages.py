"""The fund page and the dashboard for one financial year (`?year=2023-24`), read from the stored
figures by year; without `year` both are as they were."""

from decimal import Decimal

import pytest
from django.test.html import parse_html
from django.urls import reverse

from grants.figures import LineYearFigures
from grants.models import Allocation
from tests.factories import FundFactory
from tests.grants.test_reconciliation_by_year import three_year_fund  # noqa: F401 (a fixture)
from tests.grants.test_tables import attr, elements, text, the


def fund_url(code):
    return reverse("grants:fund_detail", args=[code])


def section(response, heading_id):
    page = parse_html(response.content.decode())
    (found,) = [node for node in elements(page, "section") if attr(node, "aria-labelledby") == heading_id]
    return found


def table_rows(node) -> list[list[str]]:
    return [
        [text(cell) for cell in elements(row, "th") + elements(row, "td")] for row in elements(node, "tr")
    ]


def test_the_fund_page_for_a_year_shows_that_years_reconciliation_and_lines(client, officer, three_year_fund):  # noqa: F811
    client.force_login(officer)
    response = client.get(fund_url("synthetic-3y"), {"year": "2024-25"})
    assert response.status_code == 200
    panel = section(response, "reconciliation-heading")
    assert text(the(panel, "h2")) == "Reconciliation for 2024-25: under-allocated"
    shown = the(panel, "p", id="year-shown")
    assert text(shown) == "Showing 2024-25 (1 April 2024 to 31 March 2025) · Show the whole fund"
    assert attr(the(shown, "a"), "href") == fund_url("synthetic-3y")
    assert table_rows(panel)[:3] == [
        ["Control total for 2024-25", "£120,000.00"],
        ["Allocated in 2024-25 (2 lines)", "£79,999.99"],
        ["Variance (allocated minus control)", "-£40,000.01"],
    ]

    allocations = section(response, "allocations-heading")
    assert text(the(allocations, "h2")) == "Allocations in 2024-25"
    table = the(allocations, "table")
    body_rows = table_rows(the(table, "tbody"))
    # The lines with entries dated in 2024-25, each with its amounts in the year: the first line's
    # variation of £42,000.00 and payment of £20,000.50, the second's variation, and the new line's
    # award awaiting approval (the third has nothing dated in 2024-25).
    first, second, third, new = Allocation.objects.filter(fund=three_year_fund).order_by("pk")
    stored = {
        row.allocation_id: row for row in LineYearFigures.objects.filter(fund=three_year_fund, year=2024)
    }
    assert set(stored) == {first.pk, second.pk, new.pk}
    assert (stored[first.pk].awarded, stored[first.pk].paid) == (Decimal("42000.00"), Decimal("20000.50"))
    shown = {row[0]: row for row in body_rows}
    assert set(shown) == {str(line.line_number) for line in (first, second, new)}
    assert "£42,000.00" in shown[str(first.line_number)] and "£20,000.50" in shown[str(first.line_number)]
    assert "£37,999.99" in shown[str(second.line_number)]
    assert "£1,234.56" in shown[str(new.line_number)]
    assert "£79,999.99" in text(the(table, "tfoot"))

    form = the(parse_html(response.content.decode()), "form", id="year-form")
    assert attr(form, "method") == "get"
    options = elements(form, "option")
    assert [attr(option, "value") for option in options] == ["", "2023-24", "2024-25", "2025-26"]
    assert [attr(option, "value") for option in options if "selected" in dict(option.attributes)] == [
        "2024-25"
    ]


def test_the_fund_page_without_a_year_is_the_whole_funds(client, officer, three_year_fund):  # noqa: F811
    client.force_login(officer)
    response = client.get(fund_url("synthetic-3y"))
    panel = section(response, "reconciliation-heading")
    assert text(the(panel, "h2")).startswith("Reconciliation: ")
    assert "year-shown" not in response.content.decode()
    allocations = section(response, "allocations-heading")
    assert text(the(allocations, "h2")) == "Allocations"
    assert (
        len(elements(the(the(allocations, "table"), "tbody"), "tr"))
        == Allocation.objects.filter(fund=three_year_fund).count()
    )
    # The selector lists the years of the spend period and profile, none chosen.
    options = elements(the(parse_html(response.content.decode()), "form", id="year-form"), "option")
    assert [attr(option, "value") for option in options] == ["", "2023-24", "2024-25", "2025-26"]


def test_a_fund_without_a_profile_has_no_control_total_for_a_year(client, officer, seed_fund):
    client.force_login(officer)
    response = client.get(fund_url(seed_fund.code), {"year": "2020-21"})
    panel = section(response, "reconciliation-heading")
    assert text(the(panel, "h2")) == "Reconciliation for 2020-21: no control total for this year"
    assert table_rows(panel)[0] == ["Control total for 2020-21", "—"]


@pytest.mark.parametrize(
    "year, problem",
    [
        (
            "2024-26",
            "'2024-26' is not a financial year: the second year must follow the first, as in 2023-24.",
        ),
        ("2031-32", "2031-32 is not a year of synthetic-3y"),
    ],
)
def test_a_bad_year_on_the_fund_page_is_said_and_the_whole_fund_shown(
    client,
    officer,
    three_year_fund,  # noqa: F811
    year,
    problem,
):
    client.force_login(officer)
    response = client.get(fund_url("synthetic-3y"), {"year": year})
    assert response.status_code == 200
    page = parse_html(response.content.decode())
    assert text(the(page, "p", id="year-problem")).startswith(problem)
    assert text(the(section(response, "reconciliation-heading"), "h2")).startswith("Reconciliation: ")


def test_the_dashboard_for_a_year_reconciles_each_fund_for_that_year(
    client,
    officer,
    three_year_fund,  # noqa: F811
):
    unprofiled = FundFactory(spend_start=three_year_fund.spend_start, spend_end=three_year_fund.spend_end)
    client.force_login(officer)
    response = client.get(reverse("grants:dashboard"), {"year": "2024/25"})
    assert response.status_code == 200
    funds = section(response, "funds-heading")
    assert text(the(funds, "h2")) == "Funds and their reconciliation for 2024-25"
    rows = {row[0].split()[-1]: row[3:] for row in table_rows(the(funds, "tbody"))}
    assert rows["synthetic-3y"] == ["£120,000.00", "£79,999.99", "-£40,000.01", "under-allocated"]
    assert rows[unprofiled.code] == ["—", "£0.00", "—", "no control total for this year"]
    link = the(the(funds, "tbody"), "a", href=f"{fund_url('synthetic-3y')}?year=2024-25")
    assert text(link) == three_year_fund.name


def test_a_bad_year_on_the_dashboard_is_said_and_every_fund_shown_whole(client, officer, seed_fund):
    client.force_login(officer)
    response = client.get(reverse("grants:dashboard"), {"year": "1999-00"})
    page = parse_html(response.content.decode())
    assert text(the(page, "p", id="year-problem")).startswith("1999 is not a year the ledger holds")
    assert text(the(section(response, "funds-heading"), "h2")) == "Funds and their reconciliation"


def test_the_pages_for_a_year_need_a_login(client, three_year_fund):  # noqa: F811
    for url in (fund_url("synthetic-3y"), reverse("grants:dashboard")):
        response = client.get(url, {"year": "2024-25"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_fund_pages_csv_for_a_year_has_the_years_lines_and_amounts(client, officer, three_year_fund):  # noqa: F811
    client.force_login(officer)
    response = client.get(fund_url("synthetic-3y"), {"year": "2025-26", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="allocations_synthetic-3y_2025-26.csv"'
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    # 2025-26: the third line's award of £30,000.01 (its uplift awaits approval, not counted).
    third = Allocation.objects.filter(fund=three_year_fund).order_by("pk")[2]
    assert len(rows) == 2
    assert rows[1].startswith(f"synthetic-3y,{third.line_number},")
    # Amount, awaiting approval, paid and still to pay in 2025-26, as the table shows them.
    assert rows[1].endswith(",30000.01,100.01,7500.25,22499.75")  # paid approved: a cent awaits approval


def test_the_dashboard_for_a_year_counts_the_funds_approved_carry_forwards_as_the_fund_page_does(
    client,
    officer,
    approver,
    three_year_fund,  # noqa: F811
):
    """£10,000.00 of 2023-24's control total carried into 2024-25 (approved) and £2,500.00 of 2024-25's
    carried on to 2025-26 (awaiting approval, so not yet moved): 2024-25's control total is
    £120,000.00 + £10,000.00 on the dashboard, as on the fund page and in the reconciliation."""
    from grants import services
    from grants.reconciliation.years import reconcile_by_year
    from grants.years import FinancialYear

    def carry(year, amount):
        return services.carry_forward_fund(
            fund=three_year_fund,
            from_year=FinancialYear(year),
            amount=amount,
            reference="MoJ letter",
            memo="Slipped",
            acting_user=officer,
        )

    services.decisions_take(
        entries=[carry(2023, "10000.00")], decision=services.Decision.APPROVE, acting_user=approver
    )
    carry(2024, "2500.00")
    client.force_login(officer)
    rows = {
        row[0].split()[-1]: row[3:]
        for row in table_rows(
            the(
                section(client.get(reverse("grants:dashboard"), {"year": "2024-25"}), "funds-heading"),
                "tbody",
            )
        )
    }
    (year,) = [year for year in reconcile_by_year(three_year_fund) if year.year == FinancialYear(2024)]
    assert year.control_total.amount == Decimal("130000.00")
    assert rows["synthetic-3y"] == ["£130,000.00", "£79,999.99", "-£50,000.01", "under-allocated"]
    panel = section(client.get(fund_url("synthetic-3y"), {"year": "2024-25"}), "reconciliation-heading")
    assert table_rows(panel)[0] == ["Control total for 2024-25", "£130,000.00"]


def test_the_fund_page_for_a_year_says_its_money_and_cash_are_the_whole_funds(
    client,
    officer,
    three_year_fund,  # noqa: F811
):
    client.force_login(officer)
    whole = client.get(fund_url("synthetic-3y"))
    year = client.get(fund_url("synthetic-3y"), {"year": "2024-25"})

    assert text(the(section(whole, "money-heading"), "h2")) == "Money"
    money = section(year, "money-heading")
    assert text(the(money, "h2")) == "Money: the whole fund"
    assert text(the(money, "h3", id="cash-heading")) == "Cash held: the whole fund"
    link = the(the(money, "p", id="money-whole-fund"), "a")
    assert attr(link, "href") == reverse("grants:fund_years", args=["synthetic-3y"]) + "?year=2024-25#cash"


def test_the_years_page_fits_its_wide_tables_and_lets_a_keyboard_scroll_the_cash(
    client,
    officer,
    three_year_fund,  # noqa: F811
):
    """Found by the financial-year browser walk: at 1280 px the outturn hid its Total column and the
    cash table its last three in boxes scrolled sideways, which a keyboard could not reach (axe-core's
    scrollable-region-focusable)."""
    client.force_login(officer)
    response = client.get(reverse("grants:fund_years", args=["synthetic-3y"]))
    # On a narrow screen the cash table scrolls in its own box, which holds no link to focus: the box
    # is a labelled region a keyboard can focus and scroll.
    scroll = the(section(response, "cash-heading"), "div", **{"class": "table-scroll"})
    assert [attr(scroll, name) for name in ("role", "aria-label", "tabindex")] == [
        "region",
        "Cash held in each financial year",
        "0",
    ]
    # Each year's period may wrap under its label, so the four columns and the labels fit the page.
    headings = elements(the(section(response, "outturn-heading"), "thead"), "th")
    periods = [the(heading, "span") for heading in headings[1:]]
    assert [attr(period, "class") for period in periods] == ["hint"] * 4
    assert text(periods[0]) == "1 April 2023 to 31 March 2024"
