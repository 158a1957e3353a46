"""The audit trail's triggers as SQL: the PostgreSQL trigger functions, each table's triggers on
either database, and the append-only guard on the events' own table.

`trigger_statements()` is what `grants.triggers` freezes beside a migration; migrations never call
this module (docs/triggers.md).
"""

from __future__ import annotations

from audit.tables import AUDIT_TABLE, AuditedTable

# The functions every PostgreSQL audit trigger and the append-only guard call.
POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION grants_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV: the fund id column, the allocation id column ('' for none), then columns to treat
    -- apart, each as 'bytes:<column>' (recorded by its length), 'secret:<column>' (never recorded;
    -- a change is recorded as <column>_changed) or 'ignore:<column>' (never recorded, and a change
    -- of it alone is no event).
    fund_column text := NULLIF(TG_ARGV[0], '');
    allocation_column text := NULLIF(TG_ARGV[1], '');
    before_row jsonb;
    after_row jsonb;
    row_now jsonb;
    kind text;
    column_name text;
    byte_count bigint;
    ignored text[] := '{}';
    secrets_changed jsonb := '{}';
    i integer;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        before_row := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after_row := to_jsonb(NEW);
    END IF;
    FOR i IN 2 .. TG_NARGS - 1 LOOP
        kind := split_part(TG_ARGV[i], ':', 1);
        column_name := substr(TG_ARGV[i], length(kind) + 2);
        IF kind = 'bytes' THEN
            IF before_row IS NOT NULL THEN
                EXECUTE format('SELECT octet_length(($1).%I)', column_name) USING OLD INTO byte_count;
                before_row := (before_row - column_name)
                    || jsonb_build_object(column_name || '_bytes', byte_count);
            END IF;
            IF after_row IS NOT NULL THEN
                EXECUTE format('SELECT octet_length(($1).%I)', column_name) USING NEW INTO byte_count;
                after_row := (after_row - column_name)
                    || jsonb_build_object(column_name || '_bytes', byte_count);
            END IF;
        ELSE
            IF kind = 'ignore' THEN
                ignored := ignored || column_name;
            ELSIF TG_OP = 'UPDATE' THEN
                secrets_changed := secrets_changed || jsonb_build_object(
                    column_name || '_changed',
                    (before_row -> column_name) IS DISTINCT FROM (after_row -> column_name)
                );
            END IF;
            before_row := before_row - column_name;
            after_row := after_row - column_name;
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' THEN
        IF cardinality(ignored) > 0 AND (to_jsonb(OLD) - ignored) = (to_jsonb(NEW) - ignored) THEN
            RETURN NULL;
        END IF;
        after_row := after_row || secrets_changed;
    END IF;
    row_now := COALESCE(after_row, before_row);
    INSERT INTO grants_auditevent (
        occurred_at, table_name, row_id, action, "before", "after", fund_id, allocation_id,
        actor_id, actor_username, reason, db_user, db_session_user, client_address
    ) VALUES (
        clock_timestamp(),
        TG_TABLE_NAME,
        (row_now->>'id')::bigint,
        lower(TG_OP),
        before_row,
        after_row,
        (row_now->>fund_column)::bigint,
        (row_now->>allocation_column)::bigint,
        NULLIF(current_setting('ledger.actor_id', true), '')::bigint,
        COALESCE(current_setting('ledger.actor_username', true), ''),
        COALESCE(current_setting('ledger.reason', true), ''),
        current_user,
        session_user,
        inet_client_addr()
    );
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION grants_refuse_change_to_audit_trail() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'audit events are written by the audit triggers only'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION 'audit events are append-only: they cannot be changed or deleted'
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

_INSERT_EVENT = (
    f'INSERT INTO {AUDIT_TABLE} (occurred_at, table_name, row_id, action, "before", "after", '
    "fund_id, allocation_id, actor_id, actor_username, reason, db_user, db_session_user, client_address) "
    "VALUES (strftime('%Y-%m-%d %H:%M:%f', 'now'), '{table}', {row}.id, '{action}', {before}, {after}, "
    "{fund}, {allocation}, ledger_actor_id(), ledger_actor_username(), ledger_reason(), 'sqlite', "
    "'sqlite', NULL)"
)


