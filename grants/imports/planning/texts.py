"""What the file's texts for thematic areas and funding categories mean, in a column or a section
row: the officer's mapping, the ledger's names and codes, or what earlier imports were told."""

from __future__ import annotations

from grants.imports import Problem
from grants.imports.planning.plan import ImportPlan, LedgerSnapshot, TextReading, UnmappedText
from grants.imports.reading import FIELD_BY_KEY, Mapping, ParsedSheet, normalise


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
