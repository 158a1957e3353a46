"""The benchmark's own database, so that it never writes to the user's.

On SQLite a file under `.bench/` in the project (ignored by git); on PostgreSQL a database named
after the configured one with `_bench` added, on the same server, dropped and created afresh. The
default connection is pointed at it for the run (as Django's test runner does for a test database)
and the migrations are applied.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

BENCH_SUFFIX = "_bench"


def bench_database_name(settings_dict: dict) -> str:
    """The benchmark database's name: never the configured database's own name."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return str(Path(settings.BASE_DIR) / ".bench" / "bench.sqlite3")
    return f"{settings_dict['NAME']}{BENCH_SUFFIX}"


@contextmanager
def bench_database(*, name: str | None = None, keep: bool = False, say=print):
    """Point the default connection at a fresh, migrated benchmark database for the block."""
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    name = name or bench_database_name(settings_dict)
    if connection.vendor == "sqlite":
        name = str(Path(name).resolve())
        same = Path(original).resolve() == Path(name) if str(original) != ":memory:" else False
    else:
        same = name == original
    if same:
        raise RuntimeError(f"Refusing to benchmark in the configured database {original!r}.")
    connection.close()
    _create(name)
    settings_dict["NAME"] = name
    try:
        say(f"Benchmark database: {name} ({connection.vendor})")
        call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        connection.close()
        settings_dict["NAME"] = original
        if not keep:
            _drop(name)


def _create(name: str) -> None:
    if connection.vendor == "sqlite":
        path = Path(name)
        path.parent.mkdir(exist_ok=True)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    quoted = connection.ops.quote_name(name)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted}")


def _drop(name: str) -> None:
    if connection.vendor == "sqlite":
        for leftover in Path(name).parent.glob(Path(name).name + "*"):
            leftover.unlink()
        return
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
