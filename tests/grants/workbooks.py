"""Spreadsheets made inside the tests: good ones laid out as offices keep them, and bad ones."""

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl

from grants.imports.archive import OLE_SIGNATURE
from tests.grants.test_fixture import PRINTED_TABLE

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "moj_extraordinary_covid_fund_2020.json"
HEADER = ("No.", "Organisation", "Thematic area", "Amount", "Extraordinary funding category")
SEED_HEADER = (
    "No.",
    "Organisation",
    "Thematic area",
    "Amount",
    "Extraordinary funding category (sexual Violence, DA commissioned, DA non-commissioned)",
)


def xlsx(rows, *, title="Sheet1", amount_format="£#,##0.00") -> bytes:
    """An .xlsx of `rows` (tuples; () is a blank row). Decimal cells get the currency format."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = amount_format
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def seed_table_rows():
    """Paragraph 27's table as an office would type it: title rows, the table, a gap, the Total row."""
    rows = [
        ("Strategic Policing and Crime Board",),
        ("27. The breakdown of the allocations regarding spend during the Covid period of March 23-October",),
        (),
        SEED_HEADER,
    ]
    for number, organisation, theme, amount, category in PRINTED_TABLE:
        rows.append((number, organisation, theme, Decimal(amount), category))
        if number == 6:
            rows.append(())  # the report's table breaks across a page here
    rows.append(("Total = £738,810.53",))
    return rows


def seed_table() -> bytes:
    return xlsx(seed_table_rows(), title="Allocations 2020")


def table(*lines, header=HEADER) -> bytes:
    return xlsx([header, *lines])


def replace_member(content: bytes, name: str, data: bytes) -> bytes:
    """The same workbook with one part replaced (or added)."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            if member.filename != name:
                target.writestr(member, source.read(member))
        target.writestr(name, data)
    return output.getvalue()


def zip_bomb() -> bytes:
    """A real workbook carrying a 50 MB part of zeros that packs to about 50 KB."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seed_table())) as source, zipfile.ZipFile(output, "w") as target:
        for member in source.infolist():
            target.writestr(member, source.read(member), zipfile.ZIP_DEFLATED)
        member = zipfile.ZipInfo("xl/media/image1.bin")
        member.compress_type = zipfile.ZIP_DEFLATED
        with target.open(member, "w", force_zip64=True) as bomb:
            block = bytes(1024 * 1024)
            for _ in range(50):
                bomb.write(block)
    return output.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


def entity_bomb() -> bytes:
    return replace_member(table(), "xl/worksheets/sheet1.xml", BILLION_LAUGHS)


def encrypted() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE compound file, not a zip."""
    return OLE_SIGNATURE + bytes(4096)


def damaged() -> bytes:
    """A zip that claims to be a workbook but whose parts are not XML."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("[Content_Types].xml", b"not xml at all")
        archive.writestr("xl/workbook.xml", b"\x00\x01\x02")
    return output.getvalue()


def fixture_objects(*models: str) -> list[dict]:
    return [item for item in json.loads(FIXTURE.read_text()) if item["model"] in models]
