"""Writing exports to files: a consistent read of the fund, then a pure builder.

Each file is written to a temporary file beside its destination and moved into place only when
complete, so a failed export never leaves half a file behind under the real name.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from grants.exports import three_sixty_giving
from grants.exports.moj_return import build_moj_return
from grants.exports.moj_return_data import consistent_snapshot, moj_return_data
from grants.exports.moj_return_format import BuildResult
from grants.exports.three_sixty_giving_data import ThreeSixtyGivingExport, three_sixty_giving_export
from grants.models import Fund
from grants.years import FinancialYear


def moj_return_filename(fund_code: str, day: datetime.date, year: FinancialYear | None = None) -> str:
    """`MoJ-return_<fund>_<date>.xlsx`, with the year before the date for one year's return."""
    year_part = "" if year is None else f"_{year.label}"
    return f"MoJ-return_{fund_code}{year_part}_{day.isoformat()}.xlsx"


def three_sixty_giving_filename(fund_code: str, file_format: str, day: datetime.date) -> str:
    return f"360Giving_{fund_code}_{day.isoformat()}.{file_format}"


def write_atomically(destination: Path, write: Callable[[str], object]):
    """Call `write(temporary_path)`, then move the finished file to `destination`.

    Raises OSError if the destination's folder cannot be written.
    """
    destination = Path(destination)
    handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=".part", dir=destination.parent)
    os.close(handle)
    try:
        result = write(temporary)
        # mkstemp makes the file private; give it the permissions any new file of this user gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def build_moj_return_into(
    fund: Fund,
    output: str | BinaryIO,
    *,
    user=None,
    year: FinancialYear | None = None,
    submitted_variance=None,
) -> BuildResult:
    """Build the fund's return (for one year of its profile, given `year`) into a path or a binary
    file object, from one consistent read. `submitted_variance` is the variance an approver
    confirmed when submitting it (its About sheet says so when it is not zero)."""
    with consistent_snapshot():
        data = moj_return_data(fund, user=user, year=year)
        if submitted_variance is not None:
            data = dataclasses.replace(data, submitted_variance=submitted_variance)
        return build_moj_return(data, output)


def write_moj_return(
    fund: Fund, destination: Path, *, user=None, year: FinancialYear | None = None
) -> BuildResult:
    """Build the fund's return into `destination`."""
    return write_atomically(destination, lambda path: build_moj_return_into(fund, path, user=user, year=year))


class InvalidOpenData(Exception):
    pass


def build_three_sixty_giving_into(fund: Fund, file_format: str, output: BinaryIO) -> ThreeSixtyGivingExport:
    """Write the fund's 360Giving data as xlsx, csv or json, after checking it against the schemas."""
    export = three_sixty_giving_export(fund)
    errors = three_sixty_giving.schema_errors(export.package)
    if errors:
        raise InvalidOpenData("The data does not meet the 360Giving schema:\n" + "\n".join(errors))
    if file_format == "xlsx":
        three_sixty_giving.write_xlsx(export.grants, output, export.package)
        return export
    text = io.TextIOWrapper(output, encoding="utf-8", newline="")
    if file_format == "csv":
        try:
            three_sixty_giving.write_csv(export.grants, text)
        except three_sixty_giving.FormulaInCell as error:
            text.detach()
            raise InvalidOpenData(str(error)) from error
    elif file_format == "json":
        three_sixty_giving.write_json(export.package, text)
    else:
        raise ValueError(f"Unknown format {file_format!r}; use xlsx, csv or json.")
    text.flush()
    text.detach()
    return export


def write_three_sixty_giving(fund: Fund, file_format: str, destination: Path) -> ThreeSixtyGivingExport:
    def write(path: str):
        with open(path, "wb") as output:
            return build_three_sixty_giving_into(fund, file_format, output)

    return write_atomically(destination, write)
