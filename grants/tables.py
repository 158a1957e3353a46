"""The allocation table that serves the fund page and the all-funds allocations page."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.utils import OrderByTuple

from grants import money
from grants.html import UrlPattern, text
from grants.models import Allocation

# On one fund's page: sorting by amount reads the lines' stored figures, in the order of their index
# (fund, category, amount, line), so the first page comes straight from it whatever the fund's size.
FUND_PAGE_ORDER = {"awarded": ("figures__awarded", "figures__line_number")}

NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}, "tf": {"class": "num"}}


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money.format_gbp(money.from_aggregate(value))


class AllocationTable(tables.Table):
    fund = tables.Column(
        accessor="fund__code",
        verbose_name="Fund",
        order_by=("fund__code", "line_number"),
        linkify=lambda record: reverse("grants:fund_detail", args=[record.fund.code]),
        footer="Total",
    )
    line_number = tables.Column(
        verbose_name="No.",
        attrs=NUMBER,
        linkify=lambda record: reverse("grants:allocation_detail", args=[record.pk]),
        order_by=("line_number", "fund__code"),
        footer=lambda table: "" if table.show_fund else "Total",
    )
    # Every sort ends on the line, so equal values keep one order from page to page.
    organisation = tables.Column(
        order_by=("organisation__name", "fund__code", "line_number"),
        linkify=lambda record: reverse("grants:organisation_detail", args=[record.organisation_id]),
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
    paid = AmountColumn(verbose_name="Paid", order_by=("paid", "fund__code", "line_number"))
    still_to_pay = AmountColumn(
        verbose_name="Still to pay", order_by=("still_to_pay", "fund__code", "line_number")
    )
    change = tables.Column(
        accessor="pk",
        verbose_name="",
        orderable=False,
        empty_values=(),
        exclude_from_export=True,
        attrs={"td": {"class": "nowrap"}},
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

    def rows_html(self) -> list[SafeString]:
        """The page's rows as HTML, the same as django-tables2's templates would render them.

        Rendered cell by cell through those templates (accessors, a render call, a template node and
        a `reverse()` per cell), the 50-row page took about 70 ms, almost all of the fund page's
        time, against 3.5 ms for a trivial page (docs/performance.md). Built here from the page's
        records, with each URL reversed once per page, it takes about 1 ms. The headers, footer
        and pagination stay django-tables2's; `includes/table.html` uses these rows.
        """
        shown = [column.name for column in self.columns]
        links = {
            "fund": UrlPattern("grants:fund_detail", slug=True),
            "line_number": UrlPattern("grants:allocation_detail"),
            "organisation": UrlPattern("grants:organisation_detail"),
            "change": UrlPattern("grants:allocation_change_amount"),
        }
        amount = _amount_html
        cells = {
            "fund": lambda r: f'<td ><a href="{links["fund"].url(r.fund.code)}">{text(r.fund.code)}</a></td>',
            "line_number": lambda r: (
                f'<td class="num"><a href="{links["line_number"].url(r.pk)}">{r.line_number}</a></td>'
            ),
            "organisation": lambda r: (
                f'<td ><a href="{links["organisation"].url(r.organisation_id)}">'
                f"{text(r.organisation)}</a></td>"
            ),
            "service": lambda r: f"<td >{text(r.service)}</td>",
            "thematic_area": lambda r: f"<td >{text(r.thematic_area.name)}</td>",
            "funding_category": lambda r: f"<td >{text(r.funding_category.name)}</td>",
            "awarded": lambda r: amount(r.awarded),
            "awarded_pending": lambda r: amount(r.awarded_pending),
            "paid": lambda r: amount(r.paid),
            "still_to_pay": lambda r: amount(r.still_to_pay),
            "change": lambda r: (
                f'<td class="nowrap"><a href="{links["change"].url(r.pk)}">Change amount'
                f'<span class="visually-hidden"> of line {r.line_number}</span></a></td>'
            ),
        }
        row_cells = [cells[name] for name in shown]
        return [
            mark_safe(  # noqa: S308 - every value above is escaped or a number
                f'<tr class="{"even" if index % 2 == 0 else "odd"}">'
                + "".join(cell(record) for cell in row_cells)
                + "</tr>"
            )
            for index, record in enumerate(row.record for row in self.paginated_rows)
        ]

    def render_change(self, record):
        return format_html(
            '<a href="{}">Change amount<span class="visually-hidden"> of line {}</span></a>',
            reverse("grants:allocation_change_amount", args=[record.pk]),
            record.line_number,
        )


def _amount_html(value) -> str:
    return f'<td class="num">{conditional_escape(money.format_gbp(money.from_aggregate(value)))}</td>'
