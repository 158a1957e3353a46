"""A bar chart of allocations by funding category, drawn on the server as SVG.

No JavaScript and nothing from another host: the page carries the chart. Each bar is the amount
allocated; where the category has a ring-fenced budget a marker shows it. The chart's title and
description are its text alternative, and the page also shows the same figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from grants import money
from grants.reconciliation import Subtotal

LABEL_WIDTH = 210
BAR_AREA = 380
ROW_HEIGHT = 34
BAR_HEIGHT = 18
VALUE_GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: int
    width: Decimal
    budget_x: Decimal | None
    budget_text: str

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 4

    @property
    def value_x(self) -> Decimal:
        return LABEL_WIDTH + self.width + VALUE_GAP

    @property
    def marker_top(self) -> int:
        return self.y - 4

    @property
    def marker_bottom(self) -> int:
        return self.y + BAR_HEIGHT + 4


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    description: str
    label_width: int = LABEL_WIDTH


def category_chart(rows: list[Subtotal]) -> Chart:
    scale_max = max(
        [row.amount.amount for row in rows] + [row.budget.amount for row in rows if row.budget is not None],
        default=Decimal("0"),
    )

    def scaled(amount: Decimal) -> Decimal:
        """Pixels along the bar area, to a tenth of a pixel."""
        return (BAR_AREA * amount / scale_max).quantize(Decimal("0.1")) if scale_max > 0 else Decimal("0")

    bars = []
    for index, row in enumerate(rows):
        budget_text = f" against a budget of {money.format_gbp(row.budget)}" if row.budget is not None else ""
        bars.append(
            Bar(
                label=row.name,
                value_text=money.format_gbp(row.amount),
                y=10 + index * ROW_HEIGHT,
                width=scaled(row.amount.amount),
                budget_x=LABEL_WIDTH + scaled(row.budget.amount) if row.budget is not None else None,
                budget_text=budget_text,
            )
        )
    description = "; ".join(f"{bar.label}: {bar.value_text}{bar.budget_text}" for bar in bars)
    return Chart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + 130,
        height=20 + ROW_HEIGHT * max(len(bars), 1),
        description=f"Allocations by funding category. {description or 'No allocations yet'}.",
    )
