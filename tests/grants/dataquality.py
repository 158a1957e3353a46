"""360Giving's Data Quality Tool's checks, restated for the tests from what its code does.

The rules are read from ThreeSixtyGiving/dataquality at commit
783b746fb031208e92553bdb47a37af8fc84fd32: `lib360dataquality/cove/threesixtygiving.py`
(check_charity_number, check_company_number, the usefulness tests of
TEST_CLASSES[USEFULNESS_TEST_CLASS], and the accuracy tests about organisation numbers,
identifiers and titles) and `lib360dataquality/check_field_present.py` (ClassificationNotPresent,
PlannedDurationNotPresent, the beneficiary location fields). That code is AGPL-3.0 and is not
copied: each function here is written anew to apply the rule the class of the same name applies,
returning True when a grant fails it. Checks about individuals and about many files
(RecipientInd..., MultiFunding...) do not apply to the ledger's grants.
"""

from __future__ import annotations

import re

# Every test here that is not about individuals, by the tool's class name.


def check_charity_number(charity_number) -> bool:
    charity_number = str(charity_number)
    try:
        int(charity_number)
    except ValueError:
        return False
    return len(charity_number) in (6, 7)


COMPANY_PATTERN = re.compile(r"^\w{8}$")


def check_company_number(company_number) -> bool:
    return COMPANY_PATTERN.match(company_number) is not None


def _recipients(grant):
    return grant.get("recipientOrganization", [])


def RecipientOrg360GPrefix(grant):  # noqa: N802 (the tool's class names)
    return any(org["id"].lower().startswith("360g") for org in _recipients(grant))


def FundingOrg360GPrefix(grant):  # noqa: N802
    return any(org["id"].lower().startswith("360g") for org in grant.get("fundingOrganization", []))


def RecipientOrgCharityNumber(grant):  # noqa: N802
    for org in _recipients(grant):
        if "charityNumber" not in org:
            continue
        number = str(org["charityNumber"])
        if number[:2].isalpha():
            number = number[2:]
        if not check_charity_number(number):
            return True
    return False


def RecipientOrgCompanyNumber(grant):  # noqa: N802
    return any(
        "companyNumber" in org and not check_company_number(org["companyNumber"])
        for org in _recipients(grant)
    )


def OrganizationIdLooksInvalid(grant):  # noqa: N802
    for org_type in ("fundingOrganization", "recipientOrganization"):
        for org in grant.get(org_type, []):
            org_id = org.get("id") or ""
            if org_id.upper().startswith("GB-CHC-") and not check_charity_number(org_id[7:]):
                return True
            if org_id.upper().startswith("GB-COH-") and not check_company_number(org_id[7:]):
                return True
    return False


def NoRecipientOrgCompanyCharityNumber(grant):  # noqa: N802
    return any(not (org.get("companyNumber") or org.get("charityNumber")) for org in _recipients(grant))


def IncompleteRecipientOrg(grant):  # noqa: N802
    for org in _recipients(grant):
        has_location = org.get("location") and any(place.get("geoCode") for place in org.get("location"))
        if not (org.get("postalCode") or has_location):
            return True
    return False


def NoGrantProgramme(grant):  # noqa: N802
    return not grant.get("grantProgramme")


def NoBeneficiaryLocation(grant):  # noqa: N802
    return not grant.get("beneficiaryLocation")


def TitleDescriptionSame(grant):  # noqa: N802
    title, description = grant.get("title"), grant.get("description")
    return bool(title and description and title == description)


def TitleLength(grant):  # noqa: N802
    return len(grant.get("title", "")) > 140


def NoLastModified(grant):  # noqa: N802
    return not grant.get("dateModified")


def NoDataSource(grant):  # noqa: N802
    return not grant.get("dataSource")


def PlannedDurationNotPresent(grant):  # noqa: N802
    try:
        dates = grant["plannedDates"][0]
    except (KeyError, IndexError):
        return True
    return not (dates.get("duration") is not None or (dates.get("startDate") and dates.get("endDate")))


def BeneficiaryLocationNameButNoCode(grant):  # noqa: N802
    return any(
        place.get("name") and not place.get("geoCode") for place in grant.get("beneficiaryLocation", [])
    )


def BeneficiaryButNotRecipientGeoData(grant):  # noqa: N802
    first = grant["recipientOrganization"][0]
    return (
        bool(grant.get("beneficiaryLocation")) and not first.get("postalCode") and not first.get("location")
    )


def RecipientGeoDataButNoBeneficiary(grant):  # noqa: N802
    first = grant["recipientOrganization"][0]
    return bool(first.get("location")) and not grant.get("beneficiaryLocation")


def _present(path):
    def check(grant):
        value = grant
        try:
            for part in path:
                value = value[part]
        except (KeyError, IndexError):
            return True
        return not value

    return check


ClassificationNotPresent = _present(("classifications", 0, "title"))
BeneficiaryLocationNameNotPresent = _present(("beneficiaryLocation", 0, "name"))
BeneficiaryLocationCountryCodeNotPresent = _present(("beneficiaryLocation", 0, "countryCode"))
BeneficiaryLocationGeoCodeNotPresent = _present(("beneficiaryLocation", 0, "geoCode"))
GrantProgrammeTitleNotPresent = _present(("grantProgramme", 0, "title"))

CHECKS = {
    name: check
    for name, check in dict(globals()).items()
    if callable(check) and name[0].isupper() and name not in {"COMPANY_PATTERN"}
}


def warnings(package: dict) -> dict[str, list[str]]:
    """Each check some grant fails, with the ids of the grants that fail it; empty when clean."""
    failed: dict[str, list[str]] = {}
    for grant in package["grants"]:
        for name, check in CHECKS.items():
            if check(grant):
                failed.setdefault(name, []).append(grant["id"])
    return failed
