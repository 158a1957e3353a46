"""The grants admin, by concern: every write goes through the services, as the web app's do.

Importing the modules registers their admins; the audit trail's "History" is linked after them all.
"""

from django.contrib import admin

from audit.admin import link_history_to_audit_trail
from grants.admin import allocations, entries, funds, imports, organisations
from grants.admin._base import (
    OpenedVersionField,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    VersionedInlineFormSet,
    gbp_column,
    locked_fund_message,
)
from grants.admin.allocations import (
    AllocationAdmin,
    AllocationForm,
    AllocationInline,
    KnownLabelAutocompleteSelect,
    LedgerEntryInline,
    with_recorded_amount,
)
from grants.admin.entries import (
    ControlTotalRevisionAdmin,
    ImportRecordAdmin,
    LedgerEntryAdmin,
    ReturnSubmissionAdmin,
)
from grants.admin.funds import (
    CategoryBudgetForm,
    CategoryBudgetInline,
    ControlTotalRevisionInline,
    FundAdmin,
    FunderAdmin,
    FundForm,
)
from grants.admin.imports import ImportValueMappingAdmin
from grants.admin.organisations import OrganisationAdmin, ReferenceDataAdmin

__all__ = [
    "AllocationAdmin",
    "AllocationForm",
    "AllocationInline",
    "CategoryBudgetForm",
    "CategoryBudgetInline",
    "ControlTotalRevisionAdmin",
    "ControlTotalRevisionInline",
    "FundAdmin",
    "FundForm",
    "FunderAdmin",
    "ImportRecordAdmin",
    "ImportValueMappingAdmin",
    "KnownLabelAutocompleteSelect",
    "LedgerEntryAdmin",
    "LedgerEntryInline",
    "OpenedVersionField",
    "OrganisationAdmin",
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "ReferenceDataAdmin",
    "ReturnSubmissionAdmin",
    "ServiceAdmin",
    "VersionedForm",
    "VersionedInlineFormSet",
    "allocations",
    "entries",
    "funds",
    "gbp_column",
    "imports",
    "locked_fund_message",
    "organisations",
    "with_recorded_amount",
]

link_history_to_audit_trail(admin.site)
