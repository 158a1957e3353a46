"""What the officer says about a file where its headings do not, and the column a mapping names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string

from grants.imports.reading._base import MAX_COLUMNS
from grants.imports.reading.headings import normalise


@dataclass(frozen=True)
class Mapping:
    """What the officer says about a file where its headings do not: which sheet to read, which
    column is which (`columns`: field key or IGNORE, and the column's heading as printed or its
    letter), a thematic area and funding category for lines that name none, and what a text in a
    category column or a section row means (`values`: the text, and a funding category's or
    thematic area's name or code, or "funding_category:CODE" / "thematic_area:CODE" to set that field
    only). The empty mapping reads a file by its headings alone."""

    sheet: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    thematic_area: str = ""
    funding_category: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def as_record(self) -> dict:
        """The mapping in plain JSON types, for the preview's digest."""
        return {
            "sheet": self.sheet,
            "columns": [list(pair) for pair in self.columns],
            "thematic_area": self.thematic_area,
            "funding_category": self.funding_category,
            "values": [list(pair) for pair in self.values],
        }


def _mapped_index(reference: str, header: tuple) -> int | None:
    """The column a mapping names, by its heading as printed (capitals and punctuation aside) or by
    its letter; None when the header row has neither."""
    wanted, printed = normalise(reference), reference.strip()
    for index, value in enumerate(header):
        if value is None:
            continue
        text = str(value).strip()
        if (wanted and normalise(text) == wanted) or (printed and text == printed):
            return index
    if re.fullmatch(r"[A-Za-z]{1,3}", printed):
        index = column_index_from_string(printed.upper()) - 1
        if index < MAX_COLUMNS:
            return index
    return None
