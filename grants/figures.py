"""Stored figures: every line's, group's (fund, category, thematic area) and fund's money, kept by
database triggers as entries are written, so a page reads a handful of rows instead of summing
entries. Derived from the entries, never written by the application; `figures_drift()` compares them
with the entries and `rebuild_figures()` recomputes them. How the triggers work: docs/triggers.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Q

from grants import money

# Kinds as the database stores them (grants.models.LedgerEntry.Kind).
AWARDED_KINDS = "('award', 'variation')"
PAYMENT = "'payment'"
UNDERSPEND_RETURNED = "'underspend_returned'"
RETURNED_TO_FUNDER = "'returned_to_funder'"


def _amount_field():
    # Sums of 14-digit amounts: two digits more for the groups of a large ledger. The default is the
    # database's: only the triggers insert rows.
    return models.DecimalField(max_digits=16, decimal_places=2, db_default=0, editable=False)


def _count_field():
    return models.IntegerField(db_default=0, editable=False)


class Figures(models.Model):
    """The money columns lines and groups share (README, "Figures")."""

    awarded = _amount_field()  # approved awards and variations
    awarded_pending = _amount_field()  # awards and variations awaiting approval
    paid = _amount_field()  # payments to providers, once recorded
    returned = _amount_field()  # underspend providers returned, once recorded
    pending_entries = _count_field()  # entries of any kind awaiting approval

    class Meta:
        abstract = True


class LineFigures(Figures):
    """One allocation line's money, with the columns its table is filtered and sorted on copied from
    the allocation so that one index serves "this fund's lines in this category by amount"."""

    allocation = models.OneToOneField(
        "grants.Allocation",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the database's trigger removes the row with its line
        related_name="figures",
        editable=False,
    )
    fund = models.ForeignKey("grants.Fund", on_delete=models.DO_NOTHING, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.DO_NOTHING, related_name="+", editable=False
    )
    line_number = models.PositiveIntegerField(editable=False)
    awarded_entries = _count_field()  # approved awards and variations
    pending_awarded_entries = _count_field()  # awards and variations awaiting approval

    class Meta:
        verbose_name = "line figures"
        verbose_name_plural = "line figures"
        indexes = [
            # A fund's table sorted by amount (or by line), filtered by category or not: the first
            # page is read from the index, whatever the fund's size.
            models.Index(fields=["fund", "awarded", "line_number"], name="line_figures_fund_awarded"),
            # Every fund's lines by amount (the all-allocations table): ties are few.
            models.Index(fields=["awarded"], name="line_figures_awarded"),
            models.Index(
                fields=["fund", "funding_category", "awarded", "line_number"],
                name="line_figures_category_awarded",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(awarded_entries__gte=0, pending_awarded_entries__gte=0, pending_entries__gte=0),
                name="line_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return f"Figures of allocation {self.allocation_id}"


class GroupFigures(Figures):
    """The money of a fund's lines in one funding category and thematic area: a fund has a few such
    groups, the ledger a few thousand, whatever the number of lines. A group whose lines have all
    moved away stays, empty; deleting its fund, category or area (which nothing else holds on to)
    deletes it."""

    fund = models.ForeignKey("grants.Fund", on_delete=models.CASCADE, related_name="+", editable=False)
    funding_category = models.ForeignKey(
        "grants.FundingCategory", on_delete=models.CASCADE, related_name="+", editable=False
    )
    thematic_area = models.ForeignKey(
        "grants.ThematicArea", on_delete=models.CASCADE, related_name="+", editable=False
    )
    allocations = _count_field()  # lines in the group
    lines = _count_field()  # lines with an approved award or variation: those the totals count
    pending_lines = _count_field()  # lines with an award or variation awaiting approval

    class Meta:
        verbose_name = "group figures"
        verbose_name_plural = "group figures"
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "funding_category", "thematic_area"], name="group_figures_are_unique"
            ),
            models.CheckConstraint(
                condition=Q(allocations__gte=0, lines__gte=0, pending_lines__gte=0, pending_entries__gte=0),
                name="group_figures_counts_are_not_negative",
            ),
        ]

    def __str__(self):
        return (
            f"Figures of fund {self.fund_id}, category {self.funding_category_id}, "
            f"area {self.thematic_area_id}"
        )


class FundFigures(models.Model):
    """A fund's money held on no line: what the office returned to its funder."""

    fund = models.OneToOneField(
        "grants.Fund", primary_key=True, on_delete=models.CASCADE, related_name="+", editable=False
    )
    returned_to_funder = _amount_field()  # once recorded
    pending_entries = _count_field()

    class Meta:
        verbose_name = "fund figures"
        verbose_name_plural = "fund figures"
        constraints = [
            models.CheckConstraint(
                condition=Q(pending_entries__gte=0), name="fund_figures_counts_are_not_negative"
            ),
        ]

    def __str__(self):
        return f"Figures of fund {self.fund_id} held on no line"


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


