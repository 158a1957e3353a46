"""Management commands print no warning on the database they run against (issue 15, item 7)."""

import io

from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test import override_settings


def test_the_system_checks_of_the_current_database_print_no_warning(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert "System check identified no issues" in out.getvalue()


def test_a_command_that_runs_the_checks_itself_prints_no_warning(db):
    out, err = io.StringIO(), io.StringIO()
    # migrate checks the database it migrates (call_command skips the checks unless told not to).
    call_command("migrate", "--check", skip_checks=False, verbosity=0, stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert "WARNING" not in out.getvalue()


def test_the_checks_above_do_see_the_covering_index_warning_when_it_is_not_silenced(db):
    # Positive control: the database checks run, and on SQLite they do find the INCLUDE it ignores.
    with override_settings(SILENCED_SYSTEM_CHECKS=[]):
        ids = {issue.id for issue in checks.run_checks(databases=["default"])}
    assert ("models.W040" in ids) == (connection.vendor == "sqlite")
