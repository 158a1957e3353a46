"""A fund's allocations as 360Giving open data: the standard's spreadsheet columns or its JSON package.

Each allocation is one grant from the office (Funding Org) to the provider (Recipient Org), under the
fund as its grant programme. Builders here are pure: plain `Grant` records in, rows or a package out.
Every export is checked against the standard's own JSON schemas, shipped in `schemas/threesixtygiving`
(CC BY 4.0, see NOTICE.md there) so nothing is fetched at run time.

Recipient identifiers follow the standard's guidance: an org-id from the organisation's registered
numbers where it has them, and otherwise one made from the publisher's 360G prefix and the ledger's
own id for the organisation. Nothing is guessed; the organisations given a made-up identifier are
reported so the office can add their numbers.
"""

from __future__ import annotations

import csv
import datetime
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, TextIO

import simplejson
import xlsxwriter
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from grants.models import FORMULA_STARTS

SCHEMA_FOLDER = Path(__file__).parent / "schemas" / "threesixtygiving"
STANDARD_VERSION = "1.4"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@dataclass(frozen=True)
class Recipient:
    identifier: str
    name: str
    charity_number: str
    company_number: str
    identifier_is_generated: bool
    postcode: str = ""
    location_code: str = ""


def recipient_identifier(
    *,
    org_identifier: str,
    charity_number: str,
    company_number: str,
    prefix: str,
    internal_id: int,
    ni_charity_number: str = "",
) -> tuple[str, bool]:
    """The org-id for a recipient, and whether it had to be made from the 360G prefix.

    The numbers arrive as the ledger stores them, already checked by the model's validators.

    An explicit org-id wins; then the charity number (GB-SC- for Scottish charities, GB-NIC- for
    Northern Irish ones, GB-CHC- for England and Wales); then the company number, leading zeros kept;
    and only then `<prefix>-ORG-<id>`, as the standard's guidance says for unregistered recipients.
    """
    if org_identifier.strip():
        return org_identifier.strip(), False
    charity = re.sub(r"\s+", "", charity_number).upper()
    if charity:
        if charity.startswith("SC"):
            return f"GB-SC-{charity}", False
        if charity.startswith("NIC"):
            return f"GB-NIC-{charity[3:]}", False
        return f"GB-CHC-{charity}", False
    northern_irish = re.sub(r"\s+", "", ni_charity_number).upper()
    if northern_irish:
        return f"GB-NIC-{northern_irish.removeprefix('NIC')}", False
    company = re.sub(r"\s+", "", company_number).upper()
    if company:
        return f"GB-COH-{company}", False
    return f"{prefix}-ORG-{internal_id}", True


@dataclass(frozen=True)
class BeneficiaryLocation:
    """Where the beneficiaries are: for a police and crime commissioner, the force area."""

    name: str
    geo_code: str = ""
    geo_code_type: str = ""
    country_code: str = "GB"


@dataclass(frozen=True)
class Grant:
    identifier: str
    title: str
    description: str
    amount_awarded: Decimal
    award_date: datetime.date
    planned_start: datetime.date
    planned_end: datetime.date
    recipient: Recipient
    funder_identifier: str
    funder_name: str
    programme_code: str
    programme_title: str
    last_modified: datetime.datetime
    beneficiary_location: BeneficiaryLocation | None = None
    data_source: str = ""
    # (vocabulary, code, title): the line's thematic area and funding category.
    classifications: tuple[tuple[str, str, str], ...] = ()


TITLE_LIMIT = 140


