"""`build_plan`: each line of the sheet matched to the ledger as new, changed or unchanged, and the
fund's reconciliation once the plan is applied."""

from __future__ import annotations

from grants import money
from grants.imports import NewOrganisation, Problem
from grants.imports.planning.organisations import _how, _Organisations, _resolve_organisation
from grants.imports.planning.plan import (
    CHANGED,
    NEW,
    UNCHANGED,
    ExistingLine,
    ImportPlan,
    LedgerSnapshot,
    OrganisationMatch,
    PlanLine,
)
from grants.imports.planning.texts import _report_missing, _Texts
from grants.imports.planning.years import _check_year_totals, _check_years, _merge_year_row, _plan_years
from grants.imports.reading import Mapping, ParsedSheet, SheetLine, normalise
from grants.models import Fund
from grants.reconciliation import FundReconciliation, Subtotal
from grants.years import years_between

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
    _check_year_totals(plan)
    _report_missing(plan, missing, sheet)
    _number_new_lines(plan, snapshot)
    plan.matched_organisations = sorted(matched.values(), key=lambda match: match.organisation.name)
    file_numbers = {line.line_number for line in plan.lines}
    plan.kept_line_count = sum(1 for line in snapshot.lines if line.line_number not in file_numbers)
    plan.problems.sort(key=lambda problem: (problem.row or 0, problem.column))
    plan.after = _projected(plan)
    return plan


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
