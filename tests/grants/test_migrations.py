"""Migrations are history: none runs the project's live code (docs/triggers.md)."""

import ast
from pathlib import Path

import pytest

import audit
import grants

PROJECT_PACKAGES = {"grants", "audit"}
MIGRATIONS = [
    path
    for package in (grants, audit)
    for path in sorted((Path(package.__file__).parent / "migrations").glob("0*.py"))
]
# What Django's migration writer itself references: field classes and their arguments.
FIELD_CLASSES = {
    "grants.models.GBPMoneyField",
    "audit.models.DecimalJSONDecoder",
    "grants.models.not_a_formula",
}


def project_references(source: str) -> set[str]:
    """Every name from the project that a migration's code refers to, dotted in full."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROJECT_PACKAGES:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Attribute):
            parts = []
            current = node
            while isinstance(current, ast.Attribute):
                parts.append(current.attr)
                current = current.value
            if isinstance(current, ast.Name) and current.id in PROJECT_PACKAGES:
                found.add(".".join([current.id, *reversed(parts)]))
    # Keep only the longest chains: `grants.models.X` makes `grants.models` redundant.
    return {name for name in found if not any(other.startswith(name + ".") for other in found)}


def test_the_walk_sees_a_call_into_live_code():
    source = (
        "import grants.audit\n\ndef run(apps, schema_editor):\n    grants.audit.install_audit_triggers()\n"
    )
    assert project_references(source) == {"grants.audit.install_audit_triggers"}
    assert project_references("from grants.figures import rebuild\n") == {"grants.figures.rebuild"}


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parent.parent.name}.{path.stem}")
def test_a_migration_refers_to_no_project_code_but_field_classes(path):
    assert project_references(path.read_text()) <= FIELD_CLASSES
