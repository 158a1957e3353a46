"""The triggers frozen beside the migrations (grants/triggers.py, docs/triggers.md): the newest
frozen files say what the code says, and the database holds exactly the triggers they install."""

import re
from pathlib import Path

import pytest
from django.db import connection

from grants import triggers

MIGRATIONS = Path(triggers.__file__).resolve().parent / "migrations"


def newest_frozen(vendor: str) -> Path:
    return max(MIGRATIONS.glob(f"*.{vendor}.sql"))


def created_triggers(statements: list[str]) -> dict[str, str]:
    """Each CREATE TRIGGER statement by the trigger's name."""
    found = {}
    for statement in statements:
        match = re.match(r"CREATE (?:CONSTRAINT )?TRIGGER (\w+)", statement)
        if match:
            found[match.group(1)] = statement
    return found


@pytest.mark.parametrize("vendor", triggers.VENDORS)
def test_the_newest_frozen_triggers_are_what_the_code_says(vendor):
    frozen = triggers.frozen_statements(newest_frozen(vendor).read_text())
    code = triggers.install_statements(vendor)
    # A trigger changed in the code without a new migration (manage.py freeze_triggers) fails here.
    assert frozen[: len(code)] == code
    assert set(frozen[len(code) :]) <= set(triggers.rebuild_statements(vendor))


def test_the_database_holds_exactly_the_newest_frozen_triggers(db):
    frozen = created_triggers(triggers.frozen_statements(newest_frozen(connection.vendor).read_text()))
    assert len(frozen) > 20
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            installed = {name: None for (name,) in cursor.fetchall()}
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            installed = dict(cursor.fetchall())
    assert set(installed) == set(frozen)
    if connection.vendor == "sqlite":
        # SQLite keeps each trigger's text as it was created.
        assert installed == frozen


def test_a_frozen_file_reads_back_statement_for_statement():
    statements = [
        "CREATE TRIGGER a BEFORE UPDATE ON t BEGIN SELECT 1; END",
        "CREATE TRIGGER b AFTER DELETE ON t",
    ]
    text = "-- a header\n-- of two lines" + triggers.SEPARATOR + triggers.SEPARATOR.join(statements) + "\n;\n"
    assert triggers.frozen_statements(text) == statements
