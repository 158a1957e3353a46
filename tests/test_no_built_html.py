"""No HTML built from strings and then marked safe (STYLE.md, pattern 10): markup comes from templates
or `format_html`, which escape what they are given."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("grants", "ledger")


def python_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def built_html_marked_safe(source: str) -> list[int]:
    """Lines of every `mark_safe(...)` (or `SafeString(...)`) whose argument is not one plain string
    literal: an f-string, a `%` or `.format()`, a concatenation, a join or any other expression."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name not in {"mark_safe", "SafeString"}:
            continue
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        literal = (
            len(arguments) == 1
            and isinstance(arguments[0], ast.Constant)
            and isinstance(arguments[0].value, str)
        )
        if not literal:
            lines.append(node.lineno)
    return lines


def test_the_walk_covers_both_packages():
    files = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {"grants/tables.py", "grants/templatetags/ledger.py", "ledger/settings.py"} <= files
    assert not any("/migrations/" in name or name.startswith(".venv") for name in files)


@pytest.mark.parametrize(
    "source",
    [
        'mark_safe(f"<td>{name}</td>")',
        'mark_safe("<td>%s</td>" % name)',
        'mark_safe("<td>{}</td>".format(name))',
        'mark_safe("<td>" + name + "</td>")',
        'mark_safe("".join(cells))',
        "safestring.mark_safe(html)",
        'SafeString(f"<b>{name}</b>")',
    ],
)
def test_built_html_under_mark_safe_is_found(source):
    assert built_html_marked_safe(f"from django.utils import safestring\n{source}\n") == [2]


def test_a_plain_literal_under_mark_safe_is_allowed():
    assert built_html_marked_safe('mark_safe("&nbsp;")') == []


def test_no_module_marks_built_html_safe():
    found = {
        path.relative_to(ROOT).as_posix(): lines
        for path in python_files()
        if (lines := built_html_marked_safe(path.read_text(encoding="utf-8")))
    }
    assert found == {}