def _entry_terms(row: str) -> dict[str, str]:
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


def _fund_entry_terms(row: str) -> dict[str, str]:
    _approved, pending, counted = _entry_states(row)
    returned = f"{row}.kind = {RETURNED_TO_FUNDER} AND {counted}"
    return {
        "returned_to_funder": f"CASE WHEN {returned} THEN {row}.amount ELSE 0 END",
        "pending_entries": f"CASE WHEN {pending} THEN 1 ELSE 0 END",
    }


def _line_terms(row: str) -> dict[str, str]:
    return {
        "allocations": "1",
        "lines": f"CASE WHEN {row}.awarded_entries > 0 THEN 1 ELSE 0 END",
        "pending_lines": f"CASE WHEN {row}.pending_awarded_entries > 0 THEN 1 ELSE 0 END",
        "awarded": f"{row}.awarded",
        "awarded_pending": f"{row}.awarded_pending",
        "paid": f"{row}.paid",
        "returned": f"{row}.returned",
        "pending_entries": f"{row}.pending_entries",
    }


AMOUNTS = {"awarded", "awarded_pending", "paid", "returned", "returned_to_funder"}
# A line's stored figures (its entries' terms), and the columns it is found by.
LINE_COLUMNS = tuple(_entry_terms("e"))
LINE_KEYS = ("fund_id", "funding_category_id", "thematic_area_id", "line_number")
GROUP_KEYS = ("fund_id", "funding_category_id", "thematic_area_id")
LINE = "grants_linefigures"
GROUP = "grants_groupfigures"
FUND = "grants_fundfigures"


# --- SQLite: row triggers ----------------------------------------------------------------------------


def _sqlite_add(column: str, value: str) -> str:
    """column + value, rounded to the penny for amounts (SQLite adds decimals as floats)."""
    return f"ROUND({column} + {value}, 2)" if column in AMOUNTS else f"{column} + {value}"


def _sqlite_line_change(row: str, sign: str) -> str:
    terms = _entry_terms(row)
    sets = ", ".join(f"{column} = {_sqlite_add(column, f'{sign}({term})')}" for column, term in terms.items())
    return f"UPDATE {LINE} SET {sets} WHERE allocation_id = {row}.allocation_id"


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
    return _sqlite_add_to(FUND, ("fund_id",), _fund_entry_terms(row), row, only_if=held)


def _sqlite_fund_subtract(row: str) -> str:
    held = f"{row}.allocation_id IS NULL"
    return _sqlite_take_from(FUND, ("fund_id",), _fund_entry_terms(row), row, only_if=held)


def _sqlite_group_add(row: str) -> str:
    """The line `row` (NEW) into its group."""
    return _sqlite_add_to(GROUP, GROUP_KEYS, _line_terms(row), row)


def _sqlite_group_subtract(row: str) -> str:
    """The line `row` (OLD) out of its group."""
    return _sqlite_take_from(GROUP, GROUP_KEYS, _line_terms(row), row)


