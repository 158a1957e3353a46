"""Rows the pages build in Python are the HTML django-tables2 and the templates would render."""

import datetime
import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from grants import selectors
from grants.tables import AllocationTable
from tests.factories import AllocationFactory, FunderFactory, FundFactory, OrganisationFactory


def normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def tbody(html: str) -> str:
    return normalised(re.search(r"<tbody[^>]*>(.*)</tbody>", html, re.S).group(1))


@pytest.mark.parametrize("show_fund", [True, False])
@pytest.mark.parametrize("can_change", [True, False])
def test_rows_built_in_python_are_what_django_tables2_renders(db, show_fund, can_change):
    fund = FundFactory(code="fund-1")
    AllocationFactory(
        fund=fund,
        organisation=OrganisationFactory(name="Women's Aid & <Refuge>", short_name="W&A"),
        service='"Outreach" <b>',
        amount=Decimal("1234567.89"),
    )
    AllocationFactory(fund=fund, amount=Decimal("0.01"))
    AllocationFactory(fund=fund, amount=Decimal("10.00"), approved=False)
    rows = selectors.allocation_rows().filter(fund=fund).order_by("line_number")

    def table(template_name):
        built = AllocationTable(rows, footer_total=None, show_fund=show_fund, can_change=can_change)
        built.template_name = template_name
        built.paginate(per_page=50)
        return built

    request = RequestFactory().get("/")
    stock = table("django_tables2/table.html").as_html(request)
    ours = table("includes/table.html")
    assert normalised("".join(ours.rows_html())) == tbody(stock)
    assert "Women&#x27;s Aid &amp; &lt;Refuge&gt; (W&amp;A)" in tbody(stock)
    assert tbody(ours.as_html(request)) == tbody(stock)


def test_a_funds_summary_row_escapes_its_text_and_links_to_the_fund(db):
    fund = FundFactory(
        code="ecf-2020",
        name="Covid <Fund> & more",
        funder=FunderFactory(name="Ministry of Justice", short_name=""),
        spend_start=datetime.date(2020, 3, 23),
        spend_end=datetime.date(2020, 10, 31),
    )
    AllocationFactory(fund=fund, amount=Decimal("12.50"))
    summary = selectors.fund_summaries()[0]
    html = Template("{% load ledger %}{% fund_summary_cells summary %}").render(Context({"summary": summary}))
    assert normalised(html) == normalised(
        '<th scope="row"><a href="/funds/ecf-2020/">Covid &lt;Fund&gt; &amp; more</a> '
        '<span class="code">ecf-2020</span></th>'
        "<td>Ministry of Justice</td><td>23 Mar 2020 to 31 Oct 2020</td>"
        f'<td class="num">£{fund.control_total.amount:,.2f}</td><td class="num">£12.50</td>'
        f'<td class="num">{_money(summary.variance.amount)}</td>'
        f'<td><span class="badge badge-{summary.status}">{summary.status}</span></td>'
    )


def _money(amount: Decimal) -> str:
    return f"-£{-amount:,.2f}" if amount < 0 else f"£{amount:,.2f}"
