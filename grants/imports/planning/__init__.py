"""What an import would do to a fund: the plan a person previews before anything is written.

`build_plan(fund, sheet, snapshot)` matches each `SheetLine` to the ledger as it stands in `snapshot`
(read by `snapshot.import_snapshot()`, a fixed number of queries) and writes nothing. Each line is new,
a changed amount (with the variation it would record) or unchanged; organisations are matched by name
or short name ignoring case, spacing and punctuation, or are to be created; anything it cannot decide
without guessing is a `Problem`. `services.allocations_import()` applies a plan only when it has none.

An office's table often names a line "Black Country Women's Aid (BCWA) Sexual Violence Service": the
organisation, its short name in brackets, then the service. When the sheet has no Service column, such
a cell is read as those three parts, so the seed report's table imports as the seed fixture holds it
(one organisation, BCWA, with two lines for two services).

The planning lives in one module per concern, and every name the rest of the project uses is
importable from here (`from grants.imports.planning import ImportPlan, build_plan`): `plan` (the
plan and what it is checked against), `organisations` (matching a cell to an organisation, or a new
one), `texts` (what the file's texts for thematic areas and funding categories mean), `years` (a
table by year's lines and entries) and `lines` (`build_plan`). A module imports only from those
before it in this order: `plan`, `organisations`, `texts`, `years`, `lines`.
"""

from __future__ import annotations

from grants.imports.planning.lines import build_plan
from grants.imports.planning.plan import (
    CHANGED,
    NEW,
    ExistingLine,
    ImportPlan,
    LedgerSnapshot,
    PlanLine,
    UnmappedText,
)

__all__ = [
    "CHANGED",
    "NEW",
    "ExistingLine",
    "ImportPlan",
    "LedgerSnapshot",
    "PlanLine",
    "UnmappedText",
    "build_plan",
]
