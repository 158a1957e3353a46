"""The stored figures recomputed from the entries, and compared with them (`figures_drift`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from grants import money
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
        f"SELECT e.allocation_id, {_summed(entry_terms('e'), vendor)} FROM grants_ledgerentry e "
        "WHERE e.allocation_id IS NOT NULL GROUP BY e.allocation_id"
    )


def _fund_sums_sql(vendor: str) -> str:
    """Each fund's money held on no line, summed from its entries."""
    return (
        f"SELECT e.fund_id, {_summed(fund_entry_terms('e'), vendor)} FROM grants_ledgerentry e "
        "WHERE e.allocation_id IS NULL GROUP BY e.fund_id"
    )


def _entry_year_sums_sql(vendor: str) -> str:
    """Each line's figures for each year summed from its entries, one row per line and year with
    entries, with the line's keys."""
    copied = ", ".join(f"a.{key}" for key in LINE_YEAR_COPIED)
    return (
        f"SELECT e.allocation_id, e.year, {copied}, {_summed(year_entry_terms('e'), vendor)} "
        f"FROM (SELECT x.*, {entry_year('x', vendor)} AS year FROM grants_ledgerentry x "
        "WHERE x.allocation_id IS NOT NULL) e JOIN grants_allocation a ON a.id = e.allocation_id "
        f"GROUP BY e.allocation_id, e.year, {copied}"
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
    line_columns = list(entry_terms("e"))
    fund_columns = list(fund_entry_terms("e"))
    year_columns = [*LINE_YEAR_KEYS, *LINE_YEAR_COPIED, *year_entry_terms("e")]
    lock = ["LOCK TABLE grants_allocation, grants_ledgerentry IN SHARE MODE"]
    if vendor != "postgresql":
        lock = []
    return [
        *lock,
        f"DELETE FROM {LINE_TABLE}",
        f"DELETE FROM {GROUP_TABLE}",
        f"DELETE FROM {FUND_TABLE}",
        f"DELETE FROM {LINE_YEAR_TABLE}",
        f"DELETE FROM {GROUP_YEAR_TABLE}",
        f"INSERT INTO {LINE_TABLE} (allocation_id, {', '.join(LINE_KEYS)}, {', '.join(line_columns)}) "
        f"SELECT a.id, {', '.join(f'a.{key}' for key in LINE_KEYS)}, "
        + ", ".join(f"COALESCE(s.{column}, 0)" for column in line_columns)
        + f" FROM grants_allocation a LEFT JOIN ({_entry_sums_sql(vendor)}) s ON s.allocation_id = a.id",
        f"INSERT INTO {FUND_TABLE} (fund_id, {', '.join(fund_columns)}) "
        f"SELECT fund_id, {', '.join(fund_columns)} FROM ({_fund_sums_sql(vendor)}) s",
        # The groups' figures for each year are added up by the triggers as the lines' go in.
        f"INSERT INTO {LINE_YEAR_TABLE} ({', '.join(year_columns)}) "
        f"SELECT {', '.join(year_columns)} FROM ({_entry_year_sums_sql(vendor)}) s",
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
    """Every stored figure that disagrees with the allocations and entries (up to `limit`), in a
    fixed number of queries whatever the size of the ledger: lines, groups both ways, funds, and
    the lines' and groups' figures by year."""
    drift: list[Drift] = []
    vendor = connection.vendor
    per_line = list(entry_terms("e"))
    group_terms = list(line_terms("f"))
    fund_terms = list(fund_entry_terms("e"))
    group_keys = ", ".join(f"f.{key}" for key in GROUP_KEYS)
    per_line_year = [*LINE_YEAR_COPIED, *year_entry_terms("e")]
    group_year_terms = list(year_line_terms("f"))
    group_year_keys = ", ".join(f"f.{key}" for key in GROUP_YEAR_KEYS)
    year_sums = _entry_year_sums_sql(vendor)
    checks = [
        (
            "line",
            ["a.id", "a.fund_id", "a.line_number"],
            [*(f"f.{key}" for key in LINE_KEYS), *(f"f.{column}" for column in per_line)],
            [*(f"a.{key}" for key in LINE_KEYS), *(f"COALESCE(s.{column}, 0)" for column in per_line)],
            [*LINE_KEYS, *per_line],
            f"grants_allocation a LEFT JOIN {LINE_TABLE} f ON f.allocation_id = a.id "
            f"LEFT JOIN ({_entry_sums_sql(vendor)}) s ON s.allocation_id = a.id",
            "f.allocation_id IS NULL",
        ),
        (
            "group",
            [f"g.{key}" for key in GROUP_KEYS],
            [f"g.{column}" for column in group_terms],
            [f"COALESCE(s.{column}, 0)" for column in group_terms],
            group_terms,
            f"{GROUP_TABLE} g LEFT JOIN (SELECT {group_keys}, {_summed(line_terms('f'), vendor)} "
            f"FROM {LINE_TABLE} f "
            f"GROUP BY {group_keys}) s ON " + " AND ".join(f"s.{key} = g.{key}" for key in GROUP_KEYS),
            "1 = 0",
        ),
        (
            "fund",
            ["s.fund_id"],
            [f"COALESCE(ff.{column}, 0)" for column in fund_terms],
            [f"s.{column}" for column in fund_terms],
            fund_terms,
            f"({_fund_sums_sql(vendor)}) s LEFT JOIN {FUND_TABLE} ff ON ff.fund_id = s.fund_id",
            "1 = 0",
        ),
        (
            # Each line's year with entries, against its stored figures for the year.
            "line year",
            ["s.allocation_id", "s.year"],
            [f"f.{column}" for column in per_line_year],
            [f"s.{column}" for column in per_line_year],
            per_line_year,
            f"({year_sums}) s LEFT JOIN {LINE_YEAR_TABLE} f "
            "ON f.allocation_id = s.allocation_id AND f.year = s.year",
            "f.allocation_id IS NULL",
        ),
        (
            # Stored figures for a year in which the line has no entries (any more).
            "line year",
            ["f.allocation_id", "f.year"],
            [f"f.{column}" for column in year_entry_terms("e")],
            [
                f"CASE WHEN s.allocation_id IS NULL THEN 0 ELSE f.{column} END"
                for column in year_entry_terms("e")
            ],
            list(year_entry_terms("e")),
            f"{LINE_YEAR_TABLE} f LEFT JOIN ({year_sums}) s "
            "ON f.allocation_id = s.allocation_id AND f.year = s.year",
            "1 = 0",
        ),
        (
            "group year",
            [f"g.{key}" for key in GROUP_YEAR_KEYS],
            [f"g.{column}" for column in group_year_terms],
            [f"COALESCE(s.{column}, 0)" for column in group_year_terms],
            group_year_terms,
            f"{GROUP_YEAR_TABLE} g LEFT JOIN (SELECT {group_year_keys}, "
            f"{_summed(year_line_terms('f'), vendor)} FROM {LINE_YEAR_TABLE} f "
            f"GROUP BY {group_year_keys}) s ON "
            + " AND ".join(f"s.{key} = g.{key}" for key in GROUP_YEAR_KEYS),
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
            f"SELECT DISTINCT {keys} FROM {LINE_TABLE} f LEFT JOIN {GROUP_TABLE} g ON {joined} "
            f"WHERE g.id IS NULL LIMIT {int(limit)}"
        )
        drift += [Drift(_where("group", row), "line_count", "no row", "lines") for row in cursor]
        keys = ", ".join(f"f.{key}" for key in GROUP_YEAR_KEYS)
        joined = " AND ".join(f"g.{key} = f.{key}" for key in GROUP_YEAR_KEYS)
        cursor.execute(
            f"SELECT DISTINCT {keys} FROM {LINE_YEAR_TABLE} f LEFT JOIN {GROUP_YEAR_TABLE} g ON {joined} "
            f"WHERE g.id IS NULL LIMIT {int(limit)}"
        )
        drift += [Drift(_where("group year", row), "line_count", "no row", "lines") for row in cursor]
        # Fund figures with no entries behind them.
        cursor.execute(
            f"SELECT ff.fund_id, ff.returned_to_funder, ff.pending_entries FROM {FUND_TABLE} ff "
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
    if kind == "line year":
        return f"allocation {key[0]} in the year starting {key[1]}"
    if kind == "group year":
        return (
            f"group of fund {key[0]} in the year starting {key[1]}, funding category {key[2]}, "
            f"thematic area {key[3]}"
        )
    return f"money of fund {key[0]} held on no line"


def _shown(column: str, value):
    """An amount as money to the penny (SQLite hands sums back as floats: str() first, never float
    arithmetic); a count or key as it is."""
    return money.quantize(Decimal(str(value))) if column in AMOUNTS and value is not None else value


def _differ_in_python(column: str, stored, derived) -> bool:
    """Whether one column of a row the database picked out differs (another of its columns may)."""
    return _shown(column, stored) != _shown(column, derived)
