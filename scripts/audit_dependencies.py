#!/usr/bin/env python3
"""Audit the installed dependencies against known vulnerabilities, and fail unless every one was checked.

Runs pip-audit on the project's virtualenv (the resolved versions of the ranges in pyproject.toml,
dev tools included; the project itself is skipped as it is not published). Exit status:
  0  every dependency was checked and none has a known vulnerability
  1  a dependency has a known vulnerability: raise its lower bound in pyproject.toml
  2  some dependencies could not be checked (the vulnerability service did not answer, or answered
     "not found" for packages that exist): that is a failure too, never a pass. Only with
     LEDGER_AUDIT_UNREACHABLE=warn set does this print its warning and exit 0: a decision for
     whoever owns CI, made where everyone can see it.

Usage: .venv/bin/python scripts/audit_dependencies.py [--service pypi|osv]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def summarise(report: dict) -> tuple[int, list[str]]:
    """The exit status and the lines to print for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unchecked = [d for d in dependencies if "skip_reason" in d]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})"
            )
    if vulnerable:
        lines.append(f"{len(vulnerable)} dependencies have known vulnerabilities: raise their lower bounds.")
        return 1, lines
    if unchecked or not dependencies:
        lines.append(
            f"NOT AUDITED: {len(unchecked)} of {len(dependencies)} dependencies could not be checked, e.g. "
            + "; ".join(d["skip_reason"] for d in unchecked[:3])
        )
        lines.append(
            "The vulnerability service did not give an answer for them (packages such as Django certainly "
            "exist on PyPI), so nothing can be said about their safety. This is a failure, not a pass."
        )
        return 2, lines
    return 0, [f"No known vulnerabilities in {len(dependencies)} dependencies."]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    args = parser.parse_args()
    pip_audit = Path(sys.executable).parent / "pip-audit"
    completed = subprocess.run(
        [
            str(pip_audit),
            "--vulnerability-service",
            args.service,
            "--skip-editable",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        print(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "(no output)")
        print(
            f"NOT AUDITED: pip-audit could not query the {args.service} vulnerability service "
            f"(exit status {completed.returncode}). This is a failure, not a pass."
        )
        return unchecked_status(2)
    status, lines = summarise(report)
    print("\n".join(lines))
    return unchecked_status(status)


def unchecked_status(status: int) -> int:
    if status == 2 and os.environ.get("LEDGER_AUDIT_UNREACHABLE") == "warn":
        print(
            "WARNING: LEDGER_AUDIT_UNREACHABLE=warn: carrying on although the dependencies were NOT audited."
        )
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
