"""The plan an import would carry out, line by line, and the ledger it is checked against."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from djmoney.money import Money

from grants import money
from grants.imports import NewOrganisation, Problem
from grants.imports.reading import Mapping, ParsedSheet, normalise
from grants.models import Fund, FundingCategory, Organisation, ThematicArea
from grants.reconciliation import FundReconciliation
from grants.services.limits import LineLimits
from grants.years import FinancialYear

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


@dataclass(frozen=True)
class ExistingLine:
    allocation_id: int
    line_number: int
    organisation_id: int
    service: str
    thematic_area_id: int
    funding_category_id: int
    awarded: Decimal


@dataclass
class LedgerSnapshot:
    """What the plan is checked against, read in a fixed number of queries."""

    organisations: list[Organisation]
    thematic_areas: list[ThematicArea]
    funding_categories: list[FundingCategory]
    lines: list[ExistingLine]
    reconciliation: FundReconciliation
    # What this fund's earlier imports were told a text means: its normalised text -> (thematic
    # area or None, funding category or None, the text as first printed).
    value_mappings: dict[str, tuple[ThematicArea | None, FundingCategory | None, str]] = field(
        default_factory=dict
    )
    # Read only for a table by year: the years of the fund's profile (start years), and each line's
    # amount (approved or awaiting approval) in each year it has entries dated in.
    profile_years: frozenset[int] = frozenset()
    years_by_line: dict[int, dict[int, Decimal]] = field(default_factory=dict)
    # Read only for a table by year: each line's award and payments as its limits count them
    # (`grants.services.limits`), so the preview says what the service would refuse.
    limits_by_line: dict[int, LineLimits] = field(default_factory=dict)


@dataclass(frozen=True)
class OrganisationMatch:
    cell: str
    organisation: Organisation
    how: str  # "name", "short name", "name and short name"


@dataclass(frozen=True)
class TextReading:
    """A text of the file (in a thematic area or category column, or a section row) and what it was
    read as: `how` is "chosen" (the officer mapped it now), "remembered" (an earlier import of this
    fund was told) or "name" (it is the ledger's name or code)."""

    text: str
    first_row: int
    thematic_area: ThematicArea | None
    funding_category: FundingCategory | None
    how: str

    @property
    def meaning(self) -> str:
        parts = []
        if self.thematic_area is not None:
            parts.append(f"thematic area {self.thematic_area.name}")
        if self.funding_category is not None:
            parts.append(f"funding category {self.funding_category.name}")
        return " and ".join(parts)


@dataclass(frozen=True)
class UnmappedText:
    """A text the file uses for a thematic area or funding category that matches nothing in the
    ledger: the officer says once what it is. `fields` are those it may set."""

    text: str
    first_row: int
    column: str
    fields: tuple[str, ...]
    section: bool


@dataclass
class PlanLine:
    row: int
    line_number: int
    action: str
    organisation: Organisation | NewOrganisation
    service: str
    thematic_area: ThematicArea
    funding_category: FundingCategory
    amount: Decimal
    source_text: str
    effective_date: object = None
    current: Decimal | None = None
    allocation_id: int | None = None
    notes: str = ""
    numbered_by_ledger: bool = False  # the file has no line numbers: the ledger chose this one
    # A table by year: the file's amount for each year that has one, the row each came from, and a
    # date a row gives for its year's entry.
    years: dict[FinancialYear, Decimal] = field(default_factory=dict)
    year_rows: dict[FinancialYear, int] = field(default_factory=dict)
    year_dates: dict[FinancialYear, datetime.date] = field(default_factory=dict)
    # The ledger's amount for each year the line has entries in (approved or awaiting approval).
    current_years: dict[FinancialYear, Decimal] = field(default_factory=dict)
    # What the import records, in order, as (year, amount, date): for a new line its award (its first
    # year) and a variation for each later year; for a changed one a variation for each changed year.
    entries: list[tuple[FinancialYear, Decimal, datetime.date]] = field(default_factory=list)
    by_year: list[Decimal | None] = field(default_factory=list)  # the file's amounts, in `plan.years` order

    @property
    def change(self) -> Money | None:
        """The variation an amount change records: new amount minus current (by year, their sum)."""
        if self.current is None:
            return None
        if self.years:
            return money.total(money.gbp(amount) for _, amount, _ in self.entries)
        return money.difference(money.gbp(self.amount), money.gbp(self.current))

    @property
    def organisation_is_new(self) -> bool:
        return isinstance(self.organisation, NewOrganisation)

    @property
    def label(self) -> str:
        name = self.organisation.name
        return f"{name}, {self.service}" if self.service else name


@dataclass
class ImportPlan:
    fund: Fund
    sheet: ParsedSheet
    mapping: Mapping = field(default_factory=Mapping)
    lines: list[PlanLine] = field(default_factory=list)
    texts: list[TextReading] = field(default_factory=list)
    unmapped: list[UnmappedText] = field(default_factory=list)
    ledger_name_keys: frozenset[str] = frozenset()
    # The rows of lines that name no thematic area or funding category (and nothing said one), by field.
    lacking: dict[str, list[int]] = field(default_factory=dict)
    # The ledger's thematic areas' and funding categories' names, by field, as messages list them.
    known_names: dict[str, str] = field(default_factory=dict)
    new_organisations: list[NewOrganisation] = field(default_factory=list)
    matched_organisations: list[OrganisationMatch] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept_line_count: int = 0
    before: FundReconciliation | None = None
    after: FundReconciliation | None = None
    years: list[FinancialYear] = field(default_factory=list)  # a table by year: the years it covers

    @property
    def year_totals(self) -> list[tuple[FinancialYear, Money]]:
        """A table by year: the lines' sum for each year it covers."""
        return [
            (year, money.total(money.gbp(line.years.get(year, Decimal("0.00"))) for line in self.lines))
            for year in self.years
        ]

    @property
    def new_lines(self) -> list[PlanLine]:
        return [line for line in self.lines if line.action == NEW]

    @property
    def changed_lines(self) -> list[PlanLine]:
        return [line for line in self.lines if line.action == CHANGED]

    @property
    def unchanged_lines(self) -> list[PlanLine]:
        return [line for line in self.lines if line.action == UNCHANGED]

    @property
    def changes_nothing(self) -> bool:
        return not self.problems and not self.new_lines and not self.changed_lines

    @property
    def sheet_total(self) -> Money:
        return money.total(money.gbp(line.amount) for line in self.lines)

    @property
    def stated_total(self) -> Money | None:
        stated = self.sheet.stated_total
        return None if stated is None else money.gbp(stated)

    @property
    def stated_total_difference(self) -> Money | None:
        """The lines' sum minus the total the file states (the seed's lines are 29p over theirs)."""
        stated = self.stated_total
        return None if stated is None else money.difference(self.sheet_total, stated)

    @property
    def stated_total_differs(self) -> bool:
        stated = self.stated_total
        return stated is not None and not self.problems and stated != self.sheet_total

    @property
    def chosen_texts(self) -> list[TextReading]:
        """The texts the officer mapped for this import."""
        return [text for text in self.texts if text.how == "chosen"]

    @property
    def texts_to_remember(self) -> list[TextReading]:
        """The chosen texts confirming keeps for the fund: not those that are a ledger name or code
        already, which every import reads as the ledger has them."""
        return [text for text in self.chosen_texts if normalise(text.text) not in self.ledger_name_keys]

    @property
    def digest(self) -> str:
        """A fingerprint of what confirming would do: confirming refuses if it has changed since."""
        record = {
            "file": self.sheet.sha256,
            "fund": self.fund.code,
            "mapping": self.mapping.as_record(),
            "new_organisations": [[org.name, org.short_name] for org in self.new_organisations],
            # The preview shows the reconciliation after the import: lines entered meanwhile change it.
            "ledger_before": [
                money.as_string(self.before.ledger_total) if self.before else None,
                self.kept_line_count,
            ],
            "lines": [
                [
                    line.line_number,
                    line.action,
                    f"new:{line.organisation.name}" if line.organisation_is_new else line.organisation.pk,
                    line.service,
                    line.thematic_area.code,
                    line.funding_category.code,
                    money.as_string(money.gbp(line.amount)),
                    None if line.current is None else money.as_string(money.gbp(line.current)),
                    line.notes,
                    [
                        [year.label, money.as_string(money.gbp(amount)), date.isoformat()]
                        for year, amount, date in line.entries
                    ],
                ]
                for line in self.lines
            ],
        }
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
