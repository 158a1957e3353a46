"""Stored figures (grants/figures.py): the triggers that keep them, then the figures computed once
from the entries already recorded.

What it installs is frozen beside it (0012_figures_triggers.sqlite.sql and .postgresql.sql, and
.reverse.* to undo it), recorded from the code it once called, so that it never changes with that
code (docs/triggers.md). Migration 0014 replaces every trigger with the frozen set of its day.
"""

from pathlib import Path

from django.db import migrations

HERE = Path(__file__).resolve().parent
NAME = "0012_figures_triggers"


def frozen(name, vendor):
    text = (HERE / f"{name}.{vendor}.sql").read_text()
    chunks = (chunk.strip() for chunk in text.split("\n;\n"))
    return [
        chunk for chunk in chunks if chunk and not all(line.startswith("--") for line in chunk.splitlines())
    ]


def install(apps, schema_editor):
    for statement in frozen(NAME, schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in frozen(f"{NAME}.reverse", schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0011_stored_figures"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
