"""Bringing a fund's allocation table in from Excel.

`reading` opens an uploaded .xlsx defensively and turns its table into plain `SheetLine`s (no database);
`planning` matches those lines against the ledger and says what an import would do (reads only);
`services.allocations_import()` applies a plan in one transaction through the ordinary services.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewOrganisation:
    """An organisation to be created, by the organisation form or by an import: what the form asks
    for, and for an import the sheet row that first names it (0 when it comes from no file)."""

    name: str
    short_name: str = ""
    charity_number: str = ""
    company_number: str = ""
    org_identifier: str = ""
    contact_email: str = ""
    charity_subsidiary_number: str = ""
    ni_charity_number: str = ""
    registered_address: str = ""
    postcode: str = ""
    location_code: str = ""
    notes: str = ""
    first_row: int = 0

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded file, named by sheet, row and column where it has them."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportRefused(Exception):
    """The file cannot be imported; `problems` lists every reason found. `sheet` is the sheet as far
    as it was read when its header is what is wrong (its sheets, and the columns of a header row
    found), so the preview can offer a mapping; None when the workbook could not be read at all."""

    def __init__(self, problems: list[Problem], sheet=None):
        self.problems = list(problems)
        self.sheet = sheet
        super().__init__("\n".join(str(problem) for problem in self.problems))


IMPORT_MEMO_PREFIX = "Imported from "


def import_memo(file_name: str, sha256: str) -> str:
    """The memo of every entry an import records: which file, by name and SHA-256. The approvals
    page finds an import's entries by it (`selectors.imports_awaiting_approval`), so no one but an
    import may write a memo that begins so (`services._base._audited`)."""
    return f"{IMPORT_MEMO_PREFIX}{file_name} (SHA-256 {sha256})"
