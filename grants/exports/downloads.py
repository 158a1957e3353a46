"""HTTP responses that carry export files; the views and the admin share them."""

from __future__ import annotations

import csv
import shutil
import tempfile
import zipfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from grants import money
from grants.exports import three_sixty_giving
from grants.exports.files import (
    build_moj_return_into,
    build_three_sixty_giving_into,
    moj_return_filename,
    three_sixty_giving_filename,
)
from grants.exports.moj_return_format import XLSX_CONTENT_TYPE
from grants.models import starts_like_a_formula


def moj_return_response(fund, *, user, year=None) -> FileResponse:
    """One fund's return (for one year of its profile, given `year`) as an .xlsx attachment,
    streamed from an anonymous temporary file."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
    build_moj_return_into(fund, handle, user=user, year=year)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=moj_return_filename(fund.code, timezone.localdate(), year),
        content_type=XLSX_CONTENT_TYPE,
    )


def moj_returns_zip_response(funds, *, user) -> FileResponse:
    """Several funds' returns in one .zip, one workbook each, named as the single downloads are."""
    today = timezone.localdate()
    archive = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for fund in funds:
            with tempfile.TemporaryFile() as workbook:
                build_moj_return_into(fund, workbook, user=user)
                workbook.seek(0)
                with bundle.open(moj_return_filename(fund.code, today), "w") as member:
                    shutil.copyfileobj(workbook, member)
    archive.seek(0)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"MoJ-returns_{today.isoformat()}.zip",
        content_type="application/zip",
    )


def three_sixty_giving_response(fund, file_format: str) -> FileResponse:
    """The fund's 360Giving data in one of the standard's formats, as an attachment."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
    build_three_sixty_giving_into(fund, file_format, handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=three_sixty_giving_filename(fund.code, file_format, timezone.localdate()),
        content_type=three_sixty_giving.FORMATS[file_format],
    )


def spreadsheet_safe(text: str) -> str:
    """Text for a CSV meant to be opened in Excel: a leading apostrophe keeps `=...` from running
    as a formula (OWASP's advice for CSV injection); the apostrophe is not shown in the cell.
    Names and services cannot begin like a formula (`grants.models.not_a_formula`); this is the
    second line of defence, for a row written before that rule or around it."""
    return f"'{text}" if starts_like_a_formula(text) else text


class _Echo:
    def write(self, value):
        return value


# The table's amount columns (`grants.tables.AllocationTable`), in its order, as the CSV heads them.
CSV_AMOUNTS = (
    ("awarded", "Amount"),
    ("awarded_pending", "Awaiting approval"),
    ("paid_approved", "Paid (approved)"),
    ("still_to_pay", "Still to pay"),
)


def allocations_csv_header(year_label: str = "") -> list[str]:
    """The CSV's first row: the table's columns, its amounts said to be one year's when they are."""
    within = f" in {year_label}" if year_label else ""
    return [
        "Fund",
        "No.",
        "Organisation",
        "Service",
        "Thematic area",
        "Funding category",
        *(f"{name}{within} (GBP)" for _, name in CSV_AMOUNTS),
    ]


def allocations_csv_response(lines, filename: str, *, year_label: str = "") -> StreamingHttpResponse:
    """The given allocation lines as CSV, streamed row by row from a database iterator: every column
    the table shows, its amounts those of `year_label` when given (`year_allocation_rows()`)."""
    writer = csv.writer(_Echo())
    header = allocations_csv_header(year_label)

    def rows():
        yield "\ufeff"  # so Excel reads the file as UTF-8 (£, accents)
        yield writer.writerow(header)
        for line in lines.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    line.fund.code,
                    line.line_number,
                    spreadsheet_safe(str(line.organisation)),
                    spreadsheet_safe(line.service),
                    spreadsheet_safe(line.thematic_area.name),
                    spreadsheet_safe(line.funding_category.name),
                    *(money.as_string(money.from_aggregate(getattr(line, name))) for name, _ in CSV_AMOUNTS),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
