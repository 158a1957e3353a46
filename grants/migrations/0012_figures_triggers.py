"""Stored figures (grants/figures.py): the triggers that keep them, then the figures computed once
from the entries already recorded."""

from django.db import migrations

from grants.figures import drop_figures_triggers, install_figures_triggers, rebuild_figures


def install(apps, schema_editor):
    install_figures_triggers(schema_editor)
    rebuild_figures(using=schema_editor.connection.alias)


def uninstall(apps, schema_editor):
    drop_figures_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0011_stored_figures"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
