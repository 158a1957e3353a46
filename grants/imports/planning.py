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

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from djmoney.money import Money

from grants import money
from grants.imports import NewOrganisation, Problem
from grants.imports.reading import ParsedSheet, SheetLine, normalise
from grants.models import Fund, FundingCategory, Organisation, ThematicArea
from grants.reconciliation import FundReconciliation, Subtotal

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


@dataclass(frozen=True)
class OrganisationMatch:
    cell: str
    organisation: Organisation
    how: str  # "name", "short name", "name and short name"


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

    @property
    def change(self) -> Money | None:
        """The variation an amount change records: new amount minus current."""
        if self.current is None:
            return None
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
    lines: list[PlanLine] = field(default_factory=list)
    new_organisations: list[NewOrganisation] = field(default_factory=list)
    matched_organisations: list[OrganisationMatch] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept_line_count: int = 0
    before: FundReconciliation | None = None
    after: FundReconciliation | None = None

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
    def stated_total_differs(self) -> bool:
        stated = self.sheet.stated_total
        return stated is not None and not self.problems and money.gbp(stated) != self.sheet_total

    @property
    def digest(self) -> str:
        """A fingerprint of what confirming would do: confirming refuses if it has changed since."""
        record = {
            "file": self.sheet.sha256,
            "fund": self.fund.code,
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


def _reference(items) -> dict[str, object]:
    by_key = {}
    for item in items:
        by_key[normalise(item.code)] = item
    for item in items:
        by_key[normalise(item.name)] = item
    return by_key


def build_plan(fund: Fund, sheet: ParsedSheet, snapshot: LedgerSnapshot) -> ImportPlan:
    plan = ImportPlan(fund=fund, sheet=sheet, problems=list(sheet.problems), before=snapshot.reconciliation)
    organisations = _Organisations(snapshot.organisations)
    themes = _reference(snapshot.thematic_areas)
    categories = _reference(snapshot.funding_categories)
    existing_by_number = {line.line_number: line for line in snapshot.lines}
    existing_by_key = {(line.organisation_id, normalise(line.service)): line for line in snapshot.lines}
    organisations_by_id = {organisation.pk: organisation for organisation in snapshot.organisations}
    first_row_of_number: dict[int, int] = {}
    first_row_of_key: dict[tuple, int] = {}
    matched: dict[int, OrganisationMatch] = {}

    def problem(line: SheetLine, column: str, message: str) -> None:
        plan.problems.append(Problem(message, sheet.sheet_name, line.row, sheet.column(column)))

    for line in sheet.lines:
        count_before = len(plan.problems)
        theme = themes.get(normalise(line.thematic_area))
        if theme is None:
            known = ", ".join(item.name for item in snapshot.thematic_areas)
            problem(
                line,
                "thematic_area",
                f"unknown thematic area {line.thematic_area!r}; the ledger has {known}.",
            )
        category = categories.get(normalise(line.funding_category))
        if category is None:
            known = ", ".join(item.name for item in snapshot.funding_categories)
            problem(
                line,
                "funding_category",
                f"unknown funding category {line.funding_category!r}; the ledger has {known}.",
            )
        resolved = _resolve_organisation(line, organisations, plan, problem)
        if resolved is None or len(plan.problems) > count_before:
            continue
        organisation, service = resolved
        if not isinstance(organisation, NewOrganisation) and organisation.pk not in matched:
            matched[organisation.pk] = OrganisationMatch(
                line.organisation, organisation, _how(line.organisation, organisation)
            )

        if line.line_number in first_row_of_number:
            problem(
                line,
                "line_number",
                f"line {line.line_number} appears twice in the file (first in row "
                f"{first_row_of_number[line.line_number]}).",
            )
            continue
        first_row_of_number[line.line_number] = line.row
        identity = organisation.name if isinstance(organisation, NewOrganisation) else organisation.pk
        key = (type(organisation).__name__, identity, normalise(service))
        if key in first_row_of_key:
            described = f"{organisation.name}, {service}" if service else organisation.name
            problem(
                line,
                "organisation",
                f"{described} appears twice in the file (first in row {first_row_of_key[key]}); a fund has "
                "one line per organisation and service.",
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
        )
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
                    "line_number",
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
        elif (other := existing_by_key.get(key[1:])) is not None:
            problem(
                line,
                "line_number",
                f"{planned.label} is already line {other.line_number} of this fund, not line "
                f"{line.line_number}.",
            )
            continue
        plan.lines.append(planned)

    plan.matched_organisations = sorted(matched.values(), key=lambda match: match.organisation.name)
    file_numbers = {line.line_number for line in plan.lines}
    plan.kept_line_count = sum(1 for line in snapshot.lines if line.line_number not in file_numbers)
    plan.problems.sort(key=lambda problem: (problem.row or 0, problem.column))
    plan.after = _projected(plan)
    return plan


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