def _sqlite_group_change(old: str, new: str) -> str:
    """The line's group (unchanged) takes the difference between the line's old and new figures."""
    sets = ", ".join(
        f"{column} = {_sqlite_add(column, f'({new_term}) - ({old_term})')}"
        for (column, new_term), old_term in zip(
            _line_terms(new).items(), _line_terms(old).values(), strict=True
        )
    )
    keys = " AND ".join(f"{key} = {new}.{key}" for key in GROUP_KEYS)
    return f"UPDATE {GROUP} SET {sets} WHERE {keys}"


def _sqlite_triggers() -> dict[str, str]:
    keys_changed = " OR ".join(f"NEW.{key} IS NOT OLD.{key}" for key in LINE_KEYS[:3])
    group_changed = " OR ".join(f"NEW.{key} IS NOT OLD.{key}" for key in GROUP_KEYS)
    line_columns = ", ".join(["allocation_id", *LINE_KEYS])
    new_line = ", ".join(["NEW.id", *(f"NEW.{key}" for key in LINE_KEYS)])
    return {
        # Entries into lines (and funds).
        "grants_entry_figures_insert": (
            "CREATE TRIGGER grants_entry_figures_insert AFTER INSERT ON grants_ledgerentry "
            "FOR EACH ROW BEGIN "
            f"{_sqlite_line_change('NEW', '+')}; {_sqlite_fund_add('NEW')}; END"
        ),
        "grants_entry_figures_update": (
            "CREATE TRIGGER grants_entry_figures_update AFTER UPDATE ON grants_ledgerentry "
            "FOR EACH ROW BEGIN "
            f"{_sqlite_line_change('OLD', '-')}; {_sqlite_line_change('NEW', '+')}; "
            f"{_sqlite_fund_subtract('OLD')}; {_sqlite_fund_add('NEW')}; END"
        ),
        "grants_entry_figures_delete": (
            "CREATE TRIGGER grants_entry_figures_delete AFTER DELETE ON grants_ledgerentry "
            f"FOR EACH ROW BEGIN {_sqlite_line_change('OLD', '-')}; {_sqlite_fund_subtract('OLD')}; END"
        ),
        # Allocations into their lines' figures.
        "grants_allocation_figures_insert": (
            "CREATE TRIGGER grants_allocation_figures_insert AFTER INSERT ON grants_allocation "
            f"FOR EACH ROW BEGIN INSERT INTO {LINE} ({line_columns}) VALUES ({new_line}); END"
        ),
        "grants_allocation_figures_update": (
            "CREATE TRIGGER grants_allocation_figures_update AFTER UPDATE ON grants_allocation "
            f"FOR EACH ROW WHEN {keys_changed} OR NEW.line_number IS NOT OLD.line_number "
            f"OR NEW.id IS NOT OLD.id BEGIN UPDATE {LINE} SET allocation_id = NEW.id, "
            + ", ".join(f"{key} = NEW.{key}" for key in LINE_KEYS)
            + " WHERE allocation_id = OLD.id; END"
        ),
        "grants_allocation_figures_delete": (
            "CREATE TRIGGER grants_allocation_figures_delete AFTER DELETE ON grants_allocation "
            f"FOR EACH ROW BEGIN DELETE FROM {LINE} WHERE allocation_id = OLD.id; END"
        ),
        # Lines into their groups.
        "grants_line_figures_insert": (
            f"CREATE TRIGGER grants_line_figures_insert AFTER INSERT ON {LINE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_add('NEW')}; END"
        ),
        # A line's figures changing within its group change the group in place (no upsert: while
        # Django's test runner empties the tables one by one, in no set order, a group already
        # emptied must stay empty); a line moving to another group leaves one and joins the other.
        "grants_line_figures_update": (
            f"CREATE TRIGGER grants_line_figures_update AFTER UPDATE ON {LINE} "
            f"FOR EACH ROW WHEN NOT ({group_changed}) BEGIN {_sqlite_group_change('OLD', 'NEW')}; END"
        ),
        "grants_line_figures_move": (
            f"CREATE TRIGGER grants_line_figures_move AFTER UPDATE ON {LINE} "
            f"FOR EACH ROW WHEN {group_changed} "
            f"BEGIN {_sqlite_group_subtract('OLD')}; {_sqlite_group_add('NEW')}; END"
        ),
        "grants_line_figures_delete": (
            f"CREATE TRIGGER grants_line_figures_delete AFTER DELETE ON {LINE} "
            f"FOR EACH ROW BEGIN {_sqlite_group_subtract('OLD')}; END"
        ),
    }


