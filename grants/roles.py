"""The three roles, as Django groups with permissions (README, "Roles").

- **Viewer**: reads everything and downloads the exports.
- **Finance officer**: enters and corrects funders, funds, organisations, allocations and ledger
  entries; what they record waits for approval.
- **Approver**: approves or rejects entries recorded, and changes to lines proposed, by someone else;
  submits a fund's return and reopens it.

Migration 0007 creates the groups, and `sync_roles` runs again after every `migrate` (and after the
test runner's flush), so each group always holds exactly the permissions listed here.
"""

from __future__ import annotations

MODELS = [
    "funder",
    "fund",
    "fundyear",
    "controltotalrevision",
    "categorybudget",
    "organisation",
    "thematicarea",
    "fundingcategory",
    "allocation",
    "ledgerentry",
    "returnsubmission",
    "linechange",
    "reportingperiod",
    "measure",
    "providerreturn",
    "instalment",
]
VIEW = [f"view_{model}" for model in MODELS]

VIEWER = "Viewer"
FINANCE_OFFICER = "Finance officer"
APPROVER = "Approver"

ROLES: dict[str, list[str]] = {
    VIEWER: VIEW,
    FINANCE_OFFICER: VIEW
    + [
        "add_funder",
        "change_funder",
        "add_fund",
        "change_fund",
        "add_categorybudget",
        "change_categorybudget",
        "add_controltotalrevision",
        "add_organisation",
        "change_organisation",
        "add_allocation",
        "change_allocation",
        "add_ledgerentry",
        "add_reportingperiod",
        "change_reportingperiod",
        "add_measure",
        "change_measure",
        "add_providerreturn",
        # A payment schedule is planning, not money: one officer's word (grants.services.schedules).
        "add_instalment",
        "change_instalment",
        "delete_instalment",
    ],
    APPROVER: VIEW
    + [
        "approve_ledgerentry",
        "approve_linechange",
        "add_returnsubmission",
        "reopen_returnsubmission",
        "accept_providerreturn",
    ],
}


def sync_roles(group_model, permission_model) -> None:
    """Create the groups if missing and set each one's permissions to exactly those listed."""
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(
            content_type__app_label="grants", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the {name} role: {sorted(missing)}")
        group.permissions.set(permissions)


def sync_roles_after_migrate(sender, **kwargs):
    """post_migrate handler for this app; auth's handler, connected earlier, has made the permissions."""
    from django.contrib.auth.models import Group, Permission

    sync_roles(Group, Permission)
