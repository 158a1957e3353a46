"""A fund's outturn: what the funder awarded and paid, what was allocated and spent, what providers
still owe, what was carried between years, and what is left to give back to the funder, by financial
year and in total.

Each year's figures come from `reconcile_by_year()` (its queries, nothing per line or per year). The
year's control total is its figure in the fund's profile ("awarded") with the fund's approved
carry-forwards into and out of it; a fund without a profile has one column for its whole spend
period, against its one control total. Net spend is what was paid to providers less the underspend
they returned. Underspend a provider has declared due but not yet sent is owed to the funder as
surely as underspend returned, so the balance to return to the funder is

    control total - net spend + (underspend still due at the end - underspend still due at the start)
    - returned to the funder

in each year, and the same over the fund: underspend still due is a balance, so a year counts the
change in it, and the years' balances add up to the fund's. Cash held is what the office holds of the
fund: received, less net spend, less returned to the funder.

`FIGURES` is the one list of the outturn's rows, in order, with how each derived row is made from
the others and how a Total column is made of the years' (summed, or for a balance the first or last
year's): the MoJ return's Outturn sheet writes a derived row as a formula of those terms and the
years page shows the same rows.
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
    """One row of the outturn: the `Outturn` attribute it shows, its label, for a derived row the
    (attribute, sign) terms it adds up, and how a Total column is made of the years' figures: "sum"
    for money that moved in a year, "first" or "last" for a balance at a year's start or end."""

    name: str
    label: str
    terms: tuple[tuple[str, int], ...] = ()
    total_by: str = "sum"

    @property
    def is_derived(self) -> bool:
        return bool(self.terms)


FIGURES: tuple[Figure, ...] = (
    Figure("awarded", "Awarded by the funder"),
    Figure("carried_in", "Carried forward from the year before"),
    Figure("carried_out", "Carried forward to the year after"),
    Figure(
        "control_total",
        "Control total (awarded, with carry-forwards)",
        (("awarded", 1), ("carried_in", 1), ("carried_out", -1)),
    ),
    Figure("allocated", "Allocated to providers"),
    Figure("received", "Received from the funder"),
    Figure("paid", "Paid to providers"),
    Figure("underspend_returned", "Underspend returned by providers"),
    Figure(
        "net_spend", "Net spend (paid less underspend returned)", (("paid", 1), ("underspend_returned", -1))
    ),
    Figure("returned_to_funder", "Returned to the funder"),
    Figure(
        "cash_held",
        "Cash held (received less net spend and returns to the funder)",
        (("received", 1), ("net_spend", -1), ("returned_to_funder", -1)),
    ),
    Figure("underspend_due_at_start", "Underspend still due from providers at the start", total_by="first"),
    Figure("underspend_due", "Underspend still due from providers at the end", total_by="last"),
    Figure(
        "balance_to_return",
        "Balance to return to the funder",
        (
            ("control_total", 1),
            ("net_spend", -1),
            ("underspend_due", 1),
            ("underspend_due_at_start", -1),
            ("returned_to_funder", -1),
        ),
    ),
)

# The figures read from the ledger, as opposed to derived from them.
RECORDED = tuple(figure.name for figure in FIGURES if not figure.is_derived)

_DERIVED = {figure.name: figure.terms for figure in FIGURES if figure.is_derived}
_TOTAL_BY = {figure.name: figure.total_by for figure in FIGURES}


@dataclass(frozen=True)
class Outturn:
    """The outturn of one column: a financial year, the whole spend period, or the total of the
    years. `year` is None for the last two."""

    label: str
    awarded: Money
    allocated: Money
    paid: Money
    underspend_returned: Money
    returned_to_funder: Money
    carried_in: Money = field(default_factory=money.zero)
    carried_out: Money = field(default_factory=money.zero)
    received: Money = field(default_factory=money.zero)
    underspend_due_at_start: Money = field(default_factory=money.zero)
    underspend_due: Money = field(default_factory=money.zero)
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
    def control_total(self) -> Money:
        return self.figure("control_total")

    @property
    def net_spend(self) -> Money:
        return self.figure("net_spend")

    @property
    def cash_held(self) -> Money:
        return self.figure("cash_held")

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


def _added(label: str, columns: list[Outturn], awarded: Money, period: str = "") -> Outturn:
    """The columns' outturn as one: money that moved, added up; a balance, the first or last column's."""

    def made(name: str) -> Money:
        by = _TOTAL_BY[name]
        if by == "first":
            return getattr(columns[0], name)
        if by == "last":
            return getattr(columns[-1], name)
        return money.total(getattr(column, name) for column in columns)

    return Outturn(
        label=label,
        awarded=awarded,
        **{name: made(name) for name in RECORDED if name != "awarded"},
        period=period,
    )


def year_outturns(by_year: list[YearReconciliation]) -> list[Outturn]:
    """Each year's outturn, in the order of `by_year` (the fund's years, in order): a year's
    underspend still due at its start is the year before's at its end. A year a fund's profile
    leaves out was awarded £0.00; a fund without a profile was awarded nothing by year."""
    outturns, due_at_start = [], money.zero()
    for year in by_year:
        carried = money.total([year.carried_in, -year.carried_out])
        control_total = year.control_total if year.control_total is not None else money.zero()
        outturns.append(
            Outturn(
                label=year.year.label,
                year=year.year,
                awarded=money.difference(control_total, carried),
                carried_in=year.carried_in,
                carried_out=year.carried_out,
                allocated=year.allocated,
                received=year.received,
                paid=year.paid,
                underspend_returned=year.underspend_returned,
                returned_to_funder=year.returned_to_funder,
                underspend_due_at_start=due_at_start,
                underspend_due=year.underspend_due,
                period=f"{in_words(year.start)} to {in_words(year.end)}",
            )
        )
        due_at_start = year.underspend_due
    return outturns


def fund_outturn(
    by_year: list[YearReconciliation],
    control_total: Money,
    spend_start: datetime.date,
    spend_end: datetime.date,
) -> FundOutturn:
    """The fund's outturn from its `reconcile_by_year()`: a column per year and their total for a
    fund with a profile; for a fund without one, one column for the whole spend period against
    `control_total` (the fund's), holding every year's movements."""
    years = year_outturns(by_year)
    if by_year and by_year[0].fund_has_profile:
        awarded = money.total(year.awarded for year in years)
        return FundOutturn(years, _added("Total", years, awarded, "All the years"))
    period = f"{in_words(spend_start)} to {in_words(spend_end)}"
    return FundOutturn([_added("Whole spend period", years, control_total, period)])
