"""The audit event moved from the grants app to the audit app (grants 0020): whoever could view the
events before the move still can, on a database migrated before it."""

import importlib
from types import SimpleNamespace

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from tests.factories import UserFactory

MOVE = importlib.import_module("grants.migrations.0020_audit_event_moves_to_its_app")
EDITOR = SimpleNamespace(connection=connection)


def test_the_move_keeps_the_permission_and_whoever_holds_it(db):
    permission = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    auditor = UserFactory(username="auditor")
    auditor.user_permissions.add(permission)
    # As a database migrated before the move holds it.
    MOVE.backwards(global_apps, EDITOR)
    ContentType.objects.clear_cache()
    assert Permission.objects.get(pk=permission.pk).content_type.app_label == "grants"
    # The migrate that follows 0019 may already have made audit's own content type and permission.
    fresh = ContentType.objects.create(app_label="audit", model="auditevent")
    Permission.objects.create(content_type=fresh, codename="view_auditevent", name="Can view audit event")

    MOVE.forwards(global_apps, EDITOR)
    ContentType.objects.clear_cache()

    labels = ContentType.objects.filter(model="auditevent").values_list("app_label", flat=True)
    assert list(labels) == ["audit"]
    assert list(Permission.objects.filter(codename="view_auditevent").values_list("pk", flat=True)) == [
        permission.pk
    ]
    assert get_user_model().objects.get(pk=auditor.pk).has_perm("audit.view_auditevent")
