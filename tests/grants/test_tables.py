"""The allocation tables' rows and the funds' summary rows, read from the rendered pages (parsed HTML,
not patterns): their links, classes, accessibility text and escaped values."""

import datetime
from decimal import Decimal

import pytest
from django.test.html import Element, parse_html
from django.urls import reverse
from djmoney.money import Money

from grants import selectors
from tests.factories import AllocationFactory, FunderFactory, FundFactory, OrganisationFactory

TRICKY_NAME = "Women's Aid & <Refuge>"
TRICKY_SERVICE = '"Outreach" <b>bold</b>'


def elements(node, name: str, **attributes) -> list[Element]:
    """Every element `name` under `node` in document order whose attributes include `attributes`."""
    found = []
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            if child.name == name and all(attr(child, key) == value for key, value in attributes.items()):
                found.append(child)
            found.extend(elements(child, name, **attributes))
    return found


def the(node, name: str, **attributes) -> Element:
    (element,) = elements(node, name, **attributes)
    return element


def attr(element: Element, name: str):
    return dict(element.attributes).get(name)


def text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(" ".join(text(child) for child in node.children).split())


def link(cell: Element) -> tuple[str, str]:
    anchor = the(cell, "a")
    return attr(anchor, "href"), text(anchor)


def page(client, url: str) -> Element:
    response = client.get(url)
    assert response.status_code == 200
    return parse_html(response.content.decode())


def body_rows(document: Element) -> list[Element]:
    return elements(the(the(document, "table", **{"class": "allocations"}), "tbody"), "tr")


def header_texts(document: Element) -> list[str]:
    thead = the(the(document, "table", **{"class": "allocations"}), "thead")
    return [text(th) for th in elements(thead, "th")]


def funds_table_body(document: Element) -> Element:
    """The first table's body: the funds' (the dashboard has the categories' below it)."""
    return the(elements(document, "table")[0], "tbody")


@pytest.fixture
def fund(db):
    fund = FundFactory(code="fund-1")
    AllocationFactory(
        fund=fund,
        organisation=OrganisationFactory(name=TRICKY_NAME, short_name="W&A"),
        service=TRICKY_SERVICE,
        amount=Decimal("1234567.89"),
    )
    AllocationFactory(fund=fund, amount=Decimal("0.01"))
    AllocationFactory(fund=fund, amount=Decimal("10.00"), approved=False)
    return fund


def test_a_fund_pages_rows_link_each_line_and_organisation_and_show_its_money(client, officer, fund):
    client.force_login(officer)
    document = page(client, reverse("grants:fund_detail", args=[fund.code]) + "?sort=-awarded")
    assert header_texts(document) == [
        "No.",
        "Organisation",
        "Service",
        "Thematic area",
        "Funding category",
        "Amount ↓",
        "Awaiting approval",
        "Paid (approved)",
        "Still to pay",
        "",
    ]
    rows = body_rows(document)
    # By amount, descending: the unapproved line's approved amount is £0.00.
    big, small, pending = fund.allocations.order_by("line_number")
    assert [attr(row, "class") for row in rows] == ["even", "odd", "even"]

    cells = elements(rows[0], "td")
    assert len(cells) == 10
    # The Change amount link may wrap, so the eleven columns fit a 1280 px page.
    assert [attr(cell, "class") for cell in cells] == ["num", None, None, None, None] + ["num"] * 4 + [None]
    assert link(cells[0]) == (reverse("grants:allocation_detail", args=[big.pk]), str(big.line_number))
    assert link(cells[1]) == (
        reverse("grants:organisation_detail", args=[big.organisation_id]),
        f"{TRICKY_NAME} (W&A)",
    )
    # Escaped: the service's markup is text, not an element.
    assert cells[2].children == [TRICKY_SERVICE]
    assert [text(cell) for cell in cells[3:5]] == [big.thematic_area.name, big.funding_category.name]
    assert [text(cell) for cell in cells[5:9]] == ["£1,234,567.89", "£0.00", "£0.00", "£1,234,567.89"]
    change = the(cells[9], "a")
    assert attr(change, "href") == reverse("grants:allocation_change_amount", args=[big.pk])
    assert text(the(change, "span", **{"class": "visually-hidden"})) == f"of line {big.line_number}"

    assert link(elements(rows[1], "td")[0])[1] == str(small.line_number)
    assert [text(cell) for cell in elements(rows[1], "td")[5:9]] == ["£0.01", "£0.00", "£0.00", "£0.01"]
    assert [text(cell) for cell in elements(rows[2], "td")[5:9]] == ["£0.00", "£10.00", "£0.00", "£0.00"]
    assert link(elements(rows[2], "td")[0])[0] == reverse("grants:allocation_detail", args=[pending.pk])


