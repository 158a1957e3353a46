"""One organisation may hold several lines in a fund when they differ in service, thematic area or
funding category (published tables list one provider under sexual violence and again under domestic
abuse, naming no service); a line typed twice is still refused. And each fund remembers how an
office's table text maps to a funding category or thematic area (`ImportValueMapping`, audited).

SQLite remakes the allocation table to change its unique constraint, dropping its triggers, and the
new table's audit triggers name its columns, so this migration drops every trigger first and
installs those frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0021_lines_unique_by_area_and_category_import_value_mappings"
# 0020 moved the audit event between apps in Django's state only and ships no frozen files.
PREVIOUS = "0019_group_figures_say_what_they_count"


def frozen(name, vendor):
    text = (HERE / f"{name}.{vendor}.sql").read_text()
    chunks = (chunk.strip() for chunk in text.split("\n;\n"))
    return [
        chunk for chunk in chunks if chunk and not all(line.startswith("--") for line in chunk.splitlines())
    ]


def drop_all_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
            for trigger, table in cursor.fetchall():
                schema_editor.execute(f'DROP TRIGGER "{trigger}" ON "{table}"')
            cursor.execute(
                "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
                "AND prorettype = 'trigger'::regtype AND proname LIKE 'grants%%'"
            )
            for (function,) in cursor.fetchall():
                schema_editor.execute(f'DROP FUNCTION "{function}"()')
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (trigger,) in cursor.fetchall():
                schema_editor.execute(f'DROP TRIGGER "{trigger}"')


def install(name):
    def run(apps, schema_editor):
        drop_all_triggers(apps, schema_editor)
        for statement in frozen(name, schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0020_audit_event_moves_to_its_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.CreateModel(
            name="ImportValueMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "text",
                    models.CharField(help_text="As the file printed it, the first time.", max_length=300),
                ),
                (
                    "text_key",
                    models.CharField(
                        help_text="The text ignoring case, spacing and punctuation (`value_key`).",
                        max_length=300,
                    ),
                ),
                ("mapped_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["fund", "text"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="allocation",
            name="allocation_organisation_service_is_unique_within_its_fund",
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.UniqueConstraint(
                fields=("fund", "organisation", "service", "thematic_area", "funding_category"),
                name="allocation_organisation_service_area_category_is_unique_in_fund",
                violation_error_message="This fund already has a line for that organisation and service in that thematic area and funding category.",
            ),
        ),
        migrations.AddField(
            model_name="importvaluemapping",
            name="fund",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="import_value_mappings",
                to="grants.fund",
            ),
        ),
        migrations.AddField(
            model_name="importvaluemapping",
            name="funding_category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="grants.fundingcategory",
            ),
        ),
        migrations.AddField(
            model_name="importvaluemapping",
            name="mapped_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for an import run from the command line without --user.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="importvaluemapping",
            name="thematic_area",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="grants.thematicarea",
            ),
        ),
        migrations.AddConstraint(
            model_name="importvaluemapping",
            constraint=models.UniqueConstraint(
                fields=("fund", "text_key"),
                name="import_value_mapping_text_is_mapped_once_per_fund",
                violation_error_message="This fund already has a mapping for that text.",
            ),
        ),
        migrations.AddConstraint(
            model_name="importvaluemapping",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("funding_category__isnull", False), ("thematic_area__isnull", False), _connector="OR"
                ),
                name="import_value_mapping_names_a_category_or_an_area",
                violation_error_message=(
                    'A mapping names a funding category, a thematic area or both (as "Sexual Violence" '
                    "names each), never neither."
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="importvaluemapping",
            constraint=models.CheckConstraint(
                condition=models.Q(("text_key", ""), _negated=True),
                name="import_value_mapping_text_has_a_letter_or_digit",
                violation_error_message="The text to map must hold a letter or a digit.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
