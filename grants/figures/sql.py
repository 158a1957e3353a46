"""What each entry adds to its line (or fund), and each line to its group, as SQL over a row alias;
the pieces both databases' triggers and the rebuild are written from."""

from __future__ import annotations

from grants.years import start_year_sql

# Kinds as the database stores them (grants.models.LedgerEntry.Kind).
AWARDED_KINDS = "('award', 'variation', 'carried_forward')"
PAYMENT = "'payment'"
UNDERSPEND_RETURNED = "'underspend_returned'"
RETURNED_TO_FUNDER = "'returned_to_funder'"


# ---------------------------------------------------------------------------------------------------
# What each entry adds to its line (or fund), and each line to its group, as SQL over a row alias.


def _entry_states(row: str) -> tuple[str, str, str]:
    """Conditions on an entry row: approved; awaiting approval; counted (either: not rejected or
    withdrawn, which never count)."""
    return (
        f"{row}.approved_at IS NOT NULL",
        f"{row}.approved_at IS NULL AND {row}.rejected_at IS NULL",
        f"{row}.rejected_at IS NULL",
    )


def entry_terms(row: str) -> dict[str, str]:
    approved, pending, counted = _entry_states(row)
    awarded = f"{row}.kind IN {AWARDED_KINDS}"
    return {
        "awarded": f"CASE WHEN {awarded} AND {approved} THEN {row}.amount ELSE 0 END",
        "awarded_pending": f"CASE WHEN {awarded} AND {pending} THEN {row}.amount ELSE 0 END",
        "paid": f"CASE WHEN {row}.kind = {PAYMENT} AND {counted} THEN {row}.amount ELSE 0 END",
        "returned": (
            f"CASE WHEN {row}.kind = {UNDERSPEND_RETURNED} AND {counted} THEN {row}.amount ELSE 0 END"
        ),
        "pending_entries": f"CASE WHEN {pending} THEN 1 ELSE 0 END",
        "awarded_entries": f"CASE WHEN {awarded} AND {approved} THEN 1 ELSE 0 END",
        "pending_awarded_entries": f"CASE WHEN {awarded} AND {pending} THEN 1 ELSE 0 END",
    }


def fund_entry_terms(row: str) -> dict[str, str]:
    _approved, pending, counted = _entry_states(row)
    returned = f"{row}.kind = {RETURNED_TO_FUNDER} AND {counted}"
    return {
        "returned_to_funder": f"CASE WHEN {returned} THEN {row}.amount ELSE 0 END",
        "pending_entries": f"CASE WHEN {pending} THEN 1 ELSE 0 END",
    }


def line_terms(row: str) -> dict[str, str]:
    return {
        "line_count": "1",
        "awarded_line_count": f"CASE WHEN {row}.awarded_entries > 0 THEN 1 ELSE 0 END",
        "pending_line_count": f"CASE WHEN {row}.pending_awarded_entries > 0 THEN 1 ELSE 0 END",
        "awarded": f"{row}.awarded",
        "awarded_pending": f"{row}.awarded_pending",
        "paid": f"{row}.paid",
        "returned": f"{row}.returned",
        "pending_entries": f"{row}.pending_entries",
    }


def year_entry_terms(row: str) -> dict[str, str]:
    """What an entry adds to its line's figures for its year: its line terms, and its payments and
    returned underspend awaiting approval, so that a year can count approved entries alone."""
    _approved, pending, _counted = _entry_states(row)
    return {
        **entry_terms(row),
        "paid_pending": f"CASE WHEN {row}.kind = {PAYMENT} AND {pending} THEN {row}.amount ELSE 0 END",
        "returned_pending": (
            f"CASE WHEN {row}.kind = {UNDERSPEND_RETURNED} AND {pending} THEN {row}.amount ELSE 0 END"
        ),
    }


def year_line_terms(row: str) -> dict[str, str]:
    """What a line's figures for a year add to its group's for the year."""
    recorded = f"{row}.awarded_entries + {row}.pending_awarded_entries"
    return {
        "line_count": "1",
        "awarded_line_count": f"CASE WHEN {row}.awarded_entries > 0 THEN 1 ELSE 0 END",
        "pending_line_count": f"CASE WHEN {row}.pending_awarded_entries > 0 THEN 1 ELSE 0 END",
        "recorded_line_count": f"CASE WHEN {recorded} > 0 THEN 1 ELSE 0 END",
        **{column: f"{row}.{column}" for column in year_entry_terms(row)},
    }


def entry_year(row: str, vendor: str) -> str:
    """The start year of an entry's financial year, as SQL over the entry row `row`: the year of its
    effective date or, for a reversal, of the entry it cancels (as `reconcile_by_year()` counts it)."""
    cancelled = f"(SELECT r.effective_date FROM grants_ledgerentry r WHERE r.id = {row}.reverses_id)"
    return start_year_sql(f"COALESCE({cancelled}, {row}.effective_date)", vendor)


AMOUNTS = {
    "awarded",
    "awarded_pending",
    "paid",
    "returned",
    "returned_to_funder",
    "paid_pending",
    "returned_pending",
}
# A line's stored figures (its entries' terms), and the columns it is found by.
LINE_COLUMNS = tuple(entry_terms("e"))
LINE_KEYS = ("fund_id", "funding_category_id", "thematic_area_id", "line_number")
GROUP_KEYS = ("fund_id", "funding_category_id", "thematic_area_id")
LINE_TABLE = "grants_linefigures"
GROUP_TABLE = "grants_groupfigures"
FUND_TABLE = "grants_fundfigures"
# A line's figures for a year, found by (allocation_id, year), with its line's keys copied.
LINE_YEAR_COLUMNS = tuple(year_entry_terms("e"))
LINE_YEAR_KEYS = ("allocation_id", "year")
LINE_YEAR_COPIED = ("fund_id", "funding_category_id", "thematic_area_id")
GROUP_YEAR_KEYS = ("fund_id", "year", "funding_category_id", "thematic_area_id")
LINE_YEAR_TABLE = "grants_lineyearfigures"
GROUP_YEAR_TABLE = "grants_groupyearfigures"
