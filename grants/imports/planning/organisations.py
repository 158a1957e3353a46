"""Matching a line's Organisation cell to the ledger's organisations by name or short name, or
reading it as a new organisation (its name, short name in brackets, then the service)."""

from __future__ import annotations

import re

from grants.imports import NewOrganisation
from grants.imports.planning.plan import ImportPlan
from grants.imports.reading import SheetLine, normalise
from grants.models import Organisation

NAME_WITH_BRACKETS = re.compile(r"(?P<before>[^()]+?)\s*\((?P<inside>[^()]+)\)\s*(?P<after>.*)")
# A short name as offices write them: BCWA, WE:ARE, MWNUK.
SHORT_NAME = re.compile(r"[A-Z0-9][A-Z0-9&:.'/+-]{1,49}")


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
