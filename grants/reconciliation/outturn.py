"""A fund's outturn: what the funder awarded, what was allocated and spent, and what is left to give
back to the funder, by financial year and in total.

Each year's figures come from `reconcile_by_year()` (its four queries, nothing per line or per
year): the control total is the year's figure in the fund's profile; a fund without a profile has
one column for its whole spend period, against its one control total. Net spend is what was paid to
providers less the underspend they returned; the balance to return to the funder is the control
total less the net spend and less what has already been returned to the funder.

`FIGURES` is the one list of the outturn's rows, in order, with how each derived row is made from
the others: the MoJ return's Outturn sheet writes a derived row as a formula of those terms and the
years page shows the same rows. A new figure (money received from the funder, underspend due from
providers, carried forward between years) is one field on `Outturn` and one entry in `FIGURES`, with
its sign in the terms of the rows it changes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from djmoney.money import Money

from grants import money
from grants.reconciliation.years import YearReconciliation
from grants.years import FinancialYear, in_words


@dataclass(frozen=True)
class Figure:
    """One row of the outturn: the `Outturn` attribute it shows, its label, and for a derived row the
    (attribute, sign) terms it adds up."""

    name: str
    label: str
    terms: tuple[tuple[str, int], ...] = ()

    @property
    def is_derived(self) -> bool:
        return bool(self.terms)


FIGURES: tuple[Figure, ...] = (
    Figure("control_total", "Control total (awarded by the funder)"),
    Figure("allocated", "Allocated to providers"),
    Figure("paid", "Paid to providers"),
    Figure("underspend_returned", "Underspend returned by providers"),
    Figure(
        "net_spend", "Net spend (paid less underspend returned)", (("paid", 1), ("underspend_returned", -1))
    ),
    Figure("returned_to_funder", "Returned to the funder"),
    Figure(
        "balance_to_return",
        "Balance to return to the funder",
        (("control_total", 1), ("net_spend", -1), ("returned_to_funder", -1)),
    ),
)

# The figures read from the ledger, as opposed to derived from them.
RECORDED = tuple(figure.name for figure in FIGURES if not figure.is_derived)

_DERIVED = {figure.name: figure.terms for figure in FIGURES if figure.is_derived}


@dataclass(frozen=True)
class Outturn:
    """The outturn of one column: a financial year, the whole spend period, or the total of the
    years. `year` is None for the last two."""

    label: str
    control_total: Money
    allocated: Money
    paid: Money
    underspend_returned: Money
    returned_to_funder: Money
    year: FinancialYear | None = None
    # What the column covers, in words, for a page or a sheet's heading note.
    period: str = field(default="", compare=False)

    def figure(self, name: str) -> Money:
        """The named figure: a recorded one as it is, a derived one added up from its terms (in the
        order of `FIGURES`, so a term may itself be derived)."""
        terms = _DERIVED.get(name)
        if terms is None:
            return getattr(self, name)
        result = money.zero()
        for term, sign in terms:
            amount = self.figure(term)
            result = money.total([result, amount]) if sign > 0 else money.difference(result, amount)
        return result

    @property
    def net_spend(self) -> Money:
        return self.figure("net_spend")

    @property
    def balance_to_return(self) -> Money:
        return self.figure("balance_to_return")

    @property
    def rows(self) -> list[tuple[Figure, Money]]:
        return [(figure, self.figure(figure.name)) for figure in FIGURES]

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            **{figure.name: money.as_string(amount) for figure, amount in self.rows},
        }


@dataclass(frozen=True)
class FundOutturn:
    """The columns of a fund's outturn (its years, or one column), and their total where there is
    more than one column's worth to add up (a fund with a profile, whole)."""

    years: list[Outturn]
    total: Outturn | None = None

    @property
    def columns(self) -> list[Outturn]:
        return [*self.years, *([self.total] if self.total is not None else [])]

    @property
    def overall(self) -> Outturn:
        """The column that covers everything shown: the total, or the one column."""
        return self.total if self.total is not None else self.years[-1]

    @property
    def rows(self) -> list[tuple[Figure, list[Money]]]:
        """Row by row, the figure in each column: for a page's table."""
        return [(figure, [column.figure(figure.name) for column in self.columns]) for figure in FIGURES]


def _added(label: str, columns: list, control_total: Money, period: str = "") -> Outturn:
    return Outturn(
        label=label,
        control_total=control_total,
        **{
            name: money.total(getattr(column, name) for column in columns)
            for name in RECORDED
            if name != "control_total"
        },
        period=period,
    )


def year_outturn(year: YearReconciliation) -> Outturn:
    """One year of a fund with a profile; a year the profile leaves out has a control total of £0.00."""
    return Outturn(
        label=year.year.label,
        year=year.year,
        control_total=year.control_total if year.control_total is not None else money.zero(),
        **{name: getattr(year, name) for name in RECORDED if name != "control_total"},
        period=f"{in_words(year.start)} to {in_words(year.end)}",
    )


def fund_outturn(
    by_year: list[YearReconciliation],
    control_total: Money,
    spend_start: datetime.date,
    spend_end: datetime.date,
) -> FundOutturn:
    """The fund's outturn from its `reconcile_by_year()`: a column per year and their total for a
    fund with a profile; for a fund without one, one column for the whole spend period against
    `control_total` (the fund's), holding every year's movements."""
    if by_year and by_year[0].fund_has_profile:
        years = [year_outturn(year) for year in by_year]
        return FundOutturn(
            years,
            _added("Total", years, money.total(year.control_total for year in years), "All the years"),
        )
    period = f"{in_words(spend_start)} to {in_words(spend_end)}"
    return FundOutturn([_added("Whole spend period", by_year, control_total, period)])
