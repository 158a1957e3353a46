"""Every write to the ledger, one function per use case.

Views, the admin, imports and management commands call these and nothing else writes. Each function is
keyword-only, atomic, validates with `full_clean()` before saving and raises `ValidationError` with a
message a finance officer can act on. Adding lines, changing amounts and adding organisations are batch
services (`allocations_create`, `allocation_amounts_set`, `organisations_create`) that check every row
before writing any, in a fixed number of queries; the one-row services the forms call use them.
Changes to money take a lock on the row they check first, so two people changing the same allocation
cannot both act on the same starting figure.

Financial controls (README, "Financial controls"):

- Entries are recorded pending and count towards the approved totals (and the MoJ return) only once
  approved by someone other than who recorded them (`entry_approve`).
- A payment may not take an allocation's payments above its approved award; underspend returned may
  not exceed what was paid. Both are checked under a lock on the allocation.
- A mistaken entry is undone by `entry_reverse`: an entry of the same kind and opposite amount.
- Money carried forward to the next financial year (`carry_forward_line`, `carry_forward_fund`) is a
  pair of entries approved, rejected or withdrawn together, and never reversed.
- While a fund's submitted return is in force, nothing that changes its figures is accepted
  (`fund_submit_return`, `fund_reopen`).

The services live in one module per concern, and every public name is importable from here
(`from grants.services import allocation_create`): `funds`, `allocations`, `line_changes`, `entries`,
`limits`, `carry_forward`, `decisions`, `organisations` and `imports`, and `returns` (provider
returns, imported as `grants.services.returns`); `_base` holds what they all
share (the `_audited` decorator, locks, versions) and `_batch` the checking of many rows at once. A
module imports only from those before it in this order: `_base`, `_batch`, `limits`, `line_changes`,
`organisations`, `allocations`, `entries`, `carry_forward`, `decisions`, `funds`, `imports`.
"""

from django.core.exceptions import ValidationError

from grants.imports import ImportRefused, import_memo
from grants.models import Approval
from grants.services._base import (
    REFUSALS,
    OptionalUser,
    _audited,
    changed_since_opened_message,
    check_and_bump_version,
    locked_message,
    submission_in_force,
)
from grants.services._batch import RowsRefused
from grants.services.allocations import (
    AmountChange,
    NewLine,
    allocation_amounts_set,
    allocation_awarded,
    allocation_create,
    allocation_set_amount,
    allocation_update,
    allocations_create,
    stale_amount_message,
)
from grants.services.carry_forward import carry_forward_fund, carry_forward_line, control_totals_in_effect
from grants.services.decisions import (
    Decided,
    Decision,
    decisions_take,
    entry_approve,
    entry_reject,
    entry_withdraw,
    line_change_approve,
    line_change_reject,
    line_change_withdraw,
    self_approval_message,
)
from grants.services.entries import (
    entry_reverse,
    funder_receipt_record,
    funder_return_record,
    payee_change_pending_message,
    payment_record,
    underspend_due_record,
    underspend_record,
)
from grants.services.funds import (
    CONTROL_TOTAL_IS_THE_PROFILES,
    FUND_FACTS,
    category_budget_delete,
    category_budget_save,
    fund_delete,
    fund_profile_set,
    fund_reopen,
    fund_save,
    fund_submit_return,
    funder_save,
    funds_delete,
    import_value_mappings_delete,
    profile_field,
    reference_data_save,
    return_file_name,
    stranded_years_message,
    unused_rows_delete,
    variance_confirmation,
)
from grants.services.imports import (
    PENDING_IMPORT_LIFETIME,
    ImportPlanChanged,
    ImportResult,
    allocations_import,
    pending_import_create,
    pending_import_discard,
)
from grants.services.limits import LineLimits, fund_holds, line_limits
from grants.services.line_changes import (
    LINE_CHANGE_REASON_NEEDED,
    line_change_needed,
    line_change_pending_message,
    line_change_refusal,
)
from grants.services.organisations import (
    OPEN_DATA_FIELDS,
    NewOrganisation,
    organisation_create,
    organisation_update,
    organisations_create,
)
from grants.services.publication import (
    FUND_PUBLICATION_FIELDS,
    fund_publication_update,
    line_register_text_set,
)
from grants.services.schedules import (
    instalment_create,
    instalment_delete,
    instalment_update,
    payment_record_settling,
    schedule_from_pattern,
)

# Besides the services' own names: Approval, ImportRefused, ValidationError and import_memo, which
# callers reach through this package.
__all__ = [
    "instalment_create",
    "instalment_delete",
    "instalment_update",
    "payment_record_settling",
    "schedule_from_pattern",
    "_audited",
    "allocation_amounts_set",
    "allocation_awarded",
    "allocation_create",
    "allocation_set_amount",
    "allocation_update",
    "allocations_create",
    "allocations_import",
    "AmountChange",
    "Approval",
    "category_budget_delete",
    "carry_forward_fund",
    "carry_forward_line",
    "category_budget_save",
    "changed_since_opened_message",
    "CONTROL_TOTAL_IS_THE_PROFILES",
    "control_totals_in_effect",
    "check_and_bump_version",
    "Decided",
    "Decision",
    "decisions_take",
    "entry_approve",
    "entry_reject",
    "entry_reverse",
    "entry_withdraw",
    "fund_delete",
    "FUND_FACTS",
    "fund_holds",
    "fund_profile_set",
    "fund_reopen",
    "fund_save",
    "fund_submit_return",
    "variance_confirmation",
    "funder_receipt_record",
    "funder_return_record",
    "funder_save",
    "funds_delete",
    "import_memo",
    "import_value_mappings_delete",
    "ImportPlanChanged",
    "ImportRefused",
    "ImportResult",
    "line_change_approve",
    "line_change_needed",
    "line_change_pending_message",
    "LINE_CHANGE_REASON_NEEDED",
    "line_change_refusal",
    "line_change_reject",
    "line_change_withdraw",
    "line_limits",
    "LineLimits",
    "locked_message",
    "NewLine",
    "NewOrganisation",
    "OPEN_DATA_FIELDS",
    "FUND_PUBLICATION_FIELDS",
    "fund_publication_update",
    "line_register_text_set",
    "organisation_create",
    "organisation_update",
    "organisations_create",
    "payee_change_pending_message",
    "payment_record",
    "pending_import_create",
    "pending_import_discard",
    "PENDING_IMPORT_LIFETIME",
    "profile_field",
    "reference_data_save",
    "REFUSALS",
    "return_file_name",
    "RowsRefused",
    "self_approval_message",
    "stale_amount_message",
    "stranded_years_message",
    "submission_in_force",
    "underspend_due_record",
    "underspend_record",
    "unused_rows_delete",
    "OptionalUser",
    "ValidationError",
]
