"""What a column's heading means: the fields an allocation table can have, each with its heading's
common synonyms ("Organisation", "Provider", "Recipient", ...), a heading a letter from one of them
("Provided"), and a lone "£" over the amounts."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass


def normalise(text: str) -> str:
    """Text compared ignoring case, spacing and punctuation: "Women's  Aid," and "womens aid" match."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


@dataclass(frozen=True)
class Field:
    """What a column of an allocation table can be: its key (as `--column` names it), the ledger's
    title for it, and the headings that mean it, normalised."""

    key: str
    title: str
    headings: frozenset[str]


FIELDS = [
    Field("number", "No.", frozenset({"no", "number", "lineno", "linenumber", "line", "ref", "reference"})),
    Field(
        "organisation",
        "Organisation",
        frozenset(
            {
                "organisation",
                "organization",
                "organisationname",
                "provider",
                "providername",
                "serviceprovider",
                "recipient",
                "recipientorganisation",
                "grantee",
            }
        ),
    ),
    Field("service", "Service", frozenset({"service", "servicename", "project", "projectname"})),
    Field("thematic_area", "Thematic area", frozenset({"thematicarea", "theme", "area"})),
    Field(
        "amount",
        "Amount",
        frozenset(
            {
                "amount",
                "amountgbp",
                "amountawarded",
                "allocation",
                "allocated",
                "award",
                "awarded",
                "grant",
                "grantamount",
                "grantawarded",
                "grantvalue",
                "value",
                "funding",
                "fundingamount",
                "fundingawarded",
                "amountfunded",
            }
        ),
    ),
    Field(
        "funding_category",
        "Funding category",
        frozenset({"extraordinaryfundingcategory", "fundingcategory", "category", "fundingstream", "stream"}),
    ),
    Field("award_date", "Award date", frozenset({"date", "awarddate", "effectivedate", "dateawarded"})),
    Field(
        "notes",
        "Notes",
        frozenset({"notes", "note", "furtherdetail", "furtherdetails", "detail", "details", "comments"}),
    ),
    # A table by year: a Year column beside one amount column, each row a line's amount for that year.
    Field("year", "Financial year", frozenset({"year", "financialyear", "fy"})),
    # Beside year amount columns, a line's total: checked against its years, never imported.
    Field("total", "Total", frozenset({"total", "totals", "linetotal", "grandtotal"})),
]


FIELD_BY_KEY = {item.key: item for item in FIELDS}


FIELD_BY_HEADING = {heading: item for item in FIELDS for heading in item.headings}


IGNORE = "ignore"


IGNORE_FIELD = Field(IGNORE, "ignored", frozenset())


# What a column can be mapped to, in the order the preview offers them.
FIELD_CHOICES = [(item.key, item.title) for item in FIELDS] + [(IGNORE, "Ignore this column")]


# The fields of which a table has one column at most; notes can come from several.
SINGLE_FIELDS = {item.key for item in FIELDS} - {"notes"}


CURRENCY_HEADINGS = {"£", "(£)", "£s", "gbp", "£gbp"}


def is_currency_heading(value) -> bool:
    """A heading that is only a currency sign ("£", "(£)", "GBP"), over a column of amounts."""
    return isinstance(value, str) and value.strip().casefold().replace(" ", "") in CURRENCY_HEADINGS


def field_for_heading(value) -> tuple[Field | None, str]:
    """The field a heading names and how it was read: what is in brackets ("Amount (£)") is a note
    and ignored; a heading a letter from a synonym ("Provided") is read as it, and says so."""
    if not isinstance(value, str) or not value.strip():
        return None, ""
    if is_currency_heading(value):
        return FIELD_BY_KEY["amount"], "heading"
    key = normalise(re.sub(r"\(.*?\)", "", value))
    if key in FIELD_BY_HEADING:
        return FIELD_BY_HEADING[key], "heading"
    if 5 <= len(key) <= 30:
        # A misprint, not another word: the same length give or take a letter, and all but a letter
        # or two alike ("Provided" for Provider; not "Granted" for Grantee, nor "Awarded to").
        candidates = [heading for heading in FIELD_BY_HEADING if abs(len(heading) - len(key)) <= 1]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.87)
        if close:
            return FIELD_BY_HEADING[close[0]], f"heading close to {close[0]!r}"
    return None, ""
