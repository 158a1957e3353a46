"""The fund page puts the work first (issue 18): the reconciliation's headline and the allocation
table near the top, the detail below it (the longer parts folded), every sort, filter and page link
returning to the table, and "Lines 1–50 of N, £… in total" above it from the database's total."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
)
from tests.grants.test_tables import attr, elements, page, text, the

FUND = reverse("grants:fund_detail", args=["moj-ecf-2020"])


@pytest.fixture
def signed_in(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def long_fund(db):
    """A fund of 53 lines of £1.00 to £53.00 (£1,431.00), two more awaiting approval (£500.00 each),
    lines 1 to 10 in a category of their own."""
    fund = FundFactory(code="long-fund")
    organisation, area = OrganisationFactory(), ThematicAreaFactory()
    first, other = FundingCategoryFactory(name="First ten"), FundingCategoryFactory(name="The rest")
    for n in range(1, 54):
        AllocationFactory(
            fund=fund,
            line_number=n,
            amount=Decimal(n),
            service=f"Service {n}",
            organisation=organisation,
            thematic_area=area,
            funding_category=first if n <= 10 else other,
        )
    for n in (54, 55):
        AllocationFactory(
            fund=fund,
            line_number=n,
            amount=Decimal("500.00"),
            service=f"Service {n}",
            organisation=organisation,
            thematic_area=area,
            funding_category=other,
            approved=False,
        )
    return fund


def summary(document) -> str:
    return text(the(document, "p", id="allocations-summary"))


def test_the_reconciliation_and_the_table_come_before_the_detail(signed_in, seed_fund):
    html = signed_in.get(FUND).content.decode()
    order = [
        'id="reconciliation-heading"',
        'id="allocations"',
        'id="allocations-summary"',
        'class="allocations"',
        'id="by-category"',
        'id="by-area"',
        'id="money-heading"',
        'id="about-heading"',
        'id="open-data"',
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))


def test_the_longer_detail_is_folded_below_the_table(signed_in, seed_fund):
    document = page(signed_in, FUND)
    folded = {attr(details, "id"): text(the(details, "summary")) for details in elements(document, "details")}
    assert folded == {
        "by-category": "By funding category",
        "by-area": "By thematic area",
        "payment-forecast": "Payment forecast by month and by quarter",
        "open-data": "Open data (360Giving)",
    }
    # Folded, not gone: the figures are in the page for a click (or Enter) to open, with no script.
    by_category = the(document, "details", id="by-category")
    assert "DA PCC commissioned" in [text(row) for row in elements(the(by_category, "tbody"), "th")]
    assert not any(attr(details, "open") is not None for details in elements(document, "details"))


def test_the_fund_line_under_the_name_gives_its_code_funder_and_period(signed_in, seed_fund):
    document = page(signed_in, FUND)
    line = the(document, "p", id="fund-line")
    assert text(the(line, "span", **{"class": "code"})) == "moj-ecf-2020"
    assert text(line).startswith("moj-ecf-2020 · Ministry of Justice")


def test_the_headline_counts_the_lines_and_totals_them_from_the_database(signed_in, long_fund):
    url = reverse("grants:fund_detail", args=[long_fund.code])
    # 53 approved lines: £1.00 + ... + £53.00; the lines awaiting approval show but count £0.00.
    assert summary(page(signed_in, url)) == "Lines 1–50 of 55, £1,431.00 in total"
    assert summary(page(signed_in, url + "?page=2")) == "Lines 51–55 of 55, £1,431.00 in total"


def test_the_headline_totals_the_filtered_lines_not_only_this_page(signed_in, long_fund):
    url = reverse("grants:fund_detail", args=[long_fund.code])
    category = long_fund.allocations.get(line_number=1).funding_category.code
    assert summary(page(signed_in, f"{url}?funding_category={category}")) == (
        "Lines 1–10 of 10, £55.00 in total"
    )
    assert summary(page(signed_in, f"{url}?amount_min=50")) == "Lines 1–4 of 4, £206.00 in total"
    assert summary(page(signed_in, f"{url}?q=nothing-matches-this")) == "No lines"


def test_filters_pages_and_clearing_return_to_the_table(signed_in, long_fund):
    url = reverse("grants:fund_detail", args=[long_fund.code])
    document = page(signed_in, url + "?sort=-awarded")
    the(document, "section", id="allocations")
    form = the(document, "form", **{"class": "filters"})
    assert attr(form, "action") == "#allocations"
    (clear,) = [anchor for anchor in elements(form, "a") if text(anchor) == "Clear"]
    assert attr(clear, "href") == f"{url}#allocations"
    pages = the(document, "nav", **{"aria-label": "Pages of this table"})
    assert [attr(anchor, "href") for anchor in elements(pages, "a")] == ["?sort=-awarded&page=2#allocations"]
    table = the(document, "table", **{"class": "allocations"})
    sorts = [attr(anchor, "href") for anchor in elements(the(table, "thead"), "a")]
    assert sorts and all(href.endswith("#allocations") for href in sorts)


def test_the_all_funds_and_organisation_tables_have_the_anchor_their_links_name(signed_in, long_fund):
    listing = page(signed_in, reverse("grants:allocation_list"))
    assert elements(listing, "div", id="allocations")
    assert summary(listing) == "Lines 1–50 of 55, £1,431.00 in total"
    organisation = long_fund.allocations.first().organisation_id
    detail = page(signed_in, reverse("grants:organisation_detail", args=[organisation]))
    assert elements(detail, "h2", id="allocations")
    assert summary(detail) == "Lines 1–50 of 55, £1,431.00 in total"


def test_each_allocation_cell_names_its_column_for_the_narrow_layout(signed_in, long_fund):
    document = page(signed_in, reverse("grants:allocation_list"))
    first_row = elements(the(the(document, "table", **{"class": "allocations"}), "tbody"), "tr")[0]
    assert [attr(cell, "data-label") for cell in elements(first_row, "td")] == [
        "Fund",
        "No.",
        "Organisation",
        "Service",
        "Thematic area",
        "Funding category",
        "Amount",
        "Awaiting approval",
        "Paid (approved)",
        "Still to pay",
        None,  # "Change amount": its link says what it is
    ]
