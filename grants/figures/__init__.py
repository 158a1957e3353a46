"""Stored figures: every line's, group's (fund, category, thematic area) and fund's money, kept by
database triggers as entries are written, so a page reads a handful of rows instead of summing
entries. Derived from the entries, never written by the application; `figures_drift()` compares them
with the entries and `rebuild_figures()` recomputes them. How the triggers work: docs/triggers.md.
"""

from __future__ import annotations

from django.db import connection

from grants.figures.models import (
    Figures,
    FundFigures,
    GroupFigures,
    GroupYearFigures,
    LineFigures,
    LineYearFigures,
)
from grants.figures.postgresql import POSTGRES_TRIGGERS, postgres_statements
from grants.figures.rebuild import Drift, figures_drift, rebuild_figures, rebuild_statements
from grants.figures.sqlite import sqlite_triggers

__all__ = [
    "Drift",
    "Figures",
    "FundFigures",
    "GroupFigures",
    "GroupYearFigures",
    "LineFigures",
    "LineYearFigures",
    "figures_drift",
    "rebuild_figures",
    "rebuild_statements",
    "trigger_names",
    "trigger_statements",
]


def trigger_statements(vendor: str) -> list[str]:
    """The functions and triggers that keep the figures, as CREATE statements (grants.triggers)."""
    if vendor == "postgresql":
        return [statement for statement in postgres_statements() if not statement.startswith("DROP")]
    return list(sqlite_triggers().values())


def trigger_names() -> set[str]:
    """The names of the triggers that keep the figures, on the current database."""
    if connection.vendor == "postgresql":
        return {
            f"{name}_{operation}"
            for name in POSTGRES_TRIGGERS
            for operation in ("insert", "update", "delete")
        }
    return set(sqlite_triggers())
