"""What an import would do to a fund: the plan a person previews before anything is written.

`build_plan(fund, sheet, snapshot)` matches each `SheetLine` to the ledger as it stands in `snapshot`
(read by `snapshot.import_snapshot()`, a fixed number of queries) and writes nothing. Each line is new,
a changed amount (with the variation it would record) or unchanged; organisations are matched by name
or short name ignoring case, spacing and punctuation, or are to be created; anything it cannot decide
without guessing is a `Problem`. `services.allocations_import()` applies a plan only when it has none.

An office's table often names a line "Black Country Women's Aid (BCWA) Sexual Violence Service": the
organisation, its short name in brackets, then the service. When the sheet has no Service column, such
a cell is read as those three parts, so the seed report's table imports as the seed fixture holds it
(one organisation, BCWA, with two lines for two services).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from djmoney.money import Money

from grants import money
from grants.imports import NewOrganisation, Problem
from grants.imports.reading import FIELD_BY_KEY, Mapping, ParsedSheet, SheetLine, normalise
from grants.models import Fund, FundingCategory, Organisation, ThematicArea
from grants.reconciliation import FundReconciliation, Subtotal
from grants.years import FinancialYear, in_words, years_between

NAME_WITH_BRACKETS = re.compile(r"(?P<before>[^()]+?)\s*\((?P<inside>[^()]+)\)\s*(?P<after>.*)")
# A short name as offices write them: BCWA, WE:ARE, MWNUK.
SHORT_NAME = re.compile(r"[A-Z0-9][A-Z0-9&:.'/+-]{1,49}")

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


class _Organisations:
    """Organisations by their normalised name and short name, the file's new ones included."""

    def __init__(self, organisations: list[Organisation]):
        self.by_key: dict[str, list[Organisation | NewOrganisation]] = {}
        for organisation in organisations:
            self.add(organisation)

    def add(self, organisation: Organisation | NewOrganisation) -> None:
        for text in (organisation.name, organisation.short_name):
            key = normalise(text)
            if key and organisation not in self.by_key.setdefault(key, []):
                self.by_key[key].append(organisation)

    def find(self, *texts: str) -> list[Organisation | NewOrganisation]:
        found: list[Organisation | NewOrganisation] = []
        for text in texts:
            for organisation in self.by_key.get(normalise(text), []):
                if organisation not in found:
                    found.append(organisation)
        return found


def _how(cell: str, organisation: Organisation) -> str:
    keys = {normalise(part) for part in re.split(r"[()]", cell) if normalise(part)}
    by_name = normalise(organisation.name) in keys or normalise(cell) == normalise(organisation.name)
    by_short = bool(organisation.short_name) and normalise(organisation.short_name) in keys
    if by_name and by_short:
        return "name and short name"
    return "short name" if by_short else "name"


def _split_new(cell: str) -> tuple[str, str, str]:
    """(name, short name, service) for an organisation the ledger does not know yet."""
    match = NAME_WITH_BRACKETS.fullmatch(cell)
    if match:
        before, inside, after = (match.group(part).strip() for part in ("before", "inside", "after"))
        if SHORT_NAME.fullmatch(inside):
            return before, inside, after
        if SHORT_NAME.fullmatch(before) and not after:
            return inside, before, ""
    return cell, "", ""


def _kind(field_key: str) -> str:
    """How a message names a field: "thematic area", "funding category"."""
    return FIELD_BY_KEY[field_key].title.lower()


def _reference(items) -> dict[str, object]:
    by_key = {}
    for item in items:
        by_key[normalise(item.code)] = item
    for item in items:
        by_key[normalise(item.name)] = item
    return by_key


