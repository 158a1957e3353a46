"""SQLite's triggers for the stored figures: row-level, each sum rounded to the penny."""

from __future__ import annotations

from grants.figures.sql import (
    AMOUNTS,
    FUND_TABLE,
    GROUP_KEYS,
    GROUP_TABLE,
    GROUP_YEAR_KEYS,
    GROUP_YEAR_TABLE,
    LINE_KEYS,
    LINE_TABLE,
    LINE_YEAR_COPIED,
    LINE_YEAR_KEYS,
    LINE_YEAR_TABLE,
    entry_terms,
    entry_year,
    fund_entry_terms,
    line_terms,
    year_entry_terms,
    year_line_terms,
)

# --- SQLite: row triggers ----------------------------------------------------------------------------


def _sqlite_add(column: str, value: str) -> str:
    """column + value, rounded to the penny for amounts (SQLite adds decimals as floats)."""
    return f"ROUND({column} + {value}, 2)" if column in AMOUNTS else f"{column} + {value}"


def _sqlite_line_change(row: str, sign: str) -> str:
    terms = entry_terms(row)
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'{sign}({term})')}" for column, term in terms.items())
    return f"UPDATE {LINE_TABLE} SET {sets} WHERE allocation_id = {row}.allocation_id"


def _sqlite_add_to(table: str, keys: tuple[str, ...], terms: dict[str, str], row: str, only_if="1") -> str:
    """Add the `terms` of `row` to the row of `table` that `keys` find, creating it on first use.
    Only ever adds: SQLite checks the CHECK constraints of the row an upsert proposes before it
    finds the conflict, and a negative count would fail them; `_sqlite_take_from()` takes away."""
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'excluded.{column}')}" for column in terms)
    values = ", ".join([*(f"{row}.{key}" for key in keys), *terms.values()])
    # The WHERE also tells SQLite's parser that ON CONFLICT is an upsert, not a join constraint.
    return (
        f"INSERT INTO {table} ({', '.join([*keys, *terms])}) SELECT {values} WHERE {only_if} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )


def _sqlite_take_from(table: str, keys: tuple[str, ...], terms: dict[str, str], row: str, only_if="1") -> str:
    """Take the `terms` of `row` away from the row of `table` that `keys` find (if there is one)."""
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'-({term})')}" for column, term in terms.items())
    found = " AND ".join([*(f"{key} = {row}.{key}" for key in keys), only_if])
    return f"UPDATE {table} SET {sets} WHERE {found}"


def _sqlite_fund_add(row: str) -> str:
    """An entry held on no line (money returned to the funder) into its fund's figures."""
    held = f"{row}.allocation_id IS NULL"
    return _sqlite_add_to(FUND_TABLE, ("fund_id",), fund_entry_terms(row), row, only_if=held)


def _sqlite_fund_subtract(row: str) -> str:
    held = f"{row}.allocation_id IS NULL"
    return _sqlite_take_from(FUND_TABLE, ("fund_id",), fund_entry_terms(row), row, only_if=held)


def _sqlite_line_year_add(row: str) -> str:
    """An entry (NEW) into its line's figures for its year, the row created with the line's keys on
    the line's first entry in the year. Only ever adds, as `_sqlite_add_to()`."""
    terms = year_entry_terms(row)
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'excluded.{column}')}" for column in terms)
    columns = ", ".join([*LINE_YEAR_KEYS, *LINE_YEAR_COPIED, *terms])
    values = ", ".join(["a.id", entry_year(row, "sqlite"), *(f"a.{key}" for key in LINE_YEAR_COPIED)])
    return (
        f"INSERT INTO {LINE_YEAR_TABLE} ({columns}) SELECT {values}, {', '.join(terms.values())} "
        f"FROM grants_allocation a WHERE a.id = {row}.allocation_id "
        f"ON CONFLICT ({', '.join(LINE_YEAR_KEYS)}) DO UPDATE SET {sets}"
    )


