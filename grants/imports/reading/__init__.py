"""Reading an allocation table out of an uploaded .xlsx, defensively and without the database.

An upload is untrusted. Before openpyxl sees it, the bytes are checked: the size limit, that it is a
zip archive at all (an encrypted workbook or an old .xls is an OLE file, said so in words), that its
members do not unpack to more than a limit or at a ratio only a zip bomb has, and that no XML part
declares a DTD or entities (an XML bomb; openpyxl also parses through defusedxml, which the
`grants.E001` system check insists on).

Then the table is found as an office publishes it. Its header row is the first with an amount heading
("Amount", "Award", "Grant", "£", ...); each column is read by its heading's common synonyms
("Organisation", "Provider", "Recipient", "Service provider", ...), by a heading close to one of them
("Provided"), or as the officer's `Mapping` says; a column with no heading over text is the names.
Below the header, each row is a line, a **section row** (one cell of text and no amount, such as
"Sexual Violence Support", whose meaning `planning` resolves), a Total row, or a note. A Total row is
recognised by its label only where no line follows it, so "Total Insight Theatre" in the middle of a
table is a line. A total stated in a title or a sentence instead is read when it is the only one.

Amounts are converted exactly: a number cell's value goes through `Decimal(str(value))` (the shortest
repr of the double Excel stored, so a cell showing £80,528.42 gives 80528.42); text is refused with
its cell named ("£22,10" is not an amount), never guessed at.

The reading lives in one module per concern, and every name the rest of the project uses is
importable from here (`from grants.imports.reading import Mapping, read_workbook`): `headings` (what
a heading means), `mapping` (what the officer says), `sheet` (the table as read), `years` (tables by
financial year), `totals` (the total a table states), `header` (finding the header row), `rows`
(classifying and reading the rows below it) and `workbook` (`read_workbook`), over what they share in
`_base` (opening the workbook, a row's cells). A module imports only from those before it in this
order: `_base`, `headings`, `mapping`, `sheet`, `years`, `totals`, `header`, `rows`, `workbook`.
"""

from __future__ import annotations

from grants.imports.reading._base import MAX_COLUMNS
from grants.imports.reading.headings import FIELD_BY_KEY, FIELD_CHOICES, IGNORE, field_for_heading, normalise
from grants.imports.reading.mapping import Mapping
from grants.imports.reading.sheet import ParsedSheet, SheetLine, SubtotalRow
from grants.imports.reading.workbook import read_workbook

__all__ = [
    "FIELD_BY_KEY",
    "FIELD_CHOICES",
    "IGNORE",
    "MAX_COLUMNS",
    "Mapping",
    "ParsedSheet",
    "SheetLine",
    "SubtotalRow",
    "field_for_heading",
    "normalise",
    "read_workbook",
]