class _Texts:
    """What the file's texts for thematic areas and funding categories mean: the officer's mapping
    first, then the ledger's own names and codes, then what this fund's earlier imports were told."""

    FIELDS = ("thematic_area", "funding_category")

    def __init__(self, snapshot: LedgerSnapshot, mapping: Mapping, plan: ImportPlan):
        self.plan = plan
        self.reference = {
            "thematic_area": _reference(snapshot.thematic_areas),
            "funding_category": _reference(snapshot.funding_categories),
        }
        self.items = {
            "thematic_area": snapshot.thematic_areas,
            "funding_category": snapshot.funding_categories,
        }
        self.remembered = snapshot.value_mappings
        self.chosen: dict[str, tuple[str, str]] = {}
        for text, name in mapping.values:
            key = normalise(text)
            if not key:
                continue
            targets = self._by_name(name)
            if not any(targets.values()):
                plan.problems.append(
                    Problem(
                        f"{text!r} is mapped to {name!r}, which is neither a thematic area nor a funding "
                        f"category; the ledger has {self.names()}."
                    )
                )
                continue
            self.chosen[key] = (text, name)
        self.readings: dict[tuple[str, tuple[str, ...]], TextReading] = {}
        self.unmapped: dict[str, UnmappedText] = {}

    def _by_name(self, name: str) -> dict[str, object]:
        """What a mapping's target names: "funding_category:CODE" or "thematic_area:CODE" one field;
        "both:CODE", or a plain name or code, every field that has it ("Sexual Violence" is an area
        and a category)."""
        field_key, _, code = name.partition(":")
        if field_key == "both" and code:
            return {key: self.reference[key].get(normalise(code)) for key in self.FIELDS}
        if field_key in self.FIELDS and code:
            return {
                key: self.reference[key].get(normalise(code)) if key == field_key else None
                for key in self.FIELDS
            }
        return {field_key: self.reference[field_key].get(normalise(name)) for field_key in self.FIELDS}

    def names(self) -> str:
        return (
            f"the thematic areas {self.known('thematic_area')} and the funding categories "
            f"{self.known('funding_category')}"
        )

    def known(self, field_key: str) -> str:
        return ", ".join(item.name for item in self.items[field_key])

    def default(self, field_key: str, name: str):
        if not name:
            return None
        found = self.reference[field_key].get(normalise(name))
        if found is None:
            kind = _kind(field_key)
            known = self.known(field_key)
            self.plan.problems.append(
                Problem(
                    f"{name!r} is not a {kind} the ledger knows, so it cannot be the whole file's; it "
                    f"has {known}."
                )
            )
        return found

    def read(self, text: str, row: int, fields: tuple[str, ...], column: str, section: bool) -> dict:
        """{field: item} that `text` sets among `fields`; {} (and the text listed as unmapped) when
        nothing says what it is."""
        key = normalise(text)
        cached = self.readings.get((key, fields))
        if cached is not None:
            return self._of(cached, fields)
        reading = None
        named = {field_key: self.reference[field_key].get(key) for field_key in fields}
        if key in self.chosen:
            targets = self._by_name(self.chosen[key][1])
            reading = TextReading(text, row, targets["thematic_area"], targets["funding_category"], "chosen")
        elif any(named.values()):
            # The ledger's own names and codes come before anything remembered.
            reading = TextReading(
                text, row, named.get("thematic_area"), named.get("funding_category"), "name"
            )
        elif key in self.remembered:
            area, category, _ = self.remembered[key]
            reading = TextReading(text, row, area, category, "remembered")
        if reading is None or not self._of(reading, fields):
            if key not in self.unmapped:
                self.unmapped[key] = UnmappedText(text, row, column, fields, section)
            return {}
        self.readings[(key, fields)] = reading
        return self._of(reading, fields)

    @staticmethod
    def _of(reading: TextReading, fields: tuple[str, ...]) -> dict:
        found = {"thematic_area": reading.thematic_area, "funding_category": reading.funding_category}
        return {field_key: found[field_key] for field_key in fields if found[field_key] is not None}

    def finish(self) -> None:
        self.plan.known_names = {field_key: self.known(field_key) for field_key in self.FIELDS}
        self.plan.ledger_name_keys = frozenset(
            key for field_key in self.FIELDS for key in self.reference[field_key]
        )
        seen = set()
        for reading in self.readings.values():
            if normalise(reading.text) not in seen and reading.how != "name":
                seen.add(normalise(reading.text))
                self.plan.texts.append(reading)
        for unmapped in self.unmapped.values():
            self.plan.unmapped.append(unmapped)
            if unmapped.section:
                message = (
                    f"the section row {unmapped.text!r} names no thematic area or funding category the "
                    f"ledger knows; say what it is (the ledger has {self.names()}), or, if it is a line, "
                    "give it its amount."
                )
            else:
                kind = _kind(unmapped.fields[0])
                message = (
                    f"unknown {kind} {unmapped.text!r}; the ledger has {self.known(unmapped.fields[0])}."
                )
            self.plan.problems.append(
                Problem(message, self.plan.sheet.sheet_name, unmapped.first_row, unmapped.column)
            )


