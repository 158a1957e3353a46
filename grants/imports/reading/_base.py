"""What every part of reading a workbook shares: opening it defensively, and looking at a row's cells."""

from __future__ import annotations

import io
import warnings
from decimal import Decimal

import openpyxl
from defusedxml import DefusedXmlException

from grants.imports import ImportRefused, Problem
from grants.imports.cells import is_blank

MAX_COLUMNS = 40


def _open(content: bytes, *, data_only: bool):
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; they do not matter here.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many kinds for a damaged file; all mean the same
        cause = error.__cause__ or error.__context__
        if isinstance(error, DefusedXmlException) or isinstance(cause, DefusedXmlException):
            raise ImportRefused(
                [Problem("The workbook declares XML entities or a DTD (an XML bomb?); it is not imported.")]
            ) from error
        raise ImportRefused(
            [Problem(f"The workbook is damaged and cannot be read ({type(error).__name__}: {error}).")]
        ) from error


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell(values, index: int | None):
    return values[index] if index is not None and index < len(values) else None


def _first_filled(values):
    return next((value for value in values if not is_blank(value)), None)