def short_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """A grant's title within 360Giving's 140 characters (the Data Quality Tool's TitleLength check):
    whole when it fits, otherwise cut at the last whole word that leaves room for an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def _location(attribute: str) -> Callable[[Grant], str]:
    return lambda grant: getattr(grant.beneficiary_location, attribute) if grant.beneficiary_location else ""


# Each grant's classifications: its thematic area and its funding category.
CLASSIFICATIONS = 2


def _classification(index: int, position: int) -> Callable[[Grant], str]:
    return lambda grant: grant.classifications[index][position] if index < len(grant.classifications) else ""


# The standard's titles for the columns we fill, in the order its template gives them.
COLUMNS: list[tuple[str, Callable[[Grant], object]]] = [
    ("Identifier", lambda g: g.identifier),
    ("Title", lambda g: g.title),
    ("Description", lambda g: g.description),
    ("Currency", lambda g: "GBP"),
    ("Amount Awarded", lambda g: g.amount_awarded),
    ("Award Date", lambda g: g.award_date),
    ("Planned Dates:Start Date", lambda g: g.planned_start),
    ("Planned Dates:End Date", lambda g: g.planned_end),
    ("Recipient Org:Identifier", lambda g: g.recipient.identifier),
    ("Recipient Org:Name", lambda g: g.recipient.name),
    ("Recipient Org:Charity Number", lambda g: g.recipient.charity_number),
    ("Recipient Org:Company Number", lambda g: g.recipient.company_number),
    ("Recipient Org:Postal Code", lambda g: g.recipient.postcode),
    # Not on the template's grants sheet, but the schema's titles flattentool reads: without them a
    # recipient known by its location code, and the classifications, were in the JSON only, and the
    # spreadsheet 360Giving converts raised IncompleteRecipientOrg and ClassificationNotPresent.
    ("Recipient Org:Location:Geographic Code", lambda g: g.recipient.location_code),
    ("Recipient Org:Location:Country Code", lambda g: "GB" if g.recipient.location_code else ""),
    ("Beneficiary Location:Name", _location("name")),
    ("Beneficiary Location:Country Code", _location("country_code")),
    ("Beneficiary Location:Geographic Code", _location("geo_code")),
    ("Beneficiary Location:Geographic Code Type", _location("geo_code_type")),
    ("Funding Org:Identifier", lambda g: g.funder_identifier),
    ("Funding Org:Name", lambda g: g.funder_name),
    ("Grant Programme:Code", lambda g: g.programme_code),
    ("Grant Programme:Title", lambda g: g.programme_title),
    ("Last Modified", lambda g: g.last_modified),
    ("Data Source", lambda g: g.data_source),
    *(
        (f"Classifications:{index}:{part}", _classification(index, position))
        for index in range(CLASSIFICATIONS)
        for position, part in enumerate(("Vocabulary", "Code", "Title"))
    ),
]

# The schema's titles beyond the template's grants sheet that the spreadsheets carry.
EXTRA_COLUMNS = [
    "Recipient Org:Location:Geographic Code",
    "Recipient Org:Location:Country Code",
    *(
        f"Classifications:{index}:{part}"
        for index in range(CLASSIFICATIONS)
        for part in ("Vocabulary", "Code", "Title")
    ),
]


def grant_json(grant: Grant) -> dict:
    recipient = {"id": grant.recipient.identifier, "name": grant.recipient.name}
    if grant.recipient.charity_number:
        recipient["charityNumber"] = grant.recipient.charity_number
    if grant.recipient.company_number:
        recipient["companyNumber"] = grant.recipient.company_number
    if grant.recipient.postcode:
        recipient["postalCode"] = grant.recipient.postcode
    if grant.recipient.location_code:
        recipient["location"] = [{"geoCode": grant.recipient.location_code, "countryCode": "GB"}]
    data = {
        "id": grant.identifier,
        "title": grant.title,
        "description": grant.description,
        "currency": "GBP",
        "amountAwarded": grant.amount_awarded,
        "awardDate": grant.award_date.isoformat(),
        "plannedDates": [
            {"startDate": grant.planned_start.isoformat(), "endDate": grant.planned_end.isoformat()}
        ],
        "recipientOrganization": [recipient],
        "fundingOrganization": [{"id": grant.funder_identifier, "name": grant.funder_name}],
        "grantProgramme": [{"code": grant.programme_code, "title": grant.programme_title}],
        "dateModified": grant.last_modified.isoformat(timespec="seconds"),
    }
    location = grant.beneficiary_location
    if location is not None:
        place = {"name": location.name, "countryCode": location.country_code}
        if location.geo_code:
            place["geoCode"] = location.geo_code
        if location.geo_code_type:
            place["geoCodeType"] = location.geo_code_type
        data["beneficiaryLocation"] = [place]
    if grant.data_source:
        data["dataSource"] = grant.data_source
    if grant.classifications:
        data["classifications"] = [
            {"vocabulary": vocabulary, "code": code, "title": title}
            for vocabulary, code, title in grant.classifications
        ]
    return data


def package_json(
    grants: Iterable[Grant], *, title: str, publisher_name: str, publisher_id: str, issued: datetime.date
) -> dict:
    return {
        "version": STANDARD_VERSION,
        "title": title,
        "issued": issued.isoformat(),
        "publisher": {"name": publisher_name, "identifier": publisher_id},
        "license": LICENSE_URL,
        "grants": [grant_json(grant) for grant in grants],
    }


@functools.cache
def package_validator() -> Draft202012Validator:
    """The package schema, its reference to the grant schema resolved to the shipped copy."""
    grant_schema = json.loads((SCHEMA_FOLDER / "360-giving-schema.json").read_text())
    package_schema = json.loads((SCHEMA_FOLDER / "360-giving-package-schema.json").read_text())
    # The schemas name their dialect as "http://json-schema.org/draft/2020-12/schema", which
    # `referencing` does not recognise (the official id is https); say which it is.
    grant_resource = DRAFT202012.create_resource(grant_schema)
    registry = Registry().with_resources(
        [
            (package_schema["properties"]["grants"]["items"]["$ref"], grant_resource),
            (grant_schema["$id"], grant_resource),
        ]
    )
    return Draft202012Validator(
        package_schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(package: dict) -> list[str]:
    """Every way the package breaks the standard's schemas, as readable lines; empty when valid."""
    lines = []
    for error in sorted(
        package_validator().iter_errors(package), key=lambda error: list(error.absolute_path)
    ):
        # A oneOf failure says only that the whole grant matched no branch; its closest branch's
        # own error names the field.
        cause = best_match(error.context) if error.context else error
        location = "/".join(str(part) for part in cause.absolute_path) or "(package)"
        lines.append(f"{location}: {cause.message}")
    return lines