UNSAID = object()  # a section row above the line that nothing says the meaning of


def build_plan(
    fund: Fund, sheet: ParsedSheet, snapshot: LedgerSnapshot, mapping: Mapping | None = None
) -> ImportPlan:
    mapping = mapping or Mapping()
    plan = ImportPlan(
        fund=fund, sheet=sheet, mapping=mapping, problems=list(sheet.problems), before=snapshot.reconciliation
    )
    organisations = _Organisations(snapshot.organisations)
    texts = _Texts(snapshot, mapping, plan)
    defaults = {
        "thematic_area": texts.default("thematic_area", mapping.thematic_area),
        "funding_category": texts.default("funding_category", mapping.funding_category),
    }
    section_fields = tuple(key for key in _Texts.FIELDS if not sheet.has_column(key))
    existing_by_number = {line.line_number: line for line in snapshot.lines}
    existing_by_key = {
        (line.organisation_id, normalise(line.service), line.thematic_area_id, line.funding_category_id): line
        for line in snapshot.lines
    }
    existing_by_payee: dict[tuple, list[ExistingLine]] = {}
    for existing_line in snapshot.lines:
        payee = (existing_line.organisation_id, normalise(existing_line.service))
        existing_by_payee.setdefault(payee, []).append(existing_line)
    areas_by_id = {item.pk: item for item in snapshot.thematic_areas}
    categories_by_id = {item.pk: item for item in snapshot.funding_categories}
    organisations_by_id = {organisation.pk: organisation for organisation in snapshot.organisations}
    first_row_of_number: dict[int, int] = {}
    first_row_of_key: dict[tuple, int] = {}
    planned_by_key: dict[tuple, PlanLine] = {}
    spend_years = years_between(fund.spend_start, fund.spend_end)
    matched: dict[int, OrganisationMatch] = {}
    missing: dict[str, list[int]] = {"thematic_area": [], "funding_category": []}

    def problem(line: SheetLine, column: str, message: str) -> None:
        plan.problems.append(Problem(message, sheet.sheet_name, line.row, sheet.column(column)))

    # The section rows above the line, outermost first, each with what it sets. A row setting a field
    # that an open row set closes that row and every row opened under it ("Sexual Violence Support"
    # after "Domestic Abuse" and its "Non-commissioned"); a row setting none of them opens under
    # them ("Commissioned" under "Domestic Abuse").
    open_sections: list[dict[str, object]] = []
    in_force: dict[str, object] = {}
    sections = iter(sheet.sections)
    section = next(sections, None)
    for line in sheet.lines:
        while section is not None and section.row < line.row:
            found = texts.read(section.text, section.row, section_fields, section.column, section=True)
            sets = found or dict.fromkeys(section_fields, UNSAID)
            closing = [index for index, opened in enumerate(open_sections) if set(opened) & set(sets)]
            if closing:
                del open_sections[closing[0] :]
            open_sections.append(sets)
            in_force = {key: value for opened in open_sections for key, value in opened.items()}
            section = next(sections, None)
        count_before = len(plan.problems)
        chosen = {}
        for key in _Texts.FIELDS:
            if sheet.has_column(key):
                text = getattr(line, key)
                chosen[key] = texts.read(text, line.row, (key,), sheet.column(key), section=False).get(key)
            elif in_force.get(key) is UNSAID:
                chosen[key] = None
            elif key in in_force:
                chosen[key] = in_force[key]
            elif defaults[key] is not None:
                chosen[key] = defaults[key]
            else:
                chosen[key] = None
                missing[key].append(line.row)
        theme, category = chosen["thematic_area"], chosen["funding_category"]
        if line.years:
            _check_years(line, fund, spend_years, snapshot.profile_years, plan, problem)
        resolved = _resolve_organisation(line, organisations, plan, problem)
        if resolved is None or theme is None or category is None or len(plan.problems) > count_before:
            continue
        organisation, service = resolved
        if not isinstance(organisation, NewOrganisation) and organisation.pk not in matched:
            matched[organisation.pk] = OrganisationMatch(
                line.organisation, organisation, _how(line.organisation, organisation)
            )

        identity = organisation.name if isinstance(organisation, NewOrganisation) else organisation.pk
        key = (type(organisation).__name__, identity, normalise(service), theme.pk, category.pk)
        if sheet.has_column("year") and key in first_row_of_key:
            # A table with a Year column gives a line's years in rows of their own.
            if key in planned_by_key:
                _merge_year_row(planned_by_key[key], line, problem)
            continue
        if line.line_number is not None:
            if line.line_number in first_row_of_number:
                problem(
                    line,
                    "number",
                    f"line {line.line_number} appears twice in the file (first in row "
                    f"{first_row_of_number[line.line_number]}).",
                )
                continue
            first_row_of_number[line.line_number] = line.row
        if key in first_row_of_key:
            described = f"{organisation.name}, {service}" if service else organisation.name
            problem(
                line,
                "organisation",
                f"{described} appears twice in the file (first in row {first_row_of_key[key]}) with the same "
                "thematic area and funding category; a fund has one line per organisation and service in "
                "each.",
            )
            continue
        first_row_of_key[key] = line.row

        planned = PlanLine(
            row=line.row,
            line_number=line.line_number,
            action=NEW,
            organisation=organisation,
            service=service,
            thematic_area=theme,
            funding_category=category,
            amount=line.amount,
            source_text=line.organisation,
            effective_date=line.effective_date,
            notes=line.notes,
            years=dict(line.years),
            year_rows={year: line.row for year, _ in line.years},
            year_dates={line.years[0][0]: line.effective_date} if line.years and line.effective_date else {},
        )
        by_key = existing_by_key.get(key[1:]) if not isinstance(organisation, NewOrganisation) else None
        if line.line_number is None:
            existing = by_key
            if existing is not None:
                planned.line_number = existing.line_number
            elif not isinstance(organisation, NewOrganisation) and (
                others := existing_by_payee.get((organisation.pk, normalise(service)))
            ):
                # Without numbers, a second line for the same payee cannot be told from this file
                # reading an existing line under another area or category: say so, never guess.
                held = "; ".join(
                    f"line {other.line_number} under {areas_by_id[other.thematic_area_id].name} / "
                    f"{categories_by_id[other.funding_category_id].name}"
                    for other in others
                )
                problem(
                    line,
                    "organisation",
                    f"{planned.label} is already in this fund ({held}), and this file puts it under "
                    f"{theme.name} / {category.name}. Correct the line in the ledger, or give the file's "
                    "lines their numbers to add a second line.",
                )
                continue
        else:
            existing = existing_by_number.get(line.line_number)
        if existing is not None:
            same_line = (
                not isinstance(organisation, NewOrganisation)
                and existing.organisation_id == organisation.pk
                and normalise(existing.service) == normalise(service)
            )
            if not same_line:
                recorded = organisations_by_id[existing.organisation_id].name
                recorded += f", {existing.service}" if existing.service else ""
                problem(
                    line,
                    "number",
                    f"line {line.line_number} of this fund is {recorded} in the ledger, not {planned.label}; "
                    "an import does not renumber or replace lines.",
                )
                continue
            if (existing.thematic_area_id, existing.funding_category_id) != (theme.pk, category.pk):
                problem(
                    line,
                    "funding_category",
                    f"line {line.line_number} is recorded with a different thematic area or funding "
                    "category; an import changes amounts only, so correct the line first.",
                )
                continue
            planned.allocation_id = existing.allocation_id
            planned.current = existing.awarded
            planned.action = UNCHANGED if existing.awarded == line.amount else CHANGED
        elif by_key is not None:
            problem(
                line,
                "number",
                f"{planned.label} is already line {by_key.line_number} of this fund, not line "
                f"{line.line_number}.",
            )
            continue
        plan.lines.append(planned)
        planned_by_key[key] = planned

    texts.finish()
    _plan_years(plan, fund, snapshot)
    _report_missing(plan, missing, sheet)
    _number_new_lines(plan, snapshot)
    plan.matched_organisations = sorted(matched.values(), key=lambda match: match.organisation.name)
    file_numbers = {line.line_number for line in plan.lines}
    plan.kept_line_count = sum(1 for line in snapshot.lines if line.line_number not in file_numbers)
    plan.problems.sort(key=lambda problem: (problem.row or 0, problem.column))
    plan.after = _projected(plan)
    return plan


