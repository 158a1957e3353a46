"""Writing the MoJ return to a file: a consistent read of the fund, then the pure builder.

The workbook is written to a temporary file beside its destination and moved into place only when
complete, so a failed export never leaves half a workbook behind under the real name.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from grants import selectors
from grants.exports.moj_return import BuildResult, build_moj_return
from grants.models import Fund


def moj_return_filename(fund_code: str, day: datetime.date) -> str:
    return f"MoJ-return_{fund_code}_{day.isoformat()}.xlsx"


def build_moj_return_into(fund: Fund, output: str | BinaryIO, *, user=None) -> BuildResult:
    """Build the fund's return into a path or a binary file object, from one consistent read."""
    with selectors.consistent_snapshot():
        return build_moj_return(selectors.moj_return_data(fund, user=user), output)


def write_moj_return(fund: Fund, destination: Path, *, user=None) -> BuildResult:
    """Build the fund's return into `destination`. Raises OSError if it cannot be written there."""
    destination = Path(destination)
    handle, temporary = tempfile.mkstemp(prefix=".moj-return-", suffix=".xlsx.part", dir=destination.parent)
    os.close(handle)
    try:
        result = build_moj_return_into(fund, temporary, user=user)
        # mkstemp makes the file private; give it the permissions any new file of this user gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
