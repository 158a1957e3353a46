"""An uploaded file opened defensively before any parser sees it: its size, its zip members, their
compression ratio and DTDs (what a hostile .xlsx tries)."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib

from django.conf import settings

from grants.imports import ImportRefused, Problem

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# Sheet XML compresses well (10-30 times); a member that unpacks to more than 1 MB at over 100 times its
# packed size is a bomb, not a spreadsheet.
MAX_COMPRESSION_RATIO = 100


RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024


MAX_MEMBERS = 1000


XML_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def max_bytes() -> int:
    return settings.LEDGER_IMPORT_MAX_BYTES


def check_archive(content: bytes) -> None:
    """Refuse what is not a sound, reasonably sized .xlsx before any XML parser runs."""
    limit = max_bytes()
    if len(content) > limit:
        raise ImportRefused(
            [Problem(f"The file is {_size(len(content))}; files over {_size(limit)} are not imported.")]
        )
    if not content:
        raise ImportRefused([Problem("The file is empty.")])
    if content.startswith(OLE_SIGNATURE):
        raise ImportRefused(
            [
                Problem(
                    "The file is password-protected (encrypted) or an old-style .xls workbook. Remove the "
                    "password, or save it from Excel as an .xlsx workbook, and upload it again."
                )
            ]
        )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise ImportRefused(
            [Problem("The file is not an Excel workbook (.xlsx). Save it from Excel as .xlsx and try again.")]
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_members(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise ImportRefused([Problem(f"The workbook is damaged and cannot be read ({error}).")]) from error


def _check_members(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise ImportRefused([Problem("The file is a zip archive but not an Excel workbook (.xlsx).")])
    if len(members) > MAX_MEMBERS:
        raise ImportRefused(
            [Problem(f"The workbook has {len(members)} parts; more than {MAX_MEMBERS} is not a table.")]
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise ImportRefused([Problem("The workbook is encrypted; remove its password and upload it again.")])
    unpacked_limit = settings.LEDGER_IMPORT_MAX_UNPACKED_BYTES
    unpacked = sum(member.file_size for member in members)
    if unpacked > unpacked_limit:
        raise ImportRefused(
            [
                Problem(
                    f"The workbook unpacks to {_size(unpacked)}, over the {_size(unpacked_limit)} limit "
                    "(a zip bomb, or far more than an allocation table)."
                )
            ]
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ImportRefused(
                [
                    Problem(
                        f"The workbook's part {member.filename} unpacks to {ratio:,.0f} times its size "
                        "(a zip bomb); it is not imported."
                    )
                ]
            )
    for member in members:
        if member.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, member):
            raise ImportRefused(
                [
                    Problem(
                        f"The workbook's part {member.filename} declares XML entities or a DTD, which "
                        "Excel never writes (an XML bomb?); it is not imported."
                    )
                ]
            )


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    overlap = max(len(marker) for marker in XML_DECLARATIONS)
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            window = tail + chunk
            if any(marker in window for marker in XML_DECLARATIONS):
                return True
            tail = window[-overlap:]
    return False


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count} bytes"