def _check_years(line: SheetLine, fund: Fund, spend_years, profile_years, plan: ImportPlan, problem) -> None:
    """Each year the line has an amount for must be one of the fund's: in its spend period and, for a
    fund with a profile, in the profile; a date the row gives must be in the year it is for."""
    sheet = plan.sheet
    for year, _ in line.years:
        if year not in spend_years:
            labels = ", ".join(item.label for item in spend_years)
            message = (
                f"{year.label} is outside the fund's spend period ({in_words(fund.spend_start)} to "
                f"{in_words(fund.spend_end)}: {labels}); the line cannot have an amount for it."
            )
        elif profile_years and year.start_year not in profile_years:
            labels = ", ".join(FinancialYear(start).label for start in sorted(profile_years))
            message = (
                f"the fund's profile has no control total for {year.label} (it has {labels}); add the year "
                "to the fund's profile first, or correct the file."
            )
        else:
            continue
        plan.problems.append(Problem(message, sheet.sheet_name, line.row, sheet.year_column(year)))
    first_year = line.years[0][0]
    if line.effective_date is not None and line.effective_date not in first_year:
        what = "the year of its amount" if sheet.has_column("year") else "the first year it has an amount in"
        problem(
            line,
            "award_date",
            f"the award date {in_words(line.effective_date)} is not in {first_year.label}, {what}; its "
            f"entry is dated in that year ({in_words(first_year.start)} to {in_words(first_year.end)}).",
        )


