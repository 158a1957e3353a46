"""The audit trail: who changed what, when, from what to what, and why.

Every INSERT, UPDATE and DELETE on the audited tables (`AUDITED_TABLES`) is recorded in
`grants_auditevent` by a database trigger, in the same transaction as the change. Because the
database writes the record, nothing escapes it: a service's `save()`, an admin form, a
`QuerySet.update()`, a fixture and raw SQL are all recorded alike.

Who and why come from the application:

- `context(user=..., reason=...)`, used inside a service's transaction, names the actor and the
  reason (the memo the form asked for);
- `AuditUserMiddleware` names the signed-in user for the whole request, so every write a request
  makes has an actor even where no service passes one.

On PostgreSQL these are transaction-local settings (`set_config('ledger.actor_id', ..., true)`) that
one plpgsql trigger function reads. A change made outside the app (psql, another client) is still
recorded, with no actor and with the database user that made it. Any client can set those settings
and so name any actor, so the trigger also records what the client cannot choose: the login its
connection was opened with (`session_user`, which `SET ROLE` leaves alone) and the address it
connected from (`inet_client_addr()`, empty over a local socket).

Users, groups and permissions (Django's auth tables) are audited by the same triggers, except a
user's password hash, which is never recorded (a change to it is recorded as `password_changed`),
and their last sign-in.

On SQLite a trigger cannot read a session setting, so the triggers call SQL functions
(`ledger_actor_id()`, `ledger_actor_username()`, `ledger_reason()`) that the app registers on every
connection it opens. A client that is not the app (the sqlite3 shell, a script) has no such
functions, so its INSERTs, UPDATEs and DELETEs on audited tables fail with "no such function": on
SQLite, bypassing the app is impossible rather than recorded. SQLite triggers cannot use
`to_jsonb(NEW)`, so each names its table's columns; a migration that changes an audited table's
columns (or remakes the table, which drops its triggers) must call `install_audit_triggers()`
for that table afterwards. A test compares every trigger's columns with its table's. A migration
that remakes `grants_auditevent` itself on SQLite (AlterField, RemoveField) must first call
`drop_audit_triggers()` for every audited table and reinstall them afterwards: SQLite refuses to
rename the rebuilt table into place while other tables' triggers refer to it.

Audit events are append-only: the database refuses UPDATE of `grants_auditevent` and, on
PostgreSQL, DELETE and any INSERT that no audit trigger made (so history cannot be forged).
TRUNCATE is not seen by row triggers on either database; it is what Django's test runner uses to
empty PostgreSQL tables, so it stays allowed, and a production role should not be granted it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, models, router
from django.db.backends.signals import connection_created
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError


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
    "grants_linechange": AuditedTable(
        "Proposed change to a line", fund_column="fund_id", allocation_column="allocation_id"
    ),
    "grants_refusedattempt": AuditedTable(
        "Refused attempt", fund_column="fund_id", allocation_column="allocation_id"
    ),
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
}

AUDIT_TABLE = "grants_auditevent"


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads numbers with a decimal point as `Decimal`, so amounts come back to the penny."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


class AuditEvent(models.Model):
    """One row inserted, changed or deleted in an audited table, written by a database trigger."""

    class Action(models.TextChoices):
        INSERT = "insert", "Added"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    occurred_at = models.DateTimeField(editable=False, help_text="The database's clock.")
    table_name = models.CharField(
        max_length=63, editable=False, choices=[(table, spec.label) for table, spec in AUDITED_TABLES.items()]
    )
    row_id = models.BigIntegerField(editable=False)
    action = models.CharField(max_length=6, choices=Action.choices, editable=False)
    before = models.JSONField(null=True, editable=False, decoder=DecimalJSONDecoder)
    after = models.JSONField(null=True, editable=False, decoder=DecimalJSONDecoder)
    # Plain ids, not foreign keys: history outlives the rows (and users) it describes.
    fund_id = models.BigIntegerField(null=True, editable=False)
    allocation_id = models.BigIntegerField(null=True, editable=False)
    actor_id = models.BigIntegerField(null=True, editable=False)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    reason = models.TextField(blank=True, editable=False)
    db_user = models.CharField("database user", max_length=63, blank=True, editable=False)
    # Written by the trigger from the connection itself, so a client that claims another actor
    # (set_config('ledger.actor_id', ...)) still leaves its real login and address. On SQLite there
    # is no login: 'sqlite', and no address.
    db_session_user = models.CharField(
        "database login",
        max_length=63,
        blank=True,
        editable=False,
        help_text="The database user the connection logged in as (PostgreSQL's session_user), "
        "which SET ROLE does not change.",
    )
    client_address = models.GenericIPAddressField(
        null=True,
        editable=False,
        help_text="The address the database connection came from; empty over a local socket, and on SQLite.",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        default_permissions = ("view",)
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["table_name", "row_id"], name="audit_event_row_idx"),
            models.Index(fields=["fund_id"], name="audit_event_fund_idx"),
            models.Index(fields=["allocation_id"], name="audit_event_allocation_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.table_name} {self.row_id}"

    def save(self, *args, **kwargs):
        raise ValidationError("Audit events are written by the database's triggers only.")

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are never deleted.")


# Who is acting, and why. Read by the SQLite functions; on PostgreSQL mirrored into set_config().
@dataclasses.dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    username: str = ""
    reason: str = ""


# Actor is frozen, so one shared default is safe.
_current: ContextVar[Actor] = ContextVar("ledger_audit_actor", default=Actor())  # noqa: B039


def current() -> Actor:
    return _current.get()


def _actor_for(user, reason: str, outer: Actor) -> Actor:
    """The outer actor with `user` and `reason` put in where given (an anonymous user is none)."""
    if user is not None and getattr(user, "is_authenticated", False):
        outer = dataclasses.replace(outer, user_id=user.pk, username=user.get_username())
    if reason and reason.strip():
        outer = dataclasses.replace(outer, reason=reason.strip())
    return outer


def _postgres_set(connection, actor: Actor, *, local: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('ledger.actor_id', %s, %s), set_config('ledger.actor_username', %s, %s), "
            "set_config('ledger.reason', %s, %s)",
            [
                "" if actor.user_id is None else str(actor.user_id),
                local,
                actor.username,
                local,
                actor.reason,
                local,
            ],
        )


@contextlib.contextmanager
def context(user=None, reason: str = "", *, using: str | None = None) -> Iterator[Actor]:
    """Record `user` and `reason` on every change made inside, within the current transaction.

    Use it inside `transaction.atomic()` (the services are atomic). Nested, an inner `user` or
    `reason` replaces the outer one until the inner block ends; one not given is kept from outside
    (so a request's user stays the actor of a service that names none).
    """
    using = using or router.db_for_write(AuditEvent)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "audit.context() must be used inside transaction.atomic(): the actor and reason are "
            "recorded with the transaction's changes."
        )
    outer = _current.get()
    actor = _actor_for(user, reason, outer)
    token = _current.set(actor)
    # Nothing to tell PostgreSQL when the block changes neither who nor why.
    postgres = connection.vendor == "postgresql" and actor != outer
    try:
        if postgres:
            _postgres_set(connection, actor, local=True)
        yield actor
    except BaseException:
        _current.reset(token)
        if postgres:
            # The transaction may have failed; if it goes on (a caught error), the outer values return.
            with contextlib.suppress(DatabaseError, TransactionManagementError):
                _restore(connection, outer)
        raise
    else:
        _current.reset(token)
        if postgres:
            _restore(connection, outer)


def _restore(connection, outer: Actor) -> None:
    if connection.in_atomic_block and not connection.needs_rollback:
        _postgres_set(connection, outer, local=True)


class AuditUserMiddleware:
    """Make the signed-in user the actor of every change the request makes.

    On PostgreSQL this is a session-level setting, set when the request starts and emptied in a
    `finally` when it ends, so a persistent connection never lends one user's name to the next
    request. A service's `context()` sets transaction-local values, which take precedence inside
    its transaction.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        actor = _actor_for(user, "", Actor())
        token = _current.set(actor)
        connection = connections[router.db_for_write(AuditEvent)]
        postgres = connection.vendor == "postgresql"
        try:
            if postgres:
                _postgres_set(connection, actor, local=False)
            return self.get_response(request)
        finally:
            _current.reset(token)
            if postgres:
                try:
                    _postgres_set(connection, Actor(), local=False)
                except (DatabaseError, TransactionManagementError):
                    # The setting could not be emptied, so this connection must not serve anyone else.
                    if not connection.in_atomic_block:
                        connection.close()


# A data load (`loaddata`, whose saves are "raw", or the benchmark's generator) is the one writer the
# database lets record an entry as approved before it reached the ledger (grants.triggers): it marks
# its transaction, and the trigger reads the mark (on PostgreSQL, a transaction-local setting).
_loading: ContextVar[bool] = ContextVar("ledger_loading", default=False)  # noqa: B039


def _mark_loading(value: bool, using: str | None = None) -> None:
    _loading.set(value)
    connection = connections[using or router.db_for_write(AuditEvent)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('ledger.loading', %s, true)", ["on" if value else ""])


@contextlib.contextmanager
def data_load(using: str | None = None) -> Iterator[None]:
    """Inside `transaction.atomic()`: entries written here may be marked approved outside the ledger."""
    _mark_loading(True, using)
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError, TransactionManagementError):
            _mark_loading(False, using)
        _loading.set(False)


def _loading_starts(sender, instance, raw=False, using=None, **kwargs):
    if raw:
        _mark_loading(True, using)


def _loading_ends(sender, instance, raw=False, using=None, **kwargs):
    if raw:
        _mark_loading(False, using)


pre_save.connect(_loading_starts, sender="grants.LedgerEntry", dispatch_uid="grants.audit.loading_starts")
post_save.connect(_loading_ends, sender="grants.LedgerEntry", dispatch_uid="grants.audit.loading_ends")


# SQLite: the functions the triggers call, on every connection the app opens.
def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("ledger_actor_id", 0, lambda: _current.get().user_id)
    raw.create_function("ledger_actor_username", 0, lambda: _current.get().username)
    raw.create_function("ledger_reason", 0, lambda: _current.get().reason)
    raw.create_function("ledger_loading", 0, lambda: _loading.get())


connection_created.connect(_register_sqlite_functions, dispatch_uid="grants.audit.sqlite_functions")


# The triggers, installed by migrations.
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

    Migrations call this with the tables they pass in explicitly (never `AUDITED_TABLES`, which
    grows with later migrations). It reads the live schema only, not the models, so an old
    migration keeps doing what it did.
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


def drop_audit_triggers(schema_editor, tables: dict[str, AuditedTable]) -> None:
    connection = schema_editor.connection
    for table in tables:
        if connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
        else:
            for action in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{action}")


def install_append_only_guard(schema_editor) -> None:
    """Refuse changes to audit events: UPDATE on both databases, and on PostgreSQL DELETE and any
    INSERT not made by an audit trigger (SQLite's test runner empties tables with DELETE;
    PostgreSQL's uses TRUNCATE, which row triggers miss; SQLite cannot tell who inserts)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTIONS, params=None)
        for statement in _postgres_guard_sql():
            schema_editor.execute(statement)
    else:
        schema_editor.execute(SQLITE_GUARD)


def drop_append_only_guard(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_refuse_change ON {AUDIT_TABLE}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_refuse_forgery ON {AUDIT_TABLE}")
        schema_editor.execute("DROP FUNCTION IF EXISTS grants_refuse_change_to_audit_trail()")
        schema_editor.execute("DROP FUNCTION IF EXISTS grants_audit_row()")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_refuse_change")
