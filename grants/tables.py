"""The allocation table that serves the fund page, the all-funds allocations page and an
organisation's page.

The columns here give the headers, the sorting, the footer and the pagination; the rows are rendered
by `templates/includes/allocation_rows.html`, one cell per column shown, in a single template loop
(django-tables2's own row rendering costs an accessor, a render call and a template node per cell).
"""

import datetime
import functools
from typing import NamedTuple

import django_tables2 as tables
from django.utils import dateformat
from django.utils.http import urlencode
from django.utils.translation import get_language
from django_tables2.utils import OrderByTuple

from grants import money
from grants.links import url_for_key
from grants.models import Allocation
from grants.selectors import FundSummary

# On one fund's page: sorting by amount reads the lines' stored figures, in the order of their index
# (fund, category, amount, line), so the first page comes straight from it whatever the fund's size.
FUND_PAGE_ORDER = {"awarded": ("figures__awarded", "figures__line_number")}

# The header's and footer's class; each cell's is in the row template.
NUMBER = {"th": {"class": "num"}, "tf": {"class": "num"}}


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)


class AllocationTable(tables.Table):
    fund = tables.Column(
        accessor="fund__code",
        verbose_name="Fund",
        order_by=("fund__code", "line_number"),
        footer="Total",
    )
    line_number = tables.Column(
        verbose_name="No.",
        attrs=NUMBER,
        order_by=("line_number", "fund__code"),
        footer=lambda table: "" if table.show_fund else "Total",
    )
    # Every sort ends on the line, so equal values keep one order from page to page.
    organisation = tables.Column(
        order_by=("organisation__name", "fund__code", "line_number"),
    )
    service = tables.Column(order_by=("service", "fund__code", "line_number"), default="")
    thematic_area = tables.Column(
        accessor="thematic_area__name",
        verbose_name="Thematic area",
        order_by=("thematic_area__name", "fund__code", "line_number"),
    )
    funding_category = tables.Column(
        accessor="funding_category__name",
        verbose_name="Funding category",
        order_by=("funding_category__name", "fund__code", "line_number"),
    )
    # The footer is the database's total of every filtered line, not only this page's.
    awarded = AmountColumn(
        verbose_name="Amount",
        order_by=("awarded", "fund__code", "line_number"),
        footer=lambda table: money.format_gbp(table.footer_total),
    )
    awarded_pending = AmountColumn(
        verbose_name="Awaiting approval", order_by=("awarded_pending", "fund__code", "line_number")
    )
    # Approved payments; those awaiting approval are shown beside them in the cell (and counted at
    # once in "Still to pay", the safer direction).
    paid = AmountColumn(
        verbose_name="Paid (approved)", order_by=("paid_approved", "fund__code", "line_number")
    )
    still_to_pay = AmountColumn(
        verbose_name="Still to pay", order_by=("still_to_pay", "fund__code", "line_number")
    )
    change = tables.Column(
        accessor="pk",
        verbose_name="",
        orderable=False,
        empty_values=(),
        exclude_from_export=True,
    )

    class Meta:
        model = Allocation
        fields = []
        sequence = [
            "fund",
            "line_number",
            "organisation",
            "service",
            "thematic_area",
            "funding_category",
            "awarded",
            "awarded_pending",
            "paid",
            "still_to_pay",
            "change",
        ]
        order_by = ("line_number",)
        empty_text = "No allocations match."
        attrs = {"class": "allocations"}
        template_name = "includes/table.html"

    def __init__(self, *args, footer_total, show_fund=True, can_change=False, **kwargs):
        exclude = [name for name, shown in (("fund", show_fund), ("change", can_change)) if not shown]
        super().__init__(*args, exclude=exclude, **kwargs)
        self.footer_total = footer_total
        self.show_fund = show_fund
        self.can_change = can_change
        if not show_fund:
            # Every line is of the one fund: sorts end on the line alone.
            for name, bound in self.columns.columns.items():
                if bound.column.order_by:
                    keys = FUND_PAGE_ORDER.get(name) or [
                        key for key in bound.column.order_by if key != "fund__code"
                    ]
                    bound.column.order_by = OrderByTuple(keys)
            if self.order_by:
                self.order_by = self.order_by  # sort again by the columns' new keys

    def page_rows(self) -> list["AllocationRow"]:
        """This page's lines as the row template shows them: text and URLs, computed once per cell
        here (a template resolves each dotted name and filter anew for every row)."""
        line_url = url_for_key("grants:allocation_detail")
        organisation_url = url_for_key("grants:organisation_detail")
        fund_url = url_for_key("grants:fund_detail") if self.show_fund else None
        change_url = url_for_key("grants:allocation_change_amount") if self.can_change else None
        gbp = money.format_gbp
        return [
            AllocationRow(
                number=line.line_number,
                url=line_url(line.pk),
                organisation=str(line.organisation),
                organisation_url=organisation_url(line.organisation_id),
                service=line.service,
                thematic_area=line.thematic_area.name,
                funding_category=line.funding_category.name,
                awarded=gbp(line.awarded),
                awarded_pending=gbp(line.awarded_pending),
                paid=gbp(line.paid_approved),
                paid_pending=gbp(line.paid_pending) if line.paid_pending else "",
                still_to_pay=gbp(line.still_to_pay),
                fund=line.fund.code if fund_url else "",
                fund_url=fund_url(line.fund.code) if fund_url else "",
                change_url=change_url(line.pk)
                if change_url and not getattr(line, "fund_locked", False)
                else "",
            )
            for line in (row.record for row in self.paginated_rows)
        ]


