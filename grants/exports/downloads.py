"""HTTP responses that carry export files; the views and the admin share them."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django.http import FileResponse
from django.utils import timezone

from grants.exports.files import moj_return_filename, write_moj_return
from grants.exports.moj_return import XLSX_CONTENT_TYPE


def _open_for_streaming(path: Path):
    """Open a finished file and unlink its name: the open handle streams it, then it is gone."""
    handle = path.open("rb")
    path.unlink()
    return handle


def moj_return_response(fund, *, user) -> FileResponse:
    """One fund's return as an .xlsx attachment, streamed from a temporary file."""
    with tempfile.TemporaryDirectory(prefix="moj-return-") as folder:
        path = Path(folder) / "return.xlsx"
        write_moj_return(fund, path, user=user)
        handle = _open_for_streaming(path)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=moj_return_filename(fund.code, timezone.localdate()),
        content_type=XLSX_CONTENT_TYPE,
    )


def moj_returns_zip_response(funds, *, user) -> FileResponse:
    """Several funds' returns in one .zip, one workbook each, named as the single downloads are."""
    today = timezone.localdate()
    with tempfile.TemporaryDirectory(prefix="moj-returns-") as folder:
        archive = Path(folder) / "returns.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for fund in funds:
                workbook = Path(folder) / "return.xlsx"
                write_moj_return(fund, workbook, user=user)
                bundle.write(workbook, arcname=moj_return_filename(fund.code, today))
                workbook.unlink()
        handle = _open_for_streaming(archive)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"MoJ-returns_{today.isoformat()}.zip",
        content_type="application/zip",
    )
