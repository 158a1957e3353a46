"""Adding and correcting providers: `organisations_create` for a batch, and the one-row services the
organisation form calls."""

from __future__ import annotations

from grants.imports import NewOrganisation
from grants.models import Organisation, normal_postcode
from grants.services._base import OptionalUser, _audited, _save_versioned
from grants.services._batch import RowsRefused, _clean_rows, _constraint_message, _Problems, _the_one

# What open data reads from an organisation beyond its name and the numbers every form had.
OPEN_DATA_FIELDS = (
    "charity_subsidiary_number",
    "ni_charity_number",
    "registered_address",
    "postcode",
    "location_code",
)


@_audited()
def organisation_create(
    *,
    name: str,
    acting_user: OptionalUser,
    short_name: str = "",
    charity_number: str = "",
    company_number: str = "",
    org_identifier: str = "",
    contact_email: str = "",
    charity_subsidiary_number: str = "",
    ni_charity_number: str = "",
    registered_address: str = "",
    postcode: str = "",
    location_code: str = "",
    notes: str = "",
) -> Organisation:
    """Add a provider: `organisations_create()` with one. Names are unique ignoring case, so the same
    body is never entered twice."""
    new = NewOrganisation(
        name=name,
        short_name=short_name,
        charity_number=charity_number,
        company_number=company_number,
        org_identifier=org_identifier,
        contact_email=contact_email,
        charity_subsidiary_number=charity_subsidiary_number,
        ni_charity_number=ni_charity_number,
        registered_address=registered_address,
        postcode=postcode,
        location_code=location_code,
        notes=notes,
    )
    try:
        (organisation,) = organisations_create(organisations=[new], acting_user=acting_user)
    except RowsRefused as refused:
        raise _the_one(refused) from None
    return organisation


@_audited()
def organisation_update(
    *, organisation: Organisation, acting_user: OptionalUser, expected_version: int | None = None
) -> Organisation:
    """Save corrections to a provider's details, trimmed and validated as when it was added.

    Allowed on a fund whose return is submitted: the submitted workbook keeps the name it was sent
    with, and the fund's page says where a name has changed since (`selectors.names_changed_since`).
    With `expected_version`, refused if someone saved the provider since the form was opened."""
    for field in (
        "name",
        "short_name",
        "charity_number",
        "company_number",
        "org_identifier",
        "contact_email",
        *OPEN_DATA_FIELDS,
    ):
        setattr(organisation, field, getattr(organisation, field).strip())
    organisation.postcode = normal_postcode(organisation.postcode)
    organisation.ni_charity_number = organisation.ni_charity_number.upper()
    organisation.full_clean()
    _save_versioned(organisation, expected_version)
    return organisation


@_audited()
def organisations_create(
    *, organisations: list[NewOrganisation], acting_user: OptionalUser
) -> list[Organisation]:
    """Add providers: all of them or, if any row has a problem, none (`RowsRefused`). Names are unique
    ignoring case, checked against the ledger with one query and against each other in memory."""
    problems = _Problems()
    rows = [
        Organisation(
            name=new.name.strip(),
            short_name=new.short_name.strip(),
            charity_number=new.charity_number.strip(),
            company_number=new.company_number.strip(),
            org_identifier=new.org_identifier.strip(),
            contact_email=new.contact_email.strip(),
            charity_subsidiary_number=new.charity_subsidiary_number.strip(),
            ni_charity_number=new.ni_charity_number.strip().upper(),
            registered_address=new.registered_address.strip(),
            postcode=normal_postcode(new.postcode),
            location_code=new.location_code.strip().upper(),
            notes=new.notes,
        )
        for new in organisations
    ]
    _clean_rows(rows, problems, references=())
    # Compared with Python's lower(): the same as the constraint's LOWER() on PostgreSQL, and stricter
    # than SQLite's (which lowers ASCII letters only), so a name the database would refuse never slips by.
    taken = {name.lower() for name in Organisation.objects.values_list("name", flat=True)}
    name_taken = _constraint_message(Organisation, "organisation_name_is_unique_ignoring_case")
    in_batch: set[str] = set()
    for index, organisation in enumerate(rows):
        key = organisation.name.lower()
        if key in taken:
            problems.add(index, name_taken)
        elif key in in_batch:
            problems.add(index, "This batch has two organisations with this name.")
        in_batch.add(key)
    problems.raise_any()
    return Organisation.objects.bulk_create(rows)