class AllocationRow(NamedTuple):
    """A line of `AllocationTable` as `templates/includes/allocation_rows.html` shows it."""

    number: int
    url: str
    organisation: str
    organisation_url: str
    service: str
    thematic_area: str
    funding_category: str
    awarded: str
    awarded_pending: str
    paid: str
    paid_pending: str  # "" when no payment awaits approval
    still_to_pay: str
    fund: str  # with its URL, when the table shows the fund
    fund_url: str
    change_url: str  # when the user may change the amount


class FundSummaryRow(NamedTuple):
    """A fund's row of the dashboard and the fund list, as `templates/includes/fund_summaries.html`
    shows it."""

    code: str
    name: str
    url: str
    funder: str
    spend_period: str
    control_total: str
    ledger_total: str
    variance: str
    status: str
    # The status as one word for the badge's class, when the status is not one word itself.
    status_class: str = ""


def fund_year_rows(by_year) -> list[FundSummaryRow]:
    """Each fund's row of the dashboard for one financial year (`selectors.dashboard_for_year`): its
    control total, ledger total, variance and status for that year."""
    fund_url = url_for_key("grants:fund_detail")
    language = get_language()
    gbp = money.format_gbp
    rows = []
    for fund, year in zip(by_year.funds, by_year.summaries, strict=True):
        rows.append(
            FundSummaryRow(
                code=fund.code,
                name=fund.name,
                url=f"{fund_url(fund.code)}?{urlencode({'year': year.year.label})}",
                funder=fund.funder.short_name or fund.funder.name,
                spend_period=f"{_short_date(fund.spend_start, language)} to "
                f"{_short_date(fund.spend_end, language)}",
                control_total=gbp(year.control_total) if year.control_total is not None else "—",
                ledger_total=gbp(year.allocated),
                variance=gbp(year.variance) if year.variance is not None else "—",
                status=str(year.status),
                status_class=year.status_class,
            )
        )
    return rows


def fund_summary_rows(summaries: list[FundSummary]) -> list[FundSummaryRow]:
    """The funds' rows as text and URLs, computed once per cell here: hundreds of funds, each a row
    of a dozen values that a template would look up and filter one by one."""
    fund_url = url_for_key("grants:fund_detail")
    language = get_language()
    gbp = money.format_gbp
    rows = []
    for summary in summaries:
        fund = summary.fund
        rows.append(
            FundSummaryRow(
                code=fund.code,
                name=fund.name,
                url=fund_url(fund.code),
                funder=fund.funder.short_name or fund.funder.name,
                spend_period=f"{_short_date(fund.spend_start, language)} to "
                f"{_short_date(fund.spend_end, language)}",
                control_total=gbp(fund.control_total),
                ledger_total=gbp(summary.ledger_total),
                variance=gbp(summary.variance),
                status=str(summary.status),
            )
        )
    return rows


@functools.lru_cache(maxsize=4096)
def _short_date(day: datetime.date | None, language: str) -> str:
    """A date as the `date:"j F Y"` filter shows it in the active language: two per fund, and the
    funds' dates are few."""
    return dateformat.format(day, "j F Y") if day else ""