def _merge_year_row(planned: PlanLine, line: SheetLine, problem) -> None:
    """A further row of a table with a Year column for a line already planned: its year's amount."""
    ((year, amount),) = line.years
    if year in planned.years:
        problem(
            line,
            "year",
            f"{planned.label} appears twice for {year.label}, in rows {planned.year_rows[year]} and "
            f"{line.row}; a line has one amount a year.",
        )
        return
    if line.line_number is not None and line.line_number != planned.line_number:
        problem(
            line,
            "number",
            f"{planned.label} is line {planned.line_number} in row {planned.row}, and line "
            f"{line.line_number} here; a line keeps its number in every year.",
        )
        return
    planned.years[year] = amount
    planned.year_rows[year] = line.row
    if line.effective_date is not None:
        planned.year_dates[year] = line.effective_date


def _plan_years(plan: ImportPlan, fund: Fund, snapshot: LedgerSnapshot) -> None:
    """A table by year: each line's entries. A new line's first year with an amount is its award and
    each later year a variation of that year's size; a line in the ledger gets a variation for each
    year the file covers whose amount differs from the ledger's (an empty year in the file is £0.00
    that year), and years the file does not cover stay as they are. Each entry is dated at the later
    of its year's start and the fund's spend start, or on the date its row gives."""
    if not plan.sheet.by_year:
        return
    plan.years = list(plan.sheet.years)
    nothing = money.zero()
    for line in plan.lines:
        line.amount = money.total(money.gbp(amount) for amount in line.years.values()).amount
        dates = {year: line.year_dates.get(year) or max(year.start, fund.spend_start) for year in plan.years}
        line.by_year = [line.years.get(year) for year in plan.years]
        if line.allocation_id is None:
            line.entries = [(year, amount, dates[year]) for year, amount in sorted(line.years.items())]
            continue
        line.current_years = {
            FinancialYear(start): amount
            for start, amount in sorted(snapshot.years_by_line.get(line.allocation_id, {}).items())
        }
        changes = []
        for year in plan.years:
            in_file = money.gbp(line.years[year]) if year in line.years else nothing
            in_ledger = money.gbp(line.current_years[year]) if year in line.current_years else nothing
            change = money.difference(in_file, in_ledger)
            if change.amount:
                changes.append((year, change.amount, dates[year]))
        line.entries = changes
        line.action = CHANGED if changes else UNCHANGED


