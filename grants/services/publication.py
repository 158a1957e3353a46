"""Publication text: a fund's open data facts and register defaults, its public page's switch, and
a line's own register text.

None of it moves money or changes who receives it, so one finance officer's word is enough; the
audit trail keeps every change (who, when, before and after). It stays correctable while the fund's
return is submitted: the submitted workbook carries none of it, and a statutory register that is
wrong must be put right without reopening the money. The public page shows only approved amounts,
which a second person has already approved, so switching it on discloses nothing on one word."""

from __future__ import annotations

from grants.models import Allocation, Fund, LineRegisterText
from grants.services._base import OptionalUser, _audited, _save_versioned

FUND_PUBLICATION_FIELDS = (
    "data_source_url",
    "register_purpose",
    "register_conditions",
    "register_crime_reduction",
    "beneficiary_location_name",
    "beneficiary_location_code",
    "beneficiary_location_code_type",
)


@_audited(reason="publication facts changed")
def fund_publication_update(
    *,
    fund: Fund,
    acting_user: OptionalUser,
    data_source_url: str = "",
    register_purpose: str = "",
    register_conditions: str = "",
    register_crime_reduction: str = "",
    beneficiary_location_name: str = "",
    beneficiary_location_code: str = "",
    beneficiary_location_code_type: str = "",
    is_published: bool = False,
    expected_version: int | None = None,
) -> Fund:
    fund.data_source_url = data_source_url.strip()
    fund.register_purpose = register_purpose.strip()
    fund.register_conditions = register_conditions.strip()
    fund.register_crime_reduction = register_crime_reduction.strip()
    # Blank, all three: the office's police force area from settings (grants/exports/).
    fund.beneficiary_location_name = beneficiary_location_name.strip()
    fund.beneficiary_location_code = beneficiary_location_code.strip().upper()
    fund.beneficiary_location_code_type = beneficiary_location_code_type.strip().upper()
    fund.is_published = is_published
    fund.full_clean()
    _save_versioned(fund, expected_version)
    return fund


@_audited(reason="register text changed")
def line_register_text_set(
    *,
    allocation: Allocation,
    acting_user: OptionalUser,
    purpose: str = "",
    conditions: str = "",
    crime_reduction: str = "",
    expected_version: int | None = None,
) -> LineRegisterText:
    """What the register says of one line where it differs from the fund's defaults; blank fields
    take the fund's. `expected_version` is the text's version when the form opened, 0 when the line
    had none: a form opened before a colleague's save is refused."""
    text, created = LineRegisterText.objects.select_for_update().get_or_create(allocation=allocation)
    if created and expected_version == 0:
        expected_version = text.version
    text.purpose, text.conditions, text.crime_reduction = (
        purpose.strip(),
        conditions.strip(),
        crime_reduction.strip(),
    )
    text.full_clean()
    _save_versioned(text, expected_version)
    return text
