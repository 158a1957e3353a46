"""Who is acting and why, told to the database's audit triggers; and the mark of a data load.

`context(user=..., reason=...)` names the actor and reason inside a service's transaction, and
`AuditUserMiddleware` names the signed-in user for a whole request; `data_load()` marks a
transaction whose entries may stand approved outside the ledger. On PostgreSQL these are
`set_config()` settings the triggers read; on SQLite, SQL functions registered on every connection
the app opens (docs/triggers.md, "The audit trail").
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import DatabaseError, connections, router
from django.db.backends.signals import connection_created
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError

from audit.models import AuditEvent


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


pre_save.connect(_loading_starts, sender="grants.LedgerEntry", dispatch_uid="audit.loading_starts")
post_save.connect(_loading_ends, sender="grants.LedgerEntry", dispatch_uid="audit.loading_ends")


# SQLite: the functions the triggers call, on every connection the app opens.
def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("ledger_actor_id", 0, lambda: _current.get().user_id)
    raw.create_function("ledger_actor_username", 0, lambda: _current.get().username)
    raw.create_function("ledger_reason", 0, lambda: _current.get().reason)
    raw.create_function("ledger_loading", 0, lambda: _loading.get())


connection_created.connect(_register_sqlite_functions, dispatch_uid="audit.sqlite_functions")
