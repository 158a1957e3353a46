"""The stored figures' tables: a line's, a group's (fund, category, thematic area) and a fund's money."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def _amount_field():
    # Sums of 14-digit amounts: two digits more for the groups of a large ledger. The default is the
    # database's: only the triggers insert rows.
    return models.DecimalField(max_digits=16, decimal_places=2, db_default=0, editable=False)


def _count_field():
    return models.IntegerField(db_default=0, editable=False)


class Figures(models.Model):
    """The money columns lines and groups share (README, "Figures")."""

    awarded = _amount_field()  # approved awards and variations
    awarded_pending = _amount_field()  # awards and variations awaiting approval
    paid = _amount_field()  # payments to providers, once recorded
    returned = _amount_field()  # underspend providers returned, once recorded
    pending_entries = _count_field()  # entries of any kind awaiting approval

    class Meta:
        abstract = True


class LineFigures(Figures):
    """One allocation line's money, with the columns its table is filtered and sorted on copied from
    the allocation so that one index serves "this fund's lines in this category by amount"."""

    allocation = models.OneToOneField(
        "grants.Allocation",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the database's trigger removes the row with its line
        related_name="figures",
        editable=False,
    )
    fund = models.ForeignKey("grants.Fund", on_delete=models.DO_NOTHING, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )
    line_number = models.PositiveIntegerField(editable=False)
    awarded_entries = _count_field()  # approved awards and variations
    pending_awarded_entries = _count_field()  # awards and variations awaiting approval

    class Meta:
        verbose_name = "line figures"
        verbose_name_plural = "line figures"
        indexes = [
            # A fund's table sorted by amount (or by line), filtered by category or not: the first
            # page is read from the index, whatever the fund's size.
            models.Index(fields=["fund", "awarded", "line_number"], name="line_figures_fund_awarded"),
            # Every fund's lines by amount (the all-allocations table): ties are few.
            models.Index(fields=["awarded"], name="line_figures_awarded"),
            models.Index(
                fields=["fund", "funding_category", "awarded", "line_number"],
                name="line_figures_category_awarded",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(awarded_entries__gte=0, pending_awarded_entries__gte=0, pending_entries__gte=0),
                name="line_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return f"Figures of allocation {self.allocation_id}"


class GroupFigures(Figures):
    """The money of a fund's lines in one funding category and thematic area: a fund has a few such
    groups, the ledger a few thousand, whatever the number of lines. A group whose lines have all
    moved away stays, empty; deleting its fund, category or area (which nothing else holds on to)
    deletes it."""

    fund = models.ForeignKey("grants.Fund", on_delete=models.CASCADE, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.CASCADE, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.CASCADE, related_name="+", editable=False
    )
    line_count = _count_field()  # lines in the group
    awarded_line_count = _count_field()  # lines with an approved award or variation: those the totals count
    pending_line_count = _count_field()  # lines with an award or variation awaiting approval

    class Meta:
        verbose_name = "group figures"
        verbose_name_plural = "group figures"
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "funding_category", "thematic_area"], name="group_figures_are_unique"
            ),
            models.CheckConstraint(
                condition=Q(
                    line_count__gte=0,
                    awarded_line_count__gte=0,
                    pending_line_count__gte=0,
                    pending_entries__gte=0,
                ),
                name="group_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return (
            f"Figures of fund {self.fund_id}, category {self.funding_category_id}, "
            f"area {self.thematic_area_id}"
        )


class FundFigures(models.Model):
    """A fund's money held on no line: what the office returned to its funder."""

    fund = models.OneToOneField(
        "grants.Fund", primary_key=True, on_delete=models.CASCADE, related_name="+", editable=False
    )
    returned_to_funder = _amount_field()  # once recorded
    pending_entries = _count_field()

    class Meta:
        verbose_name = "fund figures"
        verbose_name_plural = "fund figures"
        constraints = [
            models.CheckConstraint(
                condition=Q(pending_entries__gte=0), name="fund_figures_counts_are_not_negative"
            ),
        ]

    def __str__(self):
        return f"Figures of fund {self.fund_id} held on no line"


class YearFigures(Figures):
    """The money columns of a line's or a group's financial year: those of `Figures`, and the
    payments and returned underspend awaiting approval, so that a year counts approved entries or
    every recorded one as `reconcile_by_year()` is asked to."""

    year = models.PositiveSmallIntegerField(editable=False)  # the start year: 2023 is 2023-24
    paid_pending = _amount_field()  # payments awaiting approval (also in `paid`)
    returned_pending = _amount_field()  # returned underspend awaiting approval (also in `returned`)
    awarded_entries = _count_field()  # approved awards and variations
    pending_awarded_entries = _count_field()  # awards and variations awaiting approval

    class Meta:
        abstract = True


class LineYearFigures(YearFigures):
    """One allocation line's money in one financial year: its entries dated in the year (a reversal
    in the year of the entry it cancels). A row appears with the line's first entry in the year,
    with the fund, category and area copied from the line (and moved with it)."""

    allocation = models.ForeignKey(
        "grants.Allocation",
        on_delete=models.DO_NOTHING,  # the database's trigger removes the rows with their line
        related_name="year_figures",
        editable=False,
    )
    fund = models.ForeignKey("grants.Fund", on_delete=models.DO_NOTHING, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "line figures by year"
        verbose_name_plural = "line figures by year"
        indexes = [
            # A fund's lines in one year by amount: the first page of the year's table from the index.
            models.Index(fields=["fund", "year", "awarded"], name="line_year_figures_fund_awarded"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "year"], name="line_year_figures_are_unique"),
            models.CheckConstraint(
                condition=Q(awarded_entries__gte=0, pending_awarded_entries__gte=0, pending_entries__gte=0),
                name="line_year_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return f"Figures of allocation {self.allocation_id} in {self.year}"


class GroupYearFigures(YearFigures):
    """The money of a fund's lines in one funding category and thematic area in one financial year:
    a fund has a few such rows a year, whatever its number of lines."""

    fund = models.ForeignKey("grants.Fund", on_delete=models.CASCADE, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.CASCADE, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.CASCADE, related_name="+", editable=False
    )
    line_count = _count_field()  # lines with an entry in the year
    awarded_line_count = _count_field()  # lines with an approved award or variation in the year
    pending_line_count = _count_field()  # lines with an award or variation awaiting approval in the year
    recorded_line_count = _count_field()  # lines with an award or variation in the year, approved or not

    class Meta:
        verbose_name = "group figures by year"
        verbose_name_plural = "group figures by year"
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "year", "funding_category", "thematic_area"],
                name="group_year_figures_are_unique",
            ),
            models.CheckConstraint(
                condition=Q(
                    line_count__gte=0,
                    awarded_line_count__gte=0,
                    pending_line_count__gte=0,
                    recorded_line_count__gte=0,
                    awarded_entries__gte=0,
                    pending_awarded_entries__gte=0,
                    pending_entries__gte=0,
                ),
                name="group_year_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return (
            f"Figures of fund {self.fund_id} in {self.year}, category {self.funding_category_id}, "
            f"area {self.thematic_area_id}"
        )
