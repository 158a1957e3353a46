"""Which tables the audit trail records, what their rows are called, and which columns it treats apart.

A table of the ledger that is not audited is named in `UNAUDITED_TABLES` with the reason; a test
checks that every table of the grants app is in one of the two.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class AuditedTable:
    """An audited table: what its rows are called, where they belong (the columns holding their
    fund's and allocation's ids: "id" when the row is the fund or allocation itself, "" when it
    belongs to none), binary columns that are recorded by their length only, secret columns that
    are never recorded (a change to one is recorded as `<column>_changed: true` in the event's
    `after`, so a password change shows, its hash never does), and ignored columns, which are not
    recorded and whose change alone makes no event (a user's last login)."""

    label: str
    fund_column: str = ""
    allocation_column: str = ""
    lengths_only: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def hidden(self) -> tuple[str, ...]:
        return (*self.secret, *self.ignored)


AUDITED_TABLES: dict[str, AuditedTable] = {
    "grants_funder": AuditedTable("Funder"),
    "grants_fund": AuditedTable("Fund", fund_column="id"),
    "grants_controltotalrevision": AuditedTable("Control total revision", fund_column="fund_id"),
    "grants_fundyear": AuditedTable("Fund's financial year", fund_column="fund_id"),
    "grants_categorybudget": AuditedTable("Category budget", fund_column="fund_id"),
    "grants_organisation": AuditedTable("Organisation"),
    "grants_thematicarea": AuditedTable("Thematic area"),
    "grants_fundingcategory": AuditedTable("Funding category"),
    "grants_allocation": AuditedTable("Allocation", fund_column="fund_id", allocation_column="id"),
    "grants_ledgerentry": AuditedTable(
        "Ledger entry", fund_column="fund_id", allocation_column="allocation_id"
    ),
    "grants_returnsubmission": AuditedTable(
        "Return submission", fund_column="fund_id", lengths_only=("workbook",)
    ),
    "grants_importrecord": AuditedTable("Import", fund_column="fund_id"),
    "grants_importvaluemapping": AuditedTable("Import value mapping", fund_column="fund_id"),
    "grants_linechange": AuditedTable(
        "Proposed change to a line", fund_column="fund_id", allocation_column="allocation_id"
    ),
    "grants_instalment": AuditedTable("Planned instalment", allocation_column="allocation_id"),
    "grants_lineregistertext": AuditedTable("Line's register text", allocation_column="allocation_id"),
    "grants_refusedattempt": AuditedTable(
        "Refused attempt", fund_column="fund_id", allocation_column="allocation_id"
    ),
    "grants_reportingperiod": AuditedTable("Reporting period", fund_column="fund_id"),
    "grants_measure": AuditedTable("Measure asked for in returns", fund_column="fund_id"),
    "grants_providerreturn": AuditedTable("Provider return", allocation_column="allocation_id"),
    "grants_providerreturnvalue": AuditedTable("Figure in a provider return"),
    # Who may do what: users, their flags, groups (the roles) and permissions. Never the password's
    # hash; last_login changes at every sign-in and is not a change of who may do what.
    "auth_user": AuditedTable("User", secret=("password",), ignored=("last_login",)),
    "auth_user_groups": AuditedTable("User's group"),
    "auth_user_user_permissions": AuditedTable("User's permission"),
    "auth_group": AuditedTable("Group"),
    "auth_group_permissions": AuditedTable("Group's permission"),
}

DERIVED = "figures the database derives from the entries by triggers (grants.figures), never written by hand"
# Tables of the app that hold no ledger data, and why they are not audited.
UNAUDITED_TABLES: dict[str, str] = {
    "grants_auditevent": "the audit trail itself",
    "grants_pendingimport": "uploaded files waiting for their preview to be confirmed, deleted once applied",
    "grants_linefigures": DERIVED,
    "grants_groupfigures": DERIVED,
    "grants_fundfigures": DERIVED,
    "grants_lineyearfigures": DERIVED,
    "grants_groupyearfigures": DERIVED,
}

AUDIT_TABLE = "grants_auditevent"