def write_json(package: dict, stream: TextIO) -> None:
    """The package as JSON; amounts are written as exact decimal numbers, never through a float."""
    simplejson.dump(package, stream, use_decimal=True, indent=2, ensure_ascii=False)
    stream.write("\n")


def _as_text(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class FormulaInCell(ValueError):
    """A value the 360Giving CSV would carry as a live spreadsheet formula."""


def _exact_text(title: str, grant: Grant, value) -> object:
    text = _as_text(value)
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        raise FormulaInCell(
            f"{grant.identifier}, {title}: {text!r} begins like a spreadsheet formula, so the CSV is not "
            "written. Rename it (names cannot begin with =, +, -, @, a tab or a carriage return) and "
            "export again."
        )
    return text


def write_csv(grants: Iterable[Grant], stream: TextIO) -> None:
    """The standard's grants sheet as CSV.

    Values are written exactly as they are: this is open data for programs to read, and the usual
    defence against spreadsheet formulas (a leading apostrophe) would change the data. So it relies
    on names never beginning like a formula (`grants.models.not_a_formula`, a CHECK in the
    database), and refuses, raising `FormulaInCell`, rather than write a cell that does. The .xlsx
    format is the one for people to open.
    """
    writer = csv.writer(stream)
    writer.writerow([title for title, _ in COLUMNS])
    for grant in grants:
        writer.writerow([_exact_text(title, grant, value(grant)) for title, value in COLUMNS])


# The package's fields on the Meta sheet of 360Giving's 2023 template: one a row, the package
# schema's title in column A and the value in column B (flattentool's vertical metatab, which
# 360Giving's own conversion reads with --metatab-name Meta --metatab-vertical-orientation).
META_ROWS: list[tuple[str, Callable[[dict], str]]] = [
    ("Version", lambda package: package["version"]),
    ("Title", lambda package: package["title"]),
    ("Issued", lambda package: package["issued"]),
    ("Publisher:Identifier", lambda package: package["publisher"]["identifier"]),
    ("Publisher:Name", lambda package: package["publisher"]["name"]),
    ("License", lambda package: package["license"]),
]


def write_xlsx(grants: Iterable[Grant], output: str | BinaryIO, package: dict | None = None) -> None:
    """The standard's grants sheet as .xlsx, and its Meta sheet when given the package: amounts as
    numbers, text as text, and dates as ISO text (2020-08-19), as the standard's template holds
    them, so that flattentool keeps them as dates instead of turning a date cell into a timestamp."""
    workbook = xlsxwriter.Workbook(
        output, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("grants")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    for column, (title, _) in enumerate(COLUMNS):
        sheet.write_string(0, column, title, bold)
        sheet.set_column(column, column, max(14, len(title) + 2))
    sheet.freeze_panes(1, 0)
    row = 0
    for row, grant in enumerate(grants, start=1):
        for column, (_, value) in enumerate(COLUMNS):
            cell = value(grant)
            if isinstance(cell, Decimal):
                sheet.write_number(row, column, cell, money)
            elif isinstance(cell, datetime.date):
                sheet.write_string(row, column, _as_text(cell))
            elif cell:
                sheet.write_string(row, column, cell)
    sheet.autofilter(0, 0, max(row, 1), len(COLUMNS) - 1)
    if package is not None:
        meta = workbook.add_worksheet("Meta")
        meta.set_column(0, 0, 22)
        meta.set_column(1, 1, 70)
        for index, (title, value) in enumerate(META_ROWS):
            meta.write_string(index, 0, title, bold)
            meta.write_string(index, 1, value(package))
    workbook.close()
