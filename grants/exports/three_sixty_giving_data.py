"""A fund's grants as 360Giving data: the settings it needs and the grants it publishes."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone

from grants import money
from grants.exports.three_sixty_giving import (
    BeneficiaryLocation,
    Grant,
    Recipient,
    package_json,
    recipient_identifier,
    short_title,
)
from grants.models import (
    Allocation,
    Fund,
    LedgerEntry,
    has_approved_award,
)


class ThreeSixtyGivingNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class ThreeSixtyGivingExport:
    grants: list[Grant]
    package: dict

    @property
    def generated_identifiers(self) -> list[Recipient]:
        """Recipients with no charity, company or org-id: their identifier was made from our prefix."""
        unique = {grant.recipient.identifier: grant.recipient for grant in self.grants}
        return sorted(
            (recipient for recipient in unique.values() if recipient.identifier_is_generated),
            key=lambda recipient: recipient.name,
        )


# What each setting holds, in a finance officer's words: what to ask an administrator for.
SETTING_WORDS = {
    "LEDGER_360GIVING_PREFIX": "the office's 360Giving publisher prefix (360Giving issues it, like 360G-abc)",
    "LEDGER_OFFICE_ORG_ID": "the office's org-id (its identifier from org-id.guide)",
}
NOT_SET_UP = "360Giving files cannot be made yet"


def three_sixty_giving_problem() -> str | None:
    """What stops a 360Giving export under the current settings, or None when it can run: said for
    the finance officer who meets it, as what to ask an administrator to set."""
    prefix = settings.LEDGER_360GIVING_PREFIX.strip()
    office_id = settings.LEDGER_OFFICE_ORG_ID.strip()
    missing = [
        name
        for name, value in (("LEDGER_360GIVING_PREFIX", prefix), ("LEDGER_OFFICE_ORG_ID", office_id))
        if not value
    ]
    if missing:
        return (
            f"{NOT_SET_UP}: ask an administrator to set "
            f"{' and '.join(SETTING_WORDS[name] for name in missing)} in the ledger's settings "
            f"({' and '.join(missing)}). 360Giving data names the publisher by its own identifiers, "
            "and the ledger does not make them up."
        )
    if not re.fullmatch(r"360G-[A-Za-z0-9_-]+", prefix):
        return (
            f"{NOT_SET_UP}: the office's 360Giving publisher prefix is set to {prefix!r}, but a "
            "prefix looks like 360G-abc, as 360Giving issued it. Ask an administrator to correct "
            "LEDGER_360GIVING_PREFIX in the ledger's settings."
        )
    return None


def three_sixty_giving_settings() -> tuple[str, str]:
    problem = three_sixty_giving_problem()
    if problem is not None:
        raise ThreeSixtyGivingNotConfigured(problem)
    return settings.LEDGER_360GIVING_PREFIX.strip(), settings.LEDGER_OFFICE_ORG_ID.strip()


def data_source(fund: Fund) -> str:
    """Where the fund's figures come from: its own link, or the office's page for open data."""
    return fund.data_source_url.strip() or settings.LEDGER_DATA_SOURCE_DEFAULT.strip()


def fund_has_own_beneficiary_location(fund: Fund) -> bool:
    return bool(fund.beneficiary_location_name.strip())


def beneficiary_location(fund: Fund) -> BeneficiaryLocation | None:
    """Where the fund's beneficiaries are: its own location when it has one, else the office's
    police force area from settings; None when neither is set."""
    if fund_has_own_beneficiary_location(fund):
        return BeneficiaryLocation(
            name=fund.beneficiary_location_name.strip(),
            geo_code=fund.beneficiary_location_code.strip(),
            geo_code_type=fund.beneficiary_location_code_type.strip(),
        )
    name = settings.LEDGER_BENEFICIARY_LOCATION_NAME.strip()
    if not name:
        return None
    return BeneficiaryLocation(
        name=name,
        geo_code=settings.LEDGER_BENEFICIARY_LOCATION_CODE.strip(),
        geo_code_type=settings.LEDGER_BENEFICIARY_LOCATION_CODE_TYPE.strip(),
    )


def three_sixty_giving_export(fund: Fund) -> ThreeSixtyGivingExport:
    """The fund's allocations as 360Giving grants, in line order, with the package they make. Only
    approved amounts are published; a line with nothing approved yet is left out."""
    prefix, office_id = three_sixty_giving_settings()
    fund = Fund.objects.select_related("funder").get(pk=fund.pk)
    award = Q(entries__kind=LedgerEntry.Kind.AWARD)
    lines = (
        Allocation.objects.for_fund(fund)
        .filter(has_approved_award())
        .with_awarded()
        .annotate(
            award_date=Min("entries__effective_date", filter=award),
            # What is published is the approved amount, so it last changed when an entry was approved.
            last_modified=Max(
                "entries__approved_at", filter=Q(entries__kind__in=LedgerEntry.Kind.awarded_kinds())
            ),
        )
        .select_related("organisation", "thematic_area", "funding_category")
        .order_by("line_number")
    )
    period = f"{long_date(fund.spend_start)} to {long_date(fund.spend_end)}"
    location = beneficiary_location(fund)
    source = data_source(fund)
    grants = []
    for line in lines:
        if line.award_date is None:
            raise ThreeSixtyGivingNotConfigured(
                f"Line {line.line_number} of {fund.code} has no award entry, so it has no award date; "
                "record its award before publishing."
            )
        organisation = line.organisation
        identifier, generated = recipient_identifier(
            org_identifier=organisation.org_identifier,
            charity_number=organisation.charity_number,
            company_number=organisation.company_number,
            ni_charity_number=organisation.ni_charity_number,
            prefix=prefix,
            internal_id=organisation.pk,
        )
        grants.append(
            Grant(
                identifier=f"{prefix}-{fund.code}-{line.line_number}",
                title=short_title(f"{fund.name}: {_with_service(organisation.name, line.service)}"),
                description=(
                    f"{line.funding_category.name} allocation ({line.thematic_area.name}) from the "
                    f"{fund.funder.name}'s {fund.name}, spend period {period}; line {line.line_number} "
                    "of the fund's allocation table."
                ),
                amount_awarded=money.from_aggregate(line.awarded).amount,
                award_date=line.award_date,
                planned_start=fund.spend_start,
                planned_end=fund.spend_end,
                recipient=Recipient(
                    identifier=identifier,
                    name=organisation.name,
                    charity_number=published_charity_number(organisation),
                    company_number=organisation.company_number,
                    identifier_is_generated=generated,
                    postcode=organisation.postcode,
                    location_code=organisation.location_code,
                ),
                funder_identifier=office_id,
                funder_name=settings.LEDGER_OFFICE_NAME,
                programme_code=fund.code,
                programme_title=fund.name,
                last_modified=timezone.localtime(line.last_modified),
                beneficiary_location=location,
                data_source=source,
                classifications=(
                    (f"{prefix}-thematic-area", line.thematic_area.code, line.thematic_area.name),
                    (f"{prefix}-funding-category", line.funding_category.code, line.funding_category.name),
                ),
            )
        )
    package = package_json(
        grants,
        title=f"{settings.LEDGER_OFFICE_NAME}: {fund.name} ({fund.code})",
        publisher_name=settings.LEDGER_OFFICE_NAME,
        publisher_id=office_id,
        issued=timezone.localdate(),
    )
    return ThreeSixtyGivingExport(grants=grants, package=package)


def published_charity_number(organisation) -> str:
    """The Charity Number column: the main number as registered (a subsidiary's suffix is not part of
    it), or for a Northern Irish charity its 6 digits, the form 360Giving's tool checks."""
    if organisation.charity_number:
        return organisation.charity_number
    return organisation.ni_charity_number.removeprefix("NIC")


def _with_service(name: str, service: str) -> str:
    return f"{name}, {service}" if service else name


def long_date(day: datetime.date) -> str:
    """23 March 2020 (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"