def test_the_all_allocations_table_links_each_lines_fund_and_offers_no_change_to_a_viewer(
    client, viewer, fund
):
    client.force_login(viewer)
    document = page(client, reverse("grants:allocation_list") + "?sort=line_number")
    assert header_texts(document)[0] == "Fund"
    assert "" not in header_texts(document)  # no column for the change link
    rows = body_rows(document)
    assert len(rows) == 3
    for row, line in zip(rows, fund.allocations.order_by("line_number"), strict=True):
        cells = elements(row, "td")
        assert len(cells) == 10
        assert link(cells[0]) == (reverse("grants:fund_detail", args=[fund.code]), fund.code)
        assert link(cells[1]) == (reverse("grants:allocation_detail", args=[line.pk]), str(line.line_number))
        assert not elements(row, "a", **{"href": reverse("grants:allocation_change_amount", args=[line.pk])})


def test_the_sorted_column_says_so_and_each_header_links_to_its_sort(client, officer, fund):
    client.force_login(officer)
    document = page(client, reverse("grants:fund_detail", args=[fund.code]) + "?sort=-awarded")
    thead = the(the(document, "table", **{"class": "allocations"}), "thead")
    amount = the(thead, "th", **{"aria-sort": "descending"})
    assert attr(amount, "class") == "desc num orderable"
    # Each sort link returns to the table (#allocations), not to the top of the page.
    assert attr(the(amount, "a"), "href") == "?sort=awarded#allocations"
    assert len(elements(thead, "th", **{"aria-sort": "descending"})) == 1
    number = elements(thead, "th")[0]
    assert (attr(number, "aria-sort"), attr(the(number, "a"), "href")) == (
        None,
        "?sort=line_number#allocations",
    )


def test_the_footer_totals_every_filtered_line_and_an_empty_table_says_so(client, officer, fund):
    client.force_login(officer)
    document = page(client, reverse("grants:fund_detail", args=[fund.code]))
    tfoot = the(the(document, "table", **{"class": "allocations"}), "tfoot")
    assert text(the(tfoot, "th")) == "Total"
    assert [text(td) for td in elements(tfoot, "td", **{"class": "num"})][0] == "£1,234,567.90"

    document = page(client, reverse("grants:fund_detail", args=[fund.code]) + "?q=nothing-matches-this")
    (row,) = body_rows(document)
    (cell,) = elements(row, "td")
    assert text(cell) == "No allocations match."
    assert attr(cell, "colspan") == "10"


def test_a_funds_summary_row_escapes_its_text_and_links_to_the_fund(client, officer, db):
    fund = FundFactory(
        code="ecf-2020",
        name="Covid <Fund> & more",
        funder=FunderFactory(name="Ministry of Justice", short_name=""),
        spend_start=datetime.date(2020, 3, 23),
        spend_end=datetime.date(2020, 10, 31),
        control_total=Money(Decimal("100.00"), "GBP"),
    )
    AllocationFactory(fund=fund, amount=Decimal("12.50"))
    summary = selectors.fund_summaries()[0]
    client.force_login(officer)
    for url, leading_cells in ((reverse("grants:fund_list"), 0), (reverse("grants:dashboard"), 1)):
        document = page(client, url)
        (row,) = elements(funds_table_body(document), "tr")
        heading = the(row, "th", scope="row")
        assert link(heading) == (reverse("grants:fund_detail", args=[fund.code]), "Covid <Fund> & more")
        assert text(the(heading, "span", **{"class": "code"})) == "ecf-2020"
        cells = elements(row, "td")[leading_cells:]
        assert [text(cell) for cell in cells] == [
            "Ministry of Justice",
            "23 March 2020 to 31 October 2020",
            "£100.00",
            "£12.50",
            "-£87.50",
            str(summary.status),
        ]
        assert [attr(cell, "class") for cell in cells] == [None, None, "num", "num", "num", None]
        badge = the(cells[-1], "span")
        assert attr(badge, "class") == f"badge badge-{summary.status}"


def test_the_dashboard_ticks_only_the_chosen_funds_boxes(client, officer, db):
    FundFactory(code="fund-a", name="Fund A")
    FundFactory(code="fund-b", name="Fund B")
    client.force_login(officer)
    for query, ticked in (("", set()), ("?fund=fund-b", {"fund-b"})):
        document = page(client, reverse("grants:dashboard") + query)
        boxes = elements(funds_table_body(document), "input", type="checkbox")
        assert [attr(box, "value") for box in boxes] == ["fund-a", "fund-b"]
        assert {attr(box, "value") for box in boxes if "checked" in dict(box.attributes)} == ticked
        assert attr(boxes[0], "aria-label") == "Include Fund A in the category totals"
        assert attr(boxes[0], "id") == "fund-fund-a"
