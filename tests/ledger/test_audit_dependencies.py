"""The dependency audit fails on a vulnerability and on anything it could not check."""

import importlib.util
from pathlib import Path

from django.conf import settings

spec = importlib.util.spec_from_file_location(
    "audit_dependencies", Path(settings.BASE_DIR) / "scripts" / "audit_dependencies.py"
)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"name": "whitenoise", "version": "6.12.0", "vulns": []}


def test_every_dependency_checked_and_clean_passes():
    assert audit.summarise({"dependencies": [CLEAN]}) == (0, ["No known vulnerabilities in 1 dependencies."])


def test_a_known_vulnerability_fails_and_names_the_fixed_version():
    vulnerable = {
        "name": "django",
        "version": "5.2.1",
        "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2", "4.2.22"]}],
    }
    status, lines = audit.summarise({"dependencies": [CLEAN, vulnerable]})
    assert status == 1
    assert lines[0] == "VULNERABLE django 5.2.1: PYSEC-2025-1 (fixed in 5.2.2, 4.2.22)"


def test_a_dependency_the_service_could_not_check_is_a_failure_not_a_pass(monkeypatch):
    unchecked = {"name": "asgiref", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    status, lines = audit.summarise({"dependencies": [CLEAN, unchecked]})
    assert status == 2
    assert lines[0].startswith("NOT AUDITED: 1 of 2 dependencies could not be checked")
    assert audit.unchecked_status(status) == 2

    monkeypatch.setenv("LEDGER_AUDIT_UNREACHABLE", "warn")
    assert audit.unchecked_status(status) == 0


def test_an_empty_report_is_not_a_pass():
    assert audit.summarise({"dependencies": []})[0] == 2