def _sqlite_line_year_subtract(row: str) -> str:
    """An entry (OLD) out of its line's figures for its year."""
    terms = year_entry_terms(row)
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'-({term})')}" for column, term in terms.items())
    return (
        f"UPDATE {LINE_YEAR_TABLE} SET {sets} WHERE allocation_id = {row}.allocation_id "
        f"AND year = {entry_year(row, 'sqlite')}"
    )


def _sqlite_group_add(row: str, table=GROUP_TABLE, keys=GROUP_KEYS, terms=line_terms) -> str:
    """The line `row` (NEW) into its group (or its figures for a year into its group's)."""
    return _sqlite_add_to(table, keys, terms(row), row)


def _sqlite_group_subtract(row: str, table=GROUP_TABLE, keys=GROUP_KEYS, terms=line_terms) -> str:
    """The line `row` (OLD) out of its group."""
    return _sqlite_take_from(table, keys, terms(row), row)


def _sqlite_group_change(old: str, new: str, table=GROUP_TABLE, keys=GROUP_KEYS, terms=line_terms) -> str:
    """The line's group (unchanged) takes the difference between the line's old and new figures."""
    sets = ", ".join(
        f"{column} = {_sqlite_add(column, f'({new_term}) - ({old_term})')}"
        for (column, new_term), old_term in zip(terms(new).items(), terms(old).values(), strict=True)
    )
    found = " AND ".join(f"{key} = {new}.{key}" for key in keys)
    return f"UPDATE {table} SET {sets} WHERE {found}"


YEAR_GROUP = {"table": GROUP_YEAR_TABLE, "keys": GROUP_YEAR_KEYS, "terms": year_line_terms}