def _report_missing(plan: ImportPlan, missing: dict[str, list[int]], sheet: ParsedSheet) -> None:
    """One problem for each of thematic area and funding category that some lines lack."""
    plan.lacking = {key: rows for key, rows in missing.items() if rows}
    for key, rows in plan.lacking.items():
        kind = _kind(key)
        shown = ", ".join(str(row) for row in rows[:5]) + (", ..." if len(rows) > 5 else "")
        lines = (
            f"{len(rows)} line{'s' if len(rows) != 1 else ''} (row{'s' if len(rows) != 1 else ''} {shown})"
        )
        why = f"the file has no {kind} column"
        if sheet.sections:
            why += ", and no section row above them names one"
        plan.problems.append(
            Problem(
                f"{lines} {'have' if len(rows) != 1 else 'has'} no {kind}: {why}. Choose a {kind} for the "
                "whole file.",
                sheet.sheet_name,
                rows[0],
            )
        )


def _number_new_lines(plan: ImportPlan, snapshot: LedgerSnapshot) -> None:
    """A file without line numbers: its new lines follow the fund's last line, in file order."""
    taken = [line.line_number for line in snapshot.lines] + [
        line.line_number for line in plan.lines if line.line_number is not None
    ]
    following = max(taken, default=0)
    for line in plan.lines:
        if line.line_number is None:
            following += 1
            line.line_number = following
            line.numbered_by_ledger = True


def _resolve_organisation(line: SheetLine, organisations: _Organisations, plan: ImportPlan, problem):
    """(organisation, service) for the line's Organisation cell, or None after reporting a problem."""
    cell = line.organisation
    found = organisations.find(cell)
    service = line.service
    if not found:
        match = NAME_WITH_BRACKETS.fullmatch(cell)
        if match:
            found = organisations.find(match.group("before"), match.group("inside"))
            service = service or match.group("after").strip()
    if len(found) > 1:
        names = "; ".join(str(organisation) for organisation in found)
        problem(
            line,
            "organisation",
            f"{cell!r} could be any of several organisations ({names}); use the full name as the "
            "ledger has it.",
        )
        return None
    if found:
        return found[0], service
    name, short_name, service_in_name = _split_new(cell)
    if len(name) > Organisation._meta.get_field("name").max_length:
        problem(line, "organisation", "the organisation name is longer than 300 characters.")
        return None
    organisation = NewOrganisation(name=name, short_name=short_name, first_row=line.row)
    organisations.add(organisation)
    plan.new_organisations.append(organisation)
    return organisation, line.service or service_in_name


def _projected(plan: ImportPlan) -> FundReconciliation | None:
    """The fund's reconciliation once the plan is applied, from the current one and the plan's changes."""
    before = plan.before
    if before is None:
        return None
    changes = [
        (line, money.gbp(line.amount) if line.action == NEW else line.change)
        for line in plan.lines
        if line.action != UNCHANGED
    ]

    def regrouped(rows: list[Subtotal], attribute: str) -> list[Subtotal]:
        amounts = {row.code: [row.amount] for row in rows}
        counts = {row.code: row.line_count for row in rows}
        names = {row.code: row.name for row in rows}
        budgets = {row.code: row.budget for row in rows}
        order = [row.code for row in rows]
        for line, change in changes:
            item = getattr(line, attribute)
            if item.code not in amounts:
                amounts[item.code], counts[item.code], names[item.code] = [], 0, item.name
                budgets[item.code] = None
                order.append(item.code)
            amounts[item.code].append(change)
            counts[item.code] += 1 if line.action == NEW else 0
        return [
            Subtotal(
                code=code,
                name=names[code],
                amount=money.total(amounts[code]),
                line_count=counts[code],
                budget=budgets[code],
            )
            for code in order
        ]

    return FundReconciliation(
        fund_code=before.fund_code,
        fund_name=before.fund_name,
        control_total=before.control_total,
        ledger_total=money.total([before.ledger_total, *(change for _, change in changes)]),
        line_count=before.line_count + len(plan.new_lines),
        by_category=regrouped(before.by_category, "funding_category"),
        by_thematic_area=regrouped(before.by_thematic_area, "thematic_area"),
    )
