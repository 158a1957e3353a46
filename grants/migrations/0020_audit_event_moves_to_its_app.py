"""The audit event leaves the grants app for the audit app (audit 0001), its table unchanged.

In Django's state only: `grants_auditevent`, its rows and its triggers stay as they are, so this
migration ships no frozen trigger files (docs/triggers.md). The event's content type is renamed from
`grants.auditevent` to `audit.auditevent`, so its `view_auditevent` permission keeps its id and
whoever held it keeps it; on a new database there is no content type yet and nothing to rename.
"""

from django.db import migrations


def rename_content_type(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A content type already made for the new label (by an earlier migrate) would clash; it holds
    # only the permission Django made with it, which the renamed one replaces.
    if ContentType.objects.using(db).filter(app_label=old, model="auditevent").exists():
        ContentType.objects.using(db).filter(app_label=new, model="auditevent").delete()
    ContentType.objects.using(db).filter(app_label=old, model="auditevent").update(app_label=new)


def forwards(apps, schema_editor):
    rename_content_type(apps, schema_editor, "grants", "audit")


def backwards(apps, schema_editor):
    rename_content_type(apps, schema_editor, "audit", "grants")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("grants", "0019_group_figures_say_what_they_count"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