def sqlite_triggers() -> dict[str, str]:
    keys_changed = " OR ".join(f"NEW.{key} IS NOT OLD.{key}" for key in LINE_KEYS[:3])
    group_changed = " OR ".join(f"NEW.{key} IS NOT OLD.{key}" for key in GROUP_KEYS)
    year_group_changed = " OR ".join(f"NEW.{key} IS NOT OLD.{key}" for key in GROUP_YEAR_KEYS)
    line_columns = ", ".join(["allocation_id", *LINE_KEYS])
    new_line = ", ".join(["NEW.id", *(f"NEW.{key}" for key in LINE_KEYS)])
    return {
        # Entries into lines (and funds).
        "grants_entry_figures_insert": (
            "CREATE TRIGGER grants_entry_figures_insert AFTER INSERT ON grants_ledgerentry "
            "FOR EACH ROW BEGIN "
            f"{_sqlite_line_change('NEW', '+')}; {_sqlite_fund_add('NEW')}; "
            f"{_sqlite_line_year_add('NEW')}; END"
        ),
        "grants_entry_figures_update": (
            "CREATE TRIGGER grants_entry_figures_update AFTER UPDATE ON grants_ledgerentry "
            "FOR EACH ROW BEGIN "
            f"{_sqlite_line_change('OLD', '-')}; {_sqlite_line_change('NEW', '+')}; "
            f"{_sqlite_fund_subtract('OLD')}; {_sqlite_fund_add('NEW')}; "
            f"{_sqlite_line_year_subtract('OLD')}; {_sqlite_line_year_add('NEW')}; END"
        ),
        "grants_entry_figures_delete": (
            "CREATE TRIGGER grants_entry_figures_delete AFTER DELETE ON grants_ledgerentry "
            f"FOR EACH ROW BEGIN {_sqlite_line_change('OLD', '-')}; {_sqlite_fund_subtract('OLD')}; "
            f"{_sqlite_line_year_subtract('OLD')}; END"
        ),
        # Allocations into their lines' figures.
        "grants_allocation_figures_insert": (
            "CREATE TRIGGER grants_allocation_figures_insert AFTER INSERT ON grants_allocation "
            f"FOR EACH ROW BEGIN INSERT INTO {LINE_TABLE} ({line_columns}) VALUES ({new_line}); END"
        ),
        "grants_allocation_figures_update": (
            "CREATE TRIGGER grants_allocation_figures_update AFTER UPDATE ON grants_allocation "
            f"FOR EACH ROW WHEN {keys_changed} OR NEW.line_number IS NOT OLD.line_number "
            f"OR NEW.id IS NOT OLD.id BEGIN UPDATE {LINE_TABLE} SET allocation_id = NEW.id, "
            + ", ".join(f"{key} = NEW.{key}" for key in LINE_KEYS)
            + " WHERE allocation_id = OLD.id; "
            f"UPDATE {LINE_YEAR_TABLE} SET allocation_id = NEW.id, "
            + ", ".join(f"{key} = NEW.{key}" for key in LINE_YEAR_COPIED)
            + " WHERE allocation_id = OLD.id; END"
        ),
        "grants_allocation_figures_delete": (
            "CREATE TRIGGER grants_allocation_figures_delete AFTER DELETE ON grants_allocation "
            f"FOR EACH ROW BEGIN DELETE FROM {LINE_TABLE} WHERE allocation_id = OLD.id; "
            f"DELETE FROM {LINE_YEAR_TABLE} WHERE allocation_id = OLD.id; END"
        ),
        # Lines into their groups.
        "grants_line_figures_insert": (
            f"CREATE TRIGGER grants_line_figures_insert AFTER INSERT ON {LINE_TABLE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_add('NEW')}; END"
        ),
        # A line's figures changing within its group change the group in place (no upsert: while
        # Django's test runner empties the tables one by one, in no set order, a group already
        # emptied must stay empty); a line moving to another group leaves one and joins the other.
        "grants_line_figures_update": (
            f"CREATE TRIGGER grants_line_figures_update AFTER UPDATE ON {LINE_TABLE} "
            f"FOR EACH ROW WHEN NOT ({group_changed}) BEGIN {_sqlite_group_change('OLD', 'NEW')}; END"
        ),
        "grants_line_figures_move": (
            f"CREATE TRIGGER grants_line_figures_move AFTER UPDATE ON {LINE_TABLE} "
            f"FOR EACH ROW WHEN {group_changed} "
            f"BEGIN {_sqlite_group_subtract('OLD')}; {_sqlite_group_add('NEW')}; END"
        ),
        "grants_line_figures_delete": (
            f"CREATE TRIGGER grants_line_figures_delete AFTER DELETE ON {LINE_TABLE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_subtract('OLD')}; END"
        ),
        # Lines' figures for a year into their groups' for the year, as lines into groups.
        "grants_line_year_figures_insert": (
            f"CREATE TRIGGER grants_line_year_figures_insert AFTER INSERT ON {LINE_YEAR_TABLE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_add('NEW', **YEAR_GROUP)}; END"
        ),
        "grants_line_year_figures_update": (
            f"CREATE TRIGGER grants_line_year_figures_update AFTER UPDATE ON {LINE_YEAR_TABLE} "
            f"FOR EACH ROW WHEN NOT ({year_group_changed}) "
            f"BEGIN {_sqlite_group_change('OLD', 'NEW', **YEAR_GROUP)}; END"
        ),
        "grants_line_year_figures_move": (
            f"CREATE TRIGGER grants_line_year_figures_move AFTER UPDATE ON {LINE_YEAR_TABLE} "
            f"FOR EACH ROW WHEN {year_group_changed} "
            f"BEGIN {_sqlite_group_subtract('OLD', **YEAR_GROUP)}; "
            f"{_sqlite_group_add('NEW', **YEAR_GROUP)}; END"
        ),
        "grants_line_year_figures_delete": (
            f"CREATE TRIGGER grants_line_year_figures_delete AFTER DELETE ON {LINE_YEAR_TABLE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_subtract('OLD', **YEAR_GROUP)}; END"
        ),
    }