# --- PostgreSQL: statement triggers over transition tables -------------------------------------------


def _postgres_changes(table: str, operation: str, columns: str) -> str:
    """The statement's rows as (sign, columns...): +1 for rows as they are now, -1 as they were."""
    new = f"SELECT 1 AS sign, {columns} FROM new_{table}"
    old = f"SELECT -1 AS sign, {columns} FROM old_{table}"
    return {"INSERT": new, "UPDATE": f"{new} UNION ALL {old}", "DELETE": old}[operation]


def _postgres_sums(terms: dict[str, str]) -> str:
    return ", ".join(f"SUM(c.sign * ({term})) AS {column}" for column, term in terms.items())


def _postgres_add_to(table: str, keys: tuple[str, ...], columns, deltas: str) -> str:
    """Add the rows of the CTE `deltas` (keys and columns) to `table`, inserting those it lacks.

    Not a plain INSERT ... ON CONFLICT DO UPDATE: PostgreSQL checks the CHECK constraints of the row
    it proposes to insert before it finds the conflict, and a delta (one line fewer, one entry
    less awaiting approval) is negative. Deltas for rows that do not exist yet are never negative."""
    sets = ", ".join(f"{column} = t.{column} + {deltas}.{column}" for column in columns)
    matches = " AND ".join(f"t.{key} = {deltas}.{key}" for key in keys)
    found = " AND ".join(f"u.{key} = {deltas}.{key}" for key in keys)
    added = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in columns)
    return (
        f"updated AS (UPDATE {table} t SET {sets} FROM {deltas} WHERE {matches} "
        f"RETURNING {', '.join(f't.{key}' for key in keys)}) "
        f"INSERT INTO {table} ({', '.join([*keys, *columns])}) "
        f"SELECT {', '.join(f'{deltas}.{name}' for name in [*keys, *columns])} FROM {deltas} "
        f"WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE {found}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    )


def _postgres_entry_sql(operation: str) -> str:
    changes = _postgres_changes(
        "entries", operation, "allocation_id, fund_id, kind, amount, approved_at, rejected_at"
    )
    line_terms, fund_terms = _entry_terms("c"), _fund_entry_terms("c")
    sets = ", ".join(f"{column} = f.{column} + d.{column}" for column in line_terms)
    return (
        f"WITH c AS ({changes}), "
        f"d AS (SELECT c.allocation_id, {_postgres_sums(line_terms)} FROM c "
        "WHERE c.allocation_id IS NOT NULL GROUP BY c.allocation_id), "
        f"lines AS (UPDATE {LINE} f SET {sets} FROM d WHERE f.allocation_id = d.allocation_id RETURNING 1), "
        f"fd AS (SELECT c.fund_id, {_postgres_sums(fund_terms)} FROM c WHERE c.allocation_id IS NULL "
        "GROUP BY c.fund_id), " + _postgres_add_to(FUND, ("fund_id",), list(fund_terms), "fd")
    )


def _postgres_allocation_sql(operation: str) -> str:
    keys = ", ".join(LINE_KEYS)
    if operation == "INSERT":
        return f"INSERT INTO {LINE} (allocation_id, {keys}) SELECT id, {keys} FROM new_allocations"
    if operation == "UPDATE":
        sets = ", ".join(f"{key} = n.{key}" for key in LINE_KEYS)
        return (
            f"UPDATE {LINE} f SET {sets} FROM new_allocations n "
            f"WHERE f.allocation_id = n.id AND ({', '.join(f'f.{key}' for key in LINE_KEYS)}) "
            f"IS DISTINCT FROM ({', '.join(f'n.{key}' for key in LINE_KEYS)})"
        )
    return f"DELETE FROM {LINE} WHERE allocation_id IN (SELECT id FROM old_allocations)"


def _postgres_line_sql(operation: str) -> str:
    columns = ", ".join([*GROUP_KEYS, *LINE_COLUMNS])
    changes = _postgres_changes("lines", operation, columns)
    terms = _line_terms("c")
    keys = ", ".join(f"c.{key}" for key in GROUP_KEYS)
    sums = f"SELECT {keys}, {_postgres_sums(terms)} FROM c GROUP BY {keys}"
    if operation == "DELETE":
        # Only ever taken out of groups that exist: deleting lines never creates a group.
        sets = ", ".join(f"{column} = g.{column} + d.{column}" for column in terms)
        matches = " AND ".join(f"g.{key} = d.{key}" for key in GROUP_KEYS)
        return f"WITH c AS ({changes}), d AS ({sums}) UPDATE {GROUP} g SET {sets} FROM d WHERE {matches}"
    return f"WITH c AS ({changes}), d AS ({sums}), " + _postgres_add_to(GROUP, GROUP_KEYS, list(terms), "d")


POSTGRES_TRIGGERS = {
    # (trigger name, table, transition table prefix, SQL builder)
    "grants_entry_figures": ("grants_ledgerentry", "entries", _postgres_entry_sql),
    "grants_allocation_figures": ("grants_allocation", "allocations", _postgres_allocation_sql),
    "grants_line_figures": (LINE, "lines", _postgres_line_sql),
}


def _postgres_statements() -> list[str]:
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


def trigger_statements(vendor: str) -> list[str]:
    """The functions and triggers that keep the figures, as CREATE statements (grants.triggers)."""
    if vendor == "postgresql":
        return [statement for statement in _postgres_statements() if not statement.startswith("DROP")]
    return list(_sqlite_triggers().values())


def trigger_names() -> set[str]:
    """The names of the triggers that keep the figures, on the current database."""
    if connection.vendor == "postgresql":
        return {
            f"{name}_{operation}"
            for name in POSTGRES_TRIGGERS
            for operation in ("insert", "update", "delete")
        }
    return set(_sqlite_triggers())


def install_figures_triggers(schema_editor) -> None:
    """(Re)create the triggers that keep the figures."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in _postgres_statements():
            schema_editor.execute(statement, params=None)
    elif vendor == "sqlite":
        for name, sql in _sqlite_triggers().items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(sql, params=None)
    else:
        raise NotImplementedError(f"No figures triggers written for {vendor}.")


def drop_figures_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, (table, _rows, _build) in POSTGRES_TRIGGERS.items():
            for operation in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{operation} ON {table}")
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}_{operation}()")
    else:
        for name in _sqlite_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


# --- Rebuilding and checking ------------------------------------------------------------------------


def _rounded(expression: str, vendor: str) -> str:
    """A sum as the stored figures hold it: SQLite's float sums rounded to the penny."""
    return f"ROUND({expression}, 2)" if vendor == "sqlite" else expression


def _summed(terms: dict[str, str], vendor: str) -> str:
    """SUM() of each term, named by its column, amounts rounded as the stored figures hold them."""
    return ", ".join(
        f"{_rounded(f'SUM({term})', vendor) if column in AMOUNTS else f'SUM({term})'} AS {column}"
        for column, term in terms.items()
    )


def _entry_sums_sql(vendor: str) -> str:
    """Each line's figures summed from its entries, one row per line with entries."""
    return (
        f"SELECT e.allocation_id, {_summed(_entry_terms('e'), vendor)} FROM grants_ledgerentry e "
        "WHERE e.allocation_id IS NOT NULL GROUP BY e.allocation_id"
    )


def _fund_sums_sql(vendor: str) -> str:
    """Each fund's money held on no line, summed from its entries."""
    return (
        f"SELECT e.fund_id, {_summed(_fund_entry_terms('e'), vendor)} FROM grants_ledgerentry e "
        "WHERE e.allocation_id IS NULL GROUP BY e.fund_id"
    )


def rebuild_figures(using=None) -> None:
    """Recompute every stored figure from the allocations and their entries, in one transaction.
    The groups are rebuilt by the line triggers as the lines go in.

    On PostgreSQL, writers to the lines and entries wait until it is done (SHARE locks, which
    readers pass): an entry written while the figures were being rebuilt would otherwise add to a
    row the rebuild had just replaced, and be lost. SQLite's write transactions take the whole
    database already."""
    connection = connections[using or DEFAULT_DB_ALIAS]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in rebuild_statements(connection.vendor):
            cursor.execute(statement)


def rebuild_statements(vendor: str) -> list[str]:
    """The statements `rebuild_figures()` runs, in one transaction, on `vendor`."""
    line_columns = list(_entry_terms("e"))
    fund_columns = list(_fund_entry_terms("e"))
    lock = ["LOCK TABLE grants_allocation, grants_ledgerentry IN SHARE MODE"]
    if vendor != "postgresql":
        lock = []
    return [
        *lock,
        f"DELETE FROM {LINE}",
        f"DELETE FROM {GROUP}",
        f"DELETE FROM {FUND}",
        f"INSERT INTO {LINE} (allocation_id, {', '.join(LINE_KEYS)}, {', '.join(line_columns)}) "
        f"SELECT a.id, {', '.join(f'a.{key}' for key in LINE_KEYS)}, "
        + ", ".join(f"COALESCE(s.{column}, 0)" for column in line_columns)
        + f" FROM grants_allocation a LEFT JOIN ({_entry_sums_sql(vendor)}) s ON s.allocation_id = a.id",
        f"INSERT INTO {FUND} (fund_id, {', '.join(fund_columns)}) "
        f"SELECT fund_id, {', '.join(fund_columns)} FROM ({_fund_sums_sql(vendor)}) s",
    ]


@dataclass(frozen=True)
class Drift:
    """A stored figure that disagrees with what the entries say."""

    where: str
    column: str
    stored: object
    derived: object

    def __str__(self) -> str:
        return f"{self.where}: {self.column} is stored as {self.stored}, the entries say {self.derived}"


def _differs(column: str, stored: str, derived: str) -> str:
    if column in AMOUNTS:
        # Half a penny: SQLite's sums are floats; stored figures and entries are whole pence.
        return f"ABS({stored} - {derived}) >= 0.005"
    return f"{stored} <> {derived}"


def figures_drift(limit: int = 100) -> list[Drift]:
    """Every stored figure that disagrees with the allocations and entries (up to `limit`), in
    four queries whatever the size of the ledger: lines, groups both ways, and funds."""
    drift: list[Drift] = []
    vendor = connection.vendor
    line_terms = list(_entry_terms("e"))
    group_terms = list(_line_terms("f"))
    fund_terms = list(_fund_entry_terms("e"))
    group_keys = ", ".join(f"f.{key}" for key in GROUP_KEYS)
    checks = [
        (
            "line",
            ["a.id", "a.fund_id", "a.line_number"],
            [*(f"f.{key}" for key in LINE_KEYS), *(f"f.{column}" for column in line_terms)],
            [*(f"a.{key}" for key in LINE_KEYS), *(f"COALESCE(s.{column}, 0)" for column in line_terms)],
            [*LINE_KEYS, *line_terms],
            f"grants_allocation a LEFT JOIN {LINE} f ON f.allocation_id = a.id "
            f"LEFT JOIN ({_entry_sums_sql(vendor)}) s ON s.allocation_id = a.id",
            "f.allocation_id IS NULL",
        ),
        (
            "group",
            [f"g.{key}" for key in GROUP_KEYS],
            [f"g.{column}" for column in group_terms],
            [f"COALESCE(s.{column}, 0)" for column in group_terms],
            group_terms,
            f"{GROUP} g LEFT JOIN (SELECT {group_keys}, {_summed(_line_terms('f'), vendor)} FROM {LINE} f "
            f"GROUP BY {group_keys}) s ON " + " AND ".join(f"s.{key} = g.{key}" for key in GROUP_KEYS),
            "1 = 0",
        ),
        (
            "fund",
            ["s.fund_id"],
            [f"COALESCE(ff.{column}, 0)" for column in fund_terms],
            [f"s.{column}" for column in fund_terms],
            fund_terms,
            f"({_fund_sums_sql(vendor)}) s LEFT JOIN {FUND} ff ON ff.fund_id = s.fund_id",
            "1 = 0",
        ),
    ]
    with connection.cursor() as cursor:
        for kind, keys, stored, derived, columns, source, missing in checks:
            condition = " OR ".join(
                [
                    missing,
                    *(_differs(column, s, d) for column, s, d in zip(columns, stored, derived, strict=True)),
                ]
            )
            selected = ", ".join([*keys, *stored, *derived])
            cursor.execute(f"SELECT {selected} FROM {source} WHERE {condition} LIMIT {int(limit)}")
            for row in cursor.fetchall():
                key, values = row[: len(keys)], row[len(keys) :]
                where = _where(kind, key)
                for index, column in enumerate(columns):
                    stored_value, derived_value = values[index], values[len(columns) + index]
                    if stored_value is None:
                        drift.append(Drift(where, column, "no row", _shown(column, derived_value)))
                    elif _differ_in_python(column, stored_value, derived_value):
                        drift.append(
                            Drift(where, column, _shown(column, stored_value), _shown(column, derived_value))
                        )
        # Lines no group holds: a group row missing altogether.
        keys = ", ".join(f"f.{key}" for key in GROUP_KEYS)
        joined = " AND ".join(f"g.{key} = f.{key}" for key in GROUP_KEYS)
        cursor.execute(
            f"SELECT DISTINCT {keys} FROM {LINE} f LEFT JOIN {GROUP} g ON {joined} "
            f"WHERE g.id IS NULL LIMIT {int(limit)}"
        )
        drift += [Drift(_where("group", row), "allocations", "no row", "lines") for row in cursor]
        # Fund figures with no entries behind them.
        cursor.execute(
            f"SELECT ff.fund_id, ff.returned_to_funder, ff.pending_entries FROM {FUND} ff "
            f"LEFT JOIN ({_fund_sums_sql(vendor)}) s ON s.fund_id = ff.fund_id "
            "WHERE s.fund_id IS NULL AND (ff.returned_to_funder <> 0 OR ff.pending_entries <> 0) "
            f"LIMIT {int(limit)}"
        )
        drift += [
            Drift(
                _where("fund", row[:1]), "returned_to_funder", _shown("returned_to_funder", row[1]), "nothing"
            )
            for row in cursor
        ]
    return drift[:limit]


def _where(kind: str, key) -> str:
    if kind == "line":
        return f"allocation {key[0]} (fund {key[1]}, line {key[2]})"
    if kind == "group":
        return f"group of fund {key[0]}, funding category {key[1]}, thematic area {key[2]}"
    return f"money of fund {key[0]} held on no line"


def _shown(column: str, value):
    """An amount as money to the penny (SQLite hands sums back as floats: str() first, never float
    arithmetic); a count or key as it is."""
    return money.quantize(Decimal(str(value))) if column in AMOUNTS and value is not None else value


def _differ_in_python(column: str, stored, derived) -> bool:
    """Whether one column of a row the database picked out differs (another of its columns may)."""
    return _shown(column, stored) != _shown(column, derived)
