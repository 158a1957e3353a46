"""What `import_allocations` says about a file, as text for a person and as JSON for a script.

One `ImportReport` holds everything known after a preview, an import or a refusal: the plan where
the file could be read, the import's result where it was applied, and the problems that refused it.
Both formats are made from it, so they cannot say different things. Amounts in JSON are strings with
two decimals (`money.as_string`), or null where there is none.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from django.utils import timezone
from djmoney.money import Money

from grants import money
from grants.imports import Problem
from grants.imports.planning import CHANGED, NEW, ImportPlan, PlanLine, UnmappedText
from grants.imports.reading import Mapping, SubtotalRow
from grants.models import Fund
from grants.services.imports import ImportResult
from grants.years import in_words

NUMBERED_BY_LEDGER = "*"
NOT_PROJECTED = {"pending_total", "pending_line_count", "by_organisation"}


def _amount(value: Money | None) -> str | None:
    return None if value is None else money.as_string(value)


def quoted(argument: str) -> str:
    """An argument as a person types it in a POSIX shell: in double quotes unless that would change it."""
    if any(character in argument for character in '"$`\\!'):
        return shlex.quote(argument)
    return f'"{argument}"'


@dataclass
class ImportReport:
    fund: Fund
    file_name: str
    sha256: str
    mapping: Mapping
    dry_run: bool
    plan: ImportPlan | None = None
    result: ImportResult | None = None
    refused: list[Problem] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return not self.refused and self.result is not None and self.result.record is not None

    # What the officer can add to the command line.

    def value_choices(self, unmapped: UnmappedText) -> str:
        parts = []
        if "thematic_area" in unmapped.fields:
            parts.append(f"the thematic areas {self._names('thematic_area')}")
        if "funding_category" in unmapped.fields:
            parts.append(f"the funding categories {self._names('funding_category')}")
        return " or ".join(parts)

    def _names(self, key: str) -> str:
        return self.plan.known_names[key]

    @staticmethod
    def value_hint(unmapped: UnmappedText) -> str:
        return f"--value {quoted(f'{unmapped.text}=NAME')}"

    def hints(self) -> list[str]:
        if self.plan is None:
            return []
        hints = [
            f"  {self.value_hint(unmapped)}   (row {unmapped.first_row}; NAME is one of "
            f"{self.value_choices(unmapped)})"
            for unmapped in self.plan.unmapped
        ]
        sheet = self.plan.sheet
        for key, option in (("thematic_area", "--thematic-area"), ("funding_category", "--funding-category")):
            if self.plan.lacking.get(key) and not sheet.has_column(key) and not getattr(self.mapping, key):
                hints.append(
                    f"  {option} NAME   (for the lines that name none; NAME is one of {self._names(key)})"
                )
        return hints

    # Text.

    def refusal_lines(self) -> list[str]:
        count = len(self.refused)
        lines = [f"{self.file_name} was not imported ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  {problem}" for problem in self.refused]
        if self.plan is not None:
            lines += self.column_lines()
        hints = self.hints()
        if hints:
            lines.append("To say what the file does not, add:")
            lines += hints
        lines.append("Nothing was written.")
        return lines

    def refusal_summary(self) -> str:
        count = len(self.refused)
        problems = f"{count} problem{'s' if count != 1 else ''}"
        return f"{self.file_name} was not imported ({problems}); nothing was written."

    def column_lines(self) -> list[str]:
        sheet = self.plan.sheet
        lines = [f"Columns read (header row {sheet.header_row}):"]
        headings = [
            f'"{_shortened(column.heading)}"' if column.heading else "(no heading)"
            for column in sheet.columns
        ]
        width = max((len(heading) for heading in headings), default=0)
        for column, heading in zip(sheet.columns, headings, strict=True):
            how = "as --column says" if column.how == "chosen" else column.how
            how = f" ({how})" if how else ""
            lines.append(f"  {column.letter:>2}  {heading:<{width}}  {column.title}{how}")
        return lines

    def text_lines(self) -> list[str]:
        plan = self.plan
        sheet = plan.sheet
        done = self.written
        verb = {NEW: "added" if done else "new", CHANGED: "changed" if done else "change"}
        lines = [
            f"{sheet.file_name}: sheet {sheet.sheet_name!r}, read as {sheet.layout}, "
            f"{_lines(len(plan.lines))} (SHA-256 {sheet.sha256}).",
            *self.column_lines(),
        ]
        for reading in plan.texts:
            how = "as you said" if reading.how == "chosen" else "as an earlier import of this fund was told"
            lines.append(f'Read "{reading.text}" (row {reading.first_row}) as {reading.meaning}, {how}.')
        for line in plan.lines:
            lines.append(_line_text(line, verb))
        if any(line.numbered_by_ledger for line in plan.lines):
            lines.append(
                f"{NUMBERED_BY_LEDGER} numbered by the ledger: the file has no line numbers, so its new "
                "lines follow the fund's last line."
            )
        for organisation in plan.new_organisations:
            lines.append(f"Organisation {'created' if done else 'to create'}: {organisation}")
        for match in plan.matched_organisations:
            lines.append(f'Organisation matched by {match.how}: "{match.cell}" is {match.organisation}')
        if plan.kept_line_count:
            lines.append(
                f"{plan.kept_line_count} line(s) of the fund are not in the file and stay as they are."
            )
        lines.append(self.total_text())
        if plan.years:
            lines.append(f"By year: {_years_text(plan.year_totals)}.")
        lines += [subtotal_text(subtotal) for subtotal in sheet.subtotals]
        after = plan.after
        when = "now" if done else "after the import"
        lines.append(
            f"Reconciliation {when}: ledger {money.format_gbp(after.ledger_total)} "
            f"({_lines(after.line_count)}) against control {money.format_gbp(after.control_total)}: "
            f"{after.status}. {after.variance_in_words}"
        )
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        elif done:
            lines.append(f"Imported {self.file_name} (SHA-256 {self.result.record.sha256}).")
        else:
            lines.append(self.nothing_to_change())
        return lines

    def total_text(self) -> str:
        plan = self.plan
        sheet = plan.sheet
        summed = money.format_gbp(plan.sheet_total)
        stated = plan.stated_total
        if stated is None:
            if sheet.stated_totals_ignored:
                found = ", ".join(
                    f"{money.format_gbp(money.gbp(amount))} in row {row}"
                    for row, amount in sheet.stated_totals_ignored
                )
                return (
                    f"The file states more than one total ({found}), so none is checked; its lines add up "
                    f"to {summed}."
                )
            return f"The file states no total; its lines add up to {summed}."
        said = (
            f"The file states {money.format_gbp(stated)} ({sheet.stated_total_source}); its lines add up to"
        )
        difference = plan.stated_total_difference
        if difference.amount == 0:
            return f"{said} the same."
        more = "more" if difference.amount > 0 else "less"
        briefly = money.format_gbp_briefly(difference)
        return f"{said} {summed}: {briefly} {more}. The lines are imported as they are."

    def nothing_to_change(self) -> str:
        message = "Nothing to change: every line in the file already matches the ledger."
        previous = self.result.previous
        if previous is not None:
            by = previous.imported_by
            imported_at = timezone.localtime(previous.imported_at)
            message += (
                f" This file was imported on {in_words(imported_at)} at {imported_at:%H:%M}"
                f"{f' by {by.get_username()}' if by else ''}."
            )
        return message

    # JSON.

    def as_dict(self) -> dict:
        plan = self.plan
        sheet = plan.sheet if plan is not None else None
        complete = plan is not None and not self.refused
        data = {
            "fund": self.fund.code,
            "file": self.file_name,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "mapping": self.mapping.as_record(),
            "sheet": sheet.sheet_name if sheet else None,
            "sheet_names": sheet.sheet_names if sheet else [],
            "layout": sheet.layout if sheet else None,
            "header_row": sheet.header_row if sheet else None,
            "columns": [
                {
                    "letter": column.letter,
                    "heading": column.heading,
                    "read_as": column.key or "ignore",
                    "how": column.how,
                }
                | ({"year": column.year.label} if column.year is not None else {})
                for column in (sheet.columns if sheet else [])
            ],
            # A refused file's lines are those read without a problem: their count and sum are not the file's.
            "line_count": len(plan.lines) if complete else None,
            "total": _amount(plan.sheet_total) if complete else None,
            "stated_total": _amount(plan.stated_total) if plan else None,
            "stated_total_source": (sheet.stated_total_source or None) if sheet else None,
            "stated_totals_ignored": [
                {"row": row, "amount": money.as_string(money.gbp(amount))}
                for row, amount in (sheet.stated_totals_ignored if sheet else [])
            ],
            "difference": _amount(plan.stated_total_difference) if complete else None,
            # A table by year: the lines' sum for each year it covers ([] for a table of single amounts).
            "years": [
                {"year": year.label, "total": money.as_string(total)}
                for year, total in (plan.year_totals if complete else [])
            ],
            "subtotals": [
                {
                    "row": subtotal.row,
                    "label": subtotal.label,
                    "amount": None
                    if subtotal.amount is None
                    else money.as_string(money.gbp(subtotal.amount)),
                    "lines_sum": money.as_string(money.gbp(subtotal.lines_sum)),
                }
                for subtotal in (sheet.subtotals if sheet else [])
            ],
            "problems": [
                {
                    "sheet": problem.sheet or None,
                    "row": problem.row,
                    "column": problem.column or None,
                    "message": problem.message,
                }
                for problem in self.refused
            ],
            "unmapped": [
                {
                    "text": unmapped.text,
                    "row": unmapped.first_row,
                    "column": unmapped.column or None,
                    "fields": list(unmapped.fields),
                    "section_row": unmapped.section,
                    "hint": self.value_hint(unmapped),
                }
                for unmapped in (plan.unmapped if plan else [])
            ],
            "texts": [
                {
                    "text": reading.text,
                    "row": reading.first_row,
                    "thematic_area": reading.thematic_area.name if reading.thematic_area else None,
                    "funding_category": reading.funding_category.name if reading.funding_category else None,
                    "how": reading.how,
                }
                for reading in (plan.texts if plan else [])
            ],
            "lines": [_line_dict(line) for line in (plan.lines if plan else [])],
            "new_organisations": [
                {"name": new.name, "short_name": new.short_name, "row": new.first_row}
                for new in (plan.new_organisations if plan else [])
            ],
            "matched_organisations": [
                {"text": match.cell, "organisation": match.organisation.name, "how": match.how}
                for match in (plan.matched_organisations if plan else [])
            ],
            "kept_line_count": plan.kept_line_count if plan else None,
            "written": self.written,
            "previous_import": None,
            "reconciliation_after": None,
        }
        if self.result is not None and self.result.previous is not None:
            previous = self.result.previous
            data["previous_import"] = {
                "imported_at": previous.imported_at.isoformat(),
                "imported_by": previous.imported_by.get_username() if previous.imported_by else None,
            }
        if plan is not None and plan.after is not None and not self.refused:
            # The projection counts entries approved or awaiting approval, as the preview compares
            # with, and regroups categories and areas only: it has no pending or per-organisation figures.
            after = {key: value for key, value in plan.after.as_dict().items() if key not in NOT_PROJECTED}
            data["reconciliation_after"] = {**after, "entries_counted": "approved or awaiting approval"}
        return data


HEADING_SHOWN = 40


def subtotal_text(subtotal: SubtotalRow) -> str:
    """A subtotal row, never imported, beside the lines it adds up."""
    summed = money.format_gbp(money.gbp(subtotal.lines_sum))
    said = f'Row {subtotal.row}, "{subtotal.label}", is a subtotal, not a line'
    if subtotal.amount is None:
        return f"{said}; the lines above it add up to {summed}."
    stated = money.format_gbp(money.gbp(subtotal.amount))
    if not subtotal.differs:
        return f"{said}: {stated}, as the lines above it add up to."
    return f"{said}: it says {stated}; the lines above it add up to {summed}."


def _lines(count: int) -> str:
    return f"{count} line{'s' if count != 1 else ''}"


def _shortened(heading: str) -> str:
    return heading if len(heading) <= HEADING_SHOWN else f"{heading[: HEADING_SHOWN - 3]}..."


def _line_text(line: PlanLine, verb: dict[str, str]) -> str:
    amount = money.format_gbp(money.gbp(line.amount))
    if line.action == NEW:
        detail = f"{verb[NEW]:>9}  {amount}"
    elif line.action == CHANGED:
        detail = (
            f"{verb[CHANGED]:>9}  {money.format_gbp(money.gbp(line.current))} to {amount} "
            f"(variation {money.format_gbp(line.change)})"
        )
    else:
        detail = f"{'unchanged':>9}  {amount}"
    mark = NUMBERED_BY_LEDGER if line.numbered_by_ledger else " "
    by_year = f"  ({_years_text((year, money.gbp(amount)) for year, amount in sorted(line.years.items()))})"
    return (
        f"  row {line.row:>4}  line {line.line_number:>3}{mark} {detail}  {line.label}"
        f"  [{line.thematic_area.name} / {line.funding_category.name}]{by_year if line.years else ''}"
    )


def _years_text(amounts) -> str:
    """Amounts by year as a person reads them: "2023-24 £1,000.10; 2024-25 £2,000.20"."""
    return "; ".join(f"{year.label} {money.format_gbp(amount)}" for year, amount in amounts)


def _entries(line: PlanLine) -> list[dict] | None:
    """A line's entries by year: a new line's award (its first year) and variations, or a changed
    line's variations; None for a table of single amounts."""
    if not line.years:
        return None
    return [
        {
            "year": year.label,
            "kind": "award" if line.action == NEW and index == 0 else "variation",
            "amount": money.as_string(money.gbp(amount)),
            "date": date.isoformat(),
        }
        for index, (year, amount, date) in enumerate(line.entries)
    ]


def _line_dict(line: PlanLine) -> dict:
    organisation = line.organisation
    return {
        "row": line.row,
        "line_number": line.line_number,
        "numbered_by_ledger": line.numbered_by_ledger,
        "action": line.action,
        "organisation": organisation.name,
        "organisation_is_new": line.organisation_is_new,
        "service": line.service,
        "thematic_area": line.thematic_area.name,
        "funding_category": line.funding_category.name,
        "amount": money.as_string(money.gbp(line.amount)),
        "current": None if line.current is None else money.as_string(money.gbp(line.current)),
        "change": _amount(line.change),
        "notes": line.notes,
        "years": {
            year.label: money.as_string(money.gbp(amount)) for year, amount in sorted(line.years.items())
        }
        if line.years
        else None,
        "entries": _entries(line),
    }
