"""The allocation table that serves the fund page and the all-funds allocations page."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django_tables2.utils import OrderByTuple

from grants import money
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

    def render_change(self, record):
        return format_html(
            '<a href="{}">Change amount<span class="visually-hidden"> of line {}</span></a>',
            reverse("grants:allocation_change_amount", args=[record.pk]),
            record.line_number,
        )
