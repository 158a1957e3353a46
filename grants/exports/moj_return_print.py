"""How the MoJ return prints: every sheet on A4 landscape, one page wide, with the same margins and a
header and footer naming the fund, the sheet and the page; and the height a row of wrapped text needs.

XlsxWriter cannot measure text, and neither Excel nor LibreOffice grows a row for wrapped text
reliably on opening, so a row holding a sentence gets an explicit height from `wrapped_height()`.
"""

from __future__ import annotations

import math

from xlsxwriter.worksheet import Worksheet

from grants.exports.moj_return_format import MojReturnData

A4 = 9  # XlsxWriter's (and Excel's) paper size code

LINE_HEIGHT = 15  # points: a line of the default 11 pt Calibri
TITLE_LINE_HEIGHT = 21  # points (28 pixels, which Excel keeps exactly): a line of a 14 pt title

# Excel refuses a header or footer longer than 255 characters (and XlsxWriter then leaves it out),
# so the text from users in them is cut to these lengths.
_TITLE_CHARS, _NAME_CHARS = 90, 60


def set_up_page(sheet: Worksheet, data: MojReturnData, sheet_name: str) -> None:
    """A4 landscape, fit to one page wide and as many pages tall as it takes, with the fund's title
    and the sheet's name at the top and the preparer and the page number at the foot."""
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    # Inches: room for the header and footer, and a little more for the page's rows.
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    year = "" if data.year is None else f" {data.year.label}"
    sheet.set_header(
        margin=0.25,
        header=f'&L&"-,Bold"{header_text(data.title, _TITLE_CHARS)}'
        f"&R{sheet_name}: MoJ return {header_text(data.fund_code, _NAME_CHARS)}{year}",
    )
    prepared = f"{data.prepared_at.day} {data.prepared_at:%B %Y}"
    sheet.set_footer(
        margin=0.25,
        footer=f"&L{header_text(data.recipient, _NAME_CHARS)}. Prepared {prepared} by "
        f"{header_text(data.prepared_by, _NAME_CHARS)}&RPage &P of &N",
    )


def header_text(text: str, limit: int) -> str:
    """`text` for a page header or footer, at most `limit` characters once written: "&" (which
    starts a control code there) doubled, and cut with an ellipsis if it is too long."""
    if len(_escaped(text)) <= limit:
        return _escaped(text)
    cut = limit - 1
    while len(_escaped(text[:cut] + "…")) > limit:
        cut -= 1
    return _escaped(text[:cut] + "…")


def _escaped(text: str) -> str:
    # A doubled "&" before "G" would still read as XlsxWriter's picture placeholder ("&G"), so a
    # space keeps them apart.
    return text.replace("&", "&&").replace("&&G", "&& G")


def write_title(sheet: Worksheet, text: str, last_column: int, width: float, title_format) -> None:
    """A sheet's title in its first row, across its columns to `last_column` (`width` characters in
    all) and wrapped there, so a long fund name prints whole rather than past the page's edge."""
    # At 14 pt a line holds about 11/14 of the characters the columns' 11 pt width counts.
    lines = math.ceil(len(text) / max(width * 11 / 14 - 2, 1))
    sheet.set_row(0, TITLE_LINE_HEIGHT * max(lines, 1))
    if last_column > 0:
        sheet.merge_range(0, 0, 0, last_column, "", title_format)
    sheet.write_string(0, 0, text, title_format)


def wrapped_height(text: str, width: float, lines_at_least: int = 1) -> int:
    """The height in points of a row whose cell `width` characters wide wraps `text`: a line for
    each `width` characters, less the cell's padding and a tenth for text (bold, capitals) wider
    than the width's digit, rounded up."""
    usable = max((width - 2) * 0.9, 1)
    lines = sum(max(1, math.ceil(len(paragraph) / usable)) for paragraph in text.split("\n"))
    return LINE_HEIGHT * max(lines, lines_at_least)
