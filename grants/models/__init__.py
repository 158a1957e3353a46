"""The grant allocation ledger's data model.

Design overview
---------------
An office (the OPCC) receives a **Fund** from a **Funder** (the MoJ's Extraordinary Covid Fund, say).
The award paperwork states a *control total*; revisions of that figure are kept as
**ControlTotalRevision** rows. A fund whose money comes by financial year (1 April to 31 March,
`grants.years`) has a profile: a **FundYear** per year, whose figures add up to its control total. A
fund may ring-fence part of its money per **FundingCategory**
(**CategoryBudget**).

The office shares the fund out in **Allocation** lines, one per provider service, numbered in the
order of the source table. An allocation names an **Organisation** (one organisation may hold several
lines), a **ThematicArea** and a **FundingCategory**.

Money on an allocation is never a bare editable number. It lives in **LedgerEntry** rows: an award,
then variations up or down. An allocation's amount is the sum of its entries and a fund's ledger
total the sum over its allocations; both are computed by the database (`with_awarded()`,
`grants.reconciliation`). Entries are append-only: a mistake is corrected by a new entry. Money the
funder lets the office spend a year later is *carried forward* by a pair of entries, out of one
financial year on 31 March and into the next on 1 April (`carried_from` links them), decided together.

Invariants the database can hold are constraints with names that read as sentences: GBP only, two
decimal places, positive awards, non-zero variations, one award per allocation, unique line numbers
per fund. On PostgreSQL the money columns are declared `numeric` without a scale so that a third
decimal place reaches the CHECK constraint instead of being rounded away on the way in.

Names (organisations, funders, funds, thematic areas, funding categories) and services never begin
with what a spreadsheet reads as a formula (`FORMULA_STARTS`): a validator at entry and a CHECK in
the database, so that every export, the 360Giving CSV whose names must stay exact among them, is
safe to open in Excel.

Where things live: `_base` (the money field, the formula rule, append-only and versioned rows,
constraint helpers), `reference` (areas, categories, funders, organisations), `funds` (funds, their
control-total revisions, category budgets and submitted returns), `entries` (ledger entries and the
sums over them), `allocations` (lines and proposed changes to them), `imports` (import records,
uploads awaiting confirmation, and each fund's mappings of an office's table text to categories and
areas), `refusals`, `returns` (providers' returns: reporting periods, measures, returns),
`schedules` (a line's planned instalments and the payments that settle them). Each module imports
only those listed before it; every public name is importable from `grants.models`.
"""

from __future__ import annotations

from grants.models._base import (
    FORMULA_STARTS,
    FORMULA_STARTS_IN_WORDS,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    CodedQuerySet,
    GBPMoneyField,
    Versioned,
    decision_constraints,
    formula_message,
    money_constraints,
    not_a_formula,
    not_a_formula_constraint,
    starts_like_a_formula,
)
from grants.models.allocations import Allocation, AllocationQuerySet, LineChange, LineChangeQuerySet
from grants.models.entries import (
    Approval,
    LedgerEntry,
    LedgerEntryQuerySet,
    approval_condition,
    awarded_sum,
    counted_line_count,
    has_approved_award,
    kind_sum,
)
from grants.models.funds import (
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    FundQuerySet,
    FundYear,
    ReturnSubmission,
    ReturnSubmissionQuerySet,
)
from grants.models.imports import ImportRecord, ImportValueMapping, PendingImport, value_key
from grants.models.publication import REGISTER_FIELDS, LineRegisterText
from grants.models.reference import (
    CHARITY_NUMBER,
    CHARITY_SUBSIDIARY_NUMBER,
    COMPANY_NUMBER,
    GEO_CODE_TYPE,
    LOCATION_CODE,
    NI_CHARITY_NUMBER,
    ORG_IDENTIFIER,
    POSTCODE,
    Funder,
    FundingCategory,
    Organisation,
    OrganisationQuerySet,
    ReferenceData,
    ThematicArea,
    normal_postcode,
)
from grants.models.refusals import RefusedAttempt
from grants.models.returns import (
    Measure,
    ProviderReturn,
    ProviderReturnQuerySet,
    ProviderReturnValue,
    ReportingPeriod,
)
from grants.models.schedules import Instalment, InstalmentQuerySet

# isort: split
# The stored figures' models belong to this app too; imported after the ledger's own so that they
# register after them.
from grants.figures import FundFigures, GroupFigures, GroupYearFigures, LineFigures, LineYearFigures

# Migrations name the field and the validator by their module, as Django's writer takes it from
# `__module__`: keep it the public `grants.models` (tests/grants/test_migrations.py allows only that).
GBPMoneyField.__module__ = not_a_formula.__module__ = __name__

__all__ = [
    "REGISTER_FIELDS",
    "LineRegisterText",
    "GBPMoneyField",
    "money_constraints",
    "FORMULA_STARTS",
    "FORMULA_STARTS_IN_WORDS",
    "starts_like_a_formula",
    "formula_message",
    "not_a_formula",
    "not_a_formula_constraint",
    "decision_constraints",
    "Versioned",
    "CodedQuerySet",
    "AppendOnlyQuerySet",
    "AppendOnlyModel",
    "ReferenceData",
    "ThematicArea",
    "FundingCategory",
    "Funder",
    "CHARITY_NUMBER",
    "CHARITY_SUBSIDIARY_NUMBER",
    "GEO_CODE_TYPE",
    "LOCATION_CODE",
    "NI_CHARITY_NUMBER",
    "POSTCODE",
    "normal_postcode",
    "COMPANY_NUMBER",
    "ORG_IDENTIFIER",
    "OrganisationQuerySet",
    "Organisation",
    "FundQuerySet",
    "Fund",
    "ControlTotalRevision",
    "FundYear",
    "CategoryBudget",
    "ReturnSubmissionQuerySet",
    "ReturnSubmission",
    "LedgerEntryQuerySet",
    "Approval",
    "kind_sum",
    "approval_condition",
    "awarded_sum",
    "counted_line_count",
    "has_approved_award",
    "LedgerEntry",
    "AllocationQuerySet",
    "Allocation",
    "LineChangeQuerySet",
    "LineChange",
    "ImportRecord",
    "PendingImport",
    "ImportValueMapping",
    "value_key",
    "RefusedAttempt",
    "ReportingPeriod",
    "Measure",
    "ProviderReturnQuerySet",
    "ProviderReturn",
    "ProviderReturnValue",
    "InstalmentQuerySet",
    "Instalment",
    "FundFigures",
    "GroupFigures",
    "GroupYearFigures",
    "LineFigures",
    "LineYearFigures",
]
