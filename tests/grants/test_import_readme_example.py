"""The worked example in the README's "Importing your own table": the same table, the same options,
and the output the README shows, word for word (its SHA-256 aside, which changes with the workbook's
saved time). If the import reads the table differently, this fails until the README is changed too."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

from grants import money
from grants.models import Fund
from tests.grants.test_import_command import run, run_json
from tests.grants.workbooks import xlsx

README = Path(__file__).resolve().parents[2] / "README.md"

EXAMPLE_ROWS = [
    ("Victims' Services Fund 2021/22: allocations approved (£148,250.00)",),
    (),
    ("Provider", "£"),
    ("Sexual violence support",),
    ("Coventry Rape and Sexual Abuse Centre (CRASAC)", Decimal("41250.00")),
    ("The Rape and Sexual Violence Project (RSVP)", Decimal("38600.00")),
    ("Domestic abuse support",),
    ("Birmingham & Solihull Women's Aid", Decimal("36400.00")),
    ("Wolverhampton Haven", Decimal("21976.00")),
    ("Sandwell Women's Aid", Decimal("10024.50")),
    (),
    ("Total", Decimal("148250.00")),
]

OPTIONS = [
    "--value",
    "Sexual violence support=Sexual Violence",
    "--value",
    "Domestic abuse support=Domestic Abuse",
    "--funding-category",
    "DA PCC commissioned",
]


def example_fund(seed_fund) -> Fund:
    return Fund.objects.create(
        code="vsf-2021-22",
        name="Victims' Services Fund 2021/22",
        funder=seed_fund.funder,
        spend_start=datetime.date(2021, 4, 1),
        spend_end=datetime.date(2022, 3, 31),
        control_total=money.gbp("148250.00"),
    )


def readme_block(marker: str) -> list[str]:
    """The lines of the fenced block that follows `<!-- marker -->` in the README."""
    text = README.read_text()
    after = text[text.index(f"<!-- {marker} -->") :]
    match = re.search(r"```[a-z]*\n(.*?)```", after, re.DOTALL)
    return match.group(1).rstrip("\n").splitlines()


def without_sha256(lines: list[str]) -> list[str]:
    return [re.sub(r"SHA-256 [0-9a-f]{64}", "SHA-256 ...", line) for line in lines]


def as_printed(rows) -> list[str]:
    """The table as the README prints it: row numbers, texts, amounts right-aligned."""
    printed = []
    for number, row in enumerate(rows, start=1):
        text = str(row[0]) if row else ""
        amount = row[1] if len(row) > 1 else ""
        if isinstance(amount, Decimal):
            amount = money.format_gbp(amount).lstrip("£")
        printed.append(f"{number:>2}  {text:<45}  {amount:>11}".rstrip())
    return printed


def test_the_readme_shows_the_example_table():
    assert readme_block("import example: table") == as_printed(EXAMPLE_ROWS)


def test_the_readme_example_output_is_what_the_command_prints(seed_fund, tmp_path, officer):
    fund = example_fund(seed_fund)
    path = tmp_path / "VSF allocations 2021-22.xlsx"
    path.write_bytes(xlsx(EXAMPLE_ROWS))

    out, status, error = run(fund.code, str(path), "--dry-run")
    assert (out, status) == ("", 2)
    assert error.splitlines()[-4:] == readme_block("import example: hints")

    out, status, error = run(fund.code, str(path), "--dry-run", *OPTIONS)
    assert status == 0, error
    assert without_sha256(out.splitlines()) == readme_block("import example: output")

    # The figures the README's prose states.
    data, status = run_json(fund.code, str(path), "--user", "officer", *OPTIONS)
    assert (status, data["written"], data["line_count"]) == (0, True, 5)
    assert (data["total"], data["stated_total"], data["difference"]) == ("148250.50", "148250.00", "0.50")
    assert [new["name"] for new in data["new_organisations"]] == ["Sandwell Women's Aid"]
    assert data["reconciliation_after"]["variance"] == "0.50"
    again, status = run_json(fund.code, str(path), "--user", "officer", *OPTIONS)
    assert (status, again["written"]) == (0, False)
    assert {line["action"] for line in again["lines"]} == {"unchanged"}
