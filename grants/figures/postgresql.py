"""PostgreSQL's triggers for the stored figures: statement-level, reading transition tables."""

from __future__ import annotations

from grants.figures.sql import (
    FUND_TABLE,
    GROUP_KEYS,
    GROUP_TABLE,
    GROUP_YEAR_KEYS,
    GROUP_YEAR_TABLE,
    LINE_COLUMNS,
    LINE_KEYS,
    LINE_TABLE,
    LINE_YEAR_COLUMNS,
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

# --- PostgreSQL: statement triggers over transition tables -------------------------------------------


def _postgres_changes(table: str, operation: str, columns: str) -> str:
    """The statement's rows as (sign, columns...): +1 for rows as they are now, -1 as they were."""
    new = f"SELECT 1 AS sign, {columns} FROM new_{table}"
    old = f"SELECT -1 AS sign, {columns} FROM old_{table}"
    return {"INSERT": new, "UPDATE": f"{new} UNION ALL {old}", "DELETE": old}[operation]


def _postgres_sums(terms: dict[str, str]) -> str:
    return ", ".join(f"SUM(c.sign * ({term})) AS {column}" for column, term in terms.items())


def _postgres_add_to(table: str, keys: tuple[str, ...], columns, deltas: str, copied=()) -> str:
    """Add the rows of the CTE `deltas` (keys and columns) to `table`, inserting those it lacks.

    Not a plain INSERT ... ON CONFLICT DO UPDATE: PostgreSQL checks the CHECK constraints of the row
    it proposes to insert before it finds the conflict, and a delta (one line fewer, one entry
    less awaiting approval) is negative. Deltas for rows that do not exist yet are never negative.
    `copied` columns of `deltas` are written into the rows it inserts, and left alone in the others."""
    sets = ", ".join(f"{column} = t.{column} + {deltas}.{column}" for column in columns)
    matches = " AND ".join(f"t.{key} = {deltas}.{key}" for key in keys)
    found = " AND ".join(f"u.{key} = {deltas}.{key}" for key in keys)
    added = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in columns)
    return (
        f"updated AS (UPDATE {table} t SET {sets} FROM {deltas} WHERE {matches} "
        f"RETURNING {', '.join(f't.{key}' for key in keys)}) "
        f"INSERT INTO {table} ({', '.join([*keys, *copied, *columns])}) "
        f"SELECT {', '.join(f'{deltas}.{name}' for name in [*keys, *copied, *columns])} FROM {deltas} "
        f"WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE {found}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    )


def _postgres_entry_sql(operation: str) -> str:
    changes = _postgres_changes(
        "entries", operation, "allocation_id, fund_id, kind, amount, approved_at, rejected_at"
    )
    line_terms, fund_terms = entry_terms("c"), fund_entry_terms("c")
    sets = ", ".join(f"{column} = f.{column} + d.{column}" for column in line_terms)
    return (
        f"WITH c AS ({changes}), "
        f"d AS (SELECT c.allocation_id, {_postgres_sums(line_terms)} FROM c "
        "WHERE c.allocation_id IS NOT NULL GROUP BY c.allocation_id), "
        f"lines AS (UPDATE {LINE_TABLE} f SET {sets} FROM d "
        "WHERE f.allocation_id = d.allocation_id RETURNING 1), "
        f"fd AS (SELECT c.fund_id, {_postgres_sums(fund_terms)} FROM c WHERE c.allocation_id IS NULL "
        "GROUP BY c.fund_id), " + _postgres_add_to(FUND_TABLE, ("fund_id",), list(fund_terms), "fd")
    ) + f"; {_postgres_entry_year_sql(operation)}"


def _postgres_entry_year_sql(operation: str) -> str:
    """The statement's entries into their lines' figures for their years: a row is created with the
    line's keys on the line's first entry in a year. Deleted entries only ever take away."""
    columns = "allocation_id, kind, amount, approved_at, rejected_at, effective_date, reverses_id"
    changes = {
        "INSERT": [("1", "new_entries")],
        "UPDATE": [("1", "new_entries"), ("-1", "old_entries")],
        "DELETE": [("-1", "old_entries")],
    }[operation]
    selects = " UNION ALL ".join(
        f"SELECT {sign} AS sign, {columns}, {entry_year(rows, 'postgresql')} AS year FROM {rows} "
        f"WHERE {rows}.allocation_id IS NOT NULL"
        for sign, rows in changes
    )
    terms = year_entry_terms("c")
    copied = ", ".join(f"a.{key}" for key in LINE_YEAR_COPIED)
    deltas = (
        f"SELECT c.allocation_id, c.year, {copied}, {_postgres_sums(terms)} FROM c "
        f"JOIN grants_allocation a ON a.id = c.allocation_id GROUP BY c.allocation_id, c.year, {copied}"
    )
    if operation == "DELETE":
        sets = ", ".join(f"{column} = f.{column} + d.{column}" for column in terms)
        return (
            f"WITH c AS ({selects}), d AS ({deltas}) UPDATE {LINE_YEAR_TABLE} f SET {sets} FROM d "
            "WHERE f.allocation_id = d.allocation_id AND f.year = d.year"
        )
    added = _postgres_add_to(LINE_YEAR_TABLE, LINE_YEAR_KEYS, list(terms), "d", copied=LINE_YEAR_COPIED)
    return f"WITH c AS ({selects}), d AS ({deltas}), " + added


def _postgres_allocation_sql(operation: str) -> str:
    keys = ", ".join(LINE_KEYS)
    if operation == "INSERT":
        # A line's figures for a year appear with its first entry in the year.
        return f"INSERT INTO {LINE_TABLE} (allocation_id, {keys}) SELECT id, {keys} FROM new_allocations"
    if operation == "UPDATE":
        sets = ", ".join(f"{key} = n.{key}" for key in LINE_KEYS)
        year_sets = ", ".join(f"{key} = n.{key}" for key in LINE_YEAR_COPIED)
        return (
            f"UPDATE {LINE_TABLE} f SET {sets} FROM new_allocations n "
            f"WHERE f.allocation_id = n.id AND ({', '.join(f'f.{key}' for key in LINE_KEYS)}) "
            f"IS DISTINCT FROM ({', '.join(f'n.{key}' for key in LINE_KEYS)}); "
            f"UPDATE {LINE_YEAR_TABLE} f SET {year_sets} FROM new_allocations n "
            f"WHERE f.allocation_id = n.id AND ({', '.join(f'f.{key}' for key in LINE_YEAR_COPIED)}) "
            f"IS DISTINCT FROM ({', '.join(f'n.{key}' for key in LINE_YEAR_COPIED)})"
        )
    return (
        f"DELETE FROM {LINE_TABLE} WHERE allocation_id IN (SELECT id FROM old_allocations); "
        f"DELETE FROM {LINE_YEAR_TABLE} WHERE allocation_id IN (SELECT id FROM old_allocations)"
    )


def _postgres_line_sql(
    operation: str,
    rows="lines",
    table=GROUP_TABLE,
    group_keys=GROUP_KEYS,
    line_columns=LINE_COLUMNS,
    terms_of=line_terms,
) -> str:
    columns = ", ".join([*group_keys, *line_columns])
    changes = _postgres_changes(rows, operation, columns)
    terms = terms_of("c")
    keys = ", ".join(f"c.{key}" for key in group_keys)
    sums = f"SELECT {keys}, {_postgres_sums(terms)} FROM c GROUP BY {keys}"
    if operation == "DELETE":
        # Only ever taken out of groups that exist: deleting lines never creates a group.
        sets = ", ".join(f"{column} = g.{column} + d.{column}" for column in terms)
        matches = " AND ".join(f"g.{key} = d.{key}" for key in group_keys)
        return f"WITH c AS ({changes}), d AS ({sums}) UPDATE {table} g SET {sets} FROM d WHERE {matches}"
    added = _postgres_add_to(table, group_keys, list(terms), "d")
    return f"WITH c AS ({changes}), d AS ({sums}), " + added


def _postgres_line_year_sql(operation: str) -> str:
    """Lines' figures for a year into their groups' for the year, as lines into groups."""
    return _postgres_line_sql(
        operation, "line_years", GROUP_YEAR_TABLE, GROUP_YEAR_KEYS, LINE_YEAR_COLUMNS, year_line_terms
    )


POSTGRES_TRIGGERS = {
    # (trigger name, table, transition table prefix, SQL builder)
    "grants_entry_figures": ("grants_ledgerentry", "entries", _postgres_entry_sql),
    "grants_allocation_figures": ("grants_allocation", "allocations", _postgres_allocation_sql),
    "grants_line_figures": (LINE_TABLE, "lines", _postgres_line_sql),
    "grants_line_year_figures": (LINE_YEAR_TABLE, "line_years", _postgres_line_year_sql),
}


def postgres_statements() -> list[str]:
    statements = []
    for name, (table, rows, build) in POSTGRES_TRIGGERS.items():
        for operation in ("INSERT", "UPDATE", "DELETE"):
            function = f"{name}_{operation.lower()}"
            statements.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {build(operation)}; RETURN NULL; END $$"
            )
            referencing = {
                "INSERT": f"NEW TABLE AS new_{rows}",
                "UPDATE": f"OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}",
                "DELETE": f"OLD TABLE AS old_{rows}",
            }[operation]
            statements.append(f"DROP TRIGGER IF EXISTS {function} ON {table}")
            statements.append(
                f"CREATE TRIGGER {function} AFTER {operation} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return statements