def _sqlite_columns(connection, table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [info.name for info in connection.introspection.get_table_description(cursor, table)]


def sqlite_json_row(
    row: str, columns: list[str], spec: AuditedTable, *, secrets_changed: bool = False
) -> str:
    """`json_object('col', NEW.col, ...)` for a row of a table with `columns`, without its hidden
    columns; with `secrets_changed` (the `after` of an update), whether each secret changed."""
    pairs = []
    for column in columns:
        if column in spec.hidden():
            continue
        if column in spec.lengths_only:
            pairs.append(f"'{column}_bytes', length({row}.{column})")
        else:
            pairs.append(f"'{column}', {row}.{column}")
    if secrets_changed:
        for column in spec.secret:
            changed = f"CASE WHEN OLD.{column} IS NOT NEW.{column} THEN 'true' ELSE 'false' END"
            pairs.append(f"'{column}_changed', json({changed})")
    return f"json_object({', '.join(pairs)})"


def _sqlite_trigger_sql(table: str, columns: list[str], spec: AuditedTable) -> dict[str, str]:
    def event(action: str, row: str, before: str, after: str) -> str:
        return _INSERT_EVENT.format(
            table=table,
            row=row,
            action=action,
            before=before,
            after=after,
            fund=f"{row}.{spec.fund_column}" if spec.fund_column else "NULL",
            allocation=f"{row}.{spec.allocation_column}" if spec.allocation_column else "NULL",
        )

    old, new = sqlite_json_row("OLD", columns, spec), sqlite_json_row("NEW", columns, spec)
    new_after_update = sqlite_json_row("NEW", columns, spec, secrets_changed=True)
    compared = [column for column in columns if column not in spec.ignored]
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in compared)
    return {
        f"{table}_audit_insert": (
            f"CREATE TRIGGER {table}_audit_insert AFTER INSERT ON {table} FOR EACH ROW "
            f"BEGIN {event('insert', 'NEW', 'NULL', new)}; END"
        ),
        f"{table}_audit_update": (
            f"CREATE TRIGGER {table}_audit_update AFTER UPDATE ON {table} FOR EACH ROW WHEN {changed} "
            f"BEGIN {event('update', 'NEW', old, new_after_update)}; END"
        ),
        f"{table}_audit_delete": (
            f"CREATE TRIGGER {table}_audit_delete AFTER DELETE ON {table} FOR EACH ROW "
            f"BEGIN {event('delete', 'OLD', old, 'NULL')}; END"
        ),
    }


def _postgres_trigger_sql(table: str, spec: AuditedTable) -> str:
    treated_apart = [
        *(f"bytes:{column}" for column in spec.lengths_only),
        *(f"secret:{column}" for column in spec.secret),
        *(f"ignore:{column}" for column in spec.ignored),
    ]
    arguments = ", ".join(
        f"'{argument}'" for argument in (spec.fund_column, spec.allocation_column, *treated_apart)
    )
    return (
        f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION grants_audit_row({arguments})"
    )


def _postgres_guard_sql() -> list[str]:
    return [
        f"CREATE TRIGGER {AUDIT_TABLE}_refuse_change BEFORE UPDATE OR DELETE ON {AUDIT_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_audit_trail()",
        # An INSERT that no trigger made is a forged event (pg_trigger_depth() is 0 outside triggers).
        f"CREATE TRIGGER {AUDIT_TABLE}_refuse_forgery BEFORE INSERT ON {AUDIT_TABLE} "
        "FOR EACH ROW WHEN (pg_trigger_depth() = 0) "
        "EXECUTE FUNCTION grants_refuse_change_to_audit_trail()",
    ]


SQLITE_GUARD = (
    f"CREATE TRIGGER {AUDIT_TABLE}_refuse_change BEFORE UPDATE ON {AUDIT_TABLE} FOR EACH ROW "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: they cannot be changed'); END"
)


def trigger_statements(vendor: str, tables: dict[str, AuditedTable], columns_of) -> list[str]:
    """The audit trail's functions and triggers for `tables`, and its append-only guard, as CREATE
    statements (grants.triggers); `columns_of(table)` names a table's columns (SQLite's triggers
    list them)."""
    if vendor == "postgresql":
        functions = [part.strip() for part in POSTGRES_FUNCTIONS.split("$$;") if part.strip()]
        return [
            *(f"{function}$$" for function in functions),
            *_postgres_guard_sql(),
            *(_postgres_trigger_sql(table, spec) for table, spec in tables.items()),
        ]
    statements = [SQLITE_GUARD]
    for table, spec in tables.items():
        statements += _sqlite_trigger_sql(table, columns_of(table), spec).values()
    return statements


def install_audit_triggers(schema_editor, tables: dict[str, AuditedTable]) -> None:
    """(Re)create the audit triggers of `tables` from their columns as they are now.

    From the live schema, not the models. No migration calls it any more (they install frozen
    files, docs/triggers.md).
    """
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTIONS, params=None)
        for table, spec in tables.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
            schema_editor.execute(_postgres_trigger_sql(table, spec))
    elif connection.vendor == "sqlite":
        for table, spec in tables.items():
            for name, sql in _sqlite_trigger_sql(table, _sqlite_columns(connection, table), spec).items():
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
                schema_editor.execute(sql, params=None)
    else:
        raise NotImplementedError(f"No audit triggers written for {connection.vendor}.")
