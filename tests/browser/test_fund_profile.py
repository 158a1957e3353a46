"""A finance officer profiles a three-year fund in a real browser: one labelled input per financial
year, an error shown beside its year, then the figures saved and the fund page's table by year."""

import datetime
import re
from decimal import Decimal

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import Fund, FundYear
from tests.browser.test_finance_officer import arrive
from tests.browser.test_import import serious_accessibility_violations
from tests.factories import FundFactory

pytestmark = pytest.mark.browser


def test_an_officer_profiles_a_fund_by_year_without_javascript_errors(officer_page, seed_fund, screenshot):
    fund = FundFactory(
        code="moj-vs-2023",
        name="Victims' services 2023-26",
        funder=seed_fund.funder,
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2026, 3, 31),
        control_total=Money(Decimal("100000.00"), "GBP"),
    )
    page = officer_page
    page.goto(f"/funds/{fund.code}/")
    page.get_by_role("link", name="Profile by financial year").click()
    arrive(page, rf"/funds/{fund.code}/profile/$")

    page.get_by_label("2023-24 (1 April 2023 to 31 March 2024) (£)").fill("40000.00")
    page.get_by_label("2024-25 (1 April 2024 to 31 March 2025) (£)").fill("42000.505")
    page.get_by_label("2025-26 (1 April 2025 to 31 March 2026) (£)").fill("18000.25")
    page.get_by_label("Why are the figures changing?").fill("MoJ grant agreement of 14 March 2023")
    page.get_by_role("button", name="Save the profile").click()

    # Said beside the field, and in the summary at the top with a link to it.
    expect(
        page.get_by_text("Ensure that there are no more than 2 decimal places.", exact=True)
    ).to_be_visible()
    expect(
        page.get_by_role("alert").get_by_role("link", name=re.compile("no more than 2 decimal"))
    ).to_be_visible()
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "fund-profile-error")
    assert not FundYear.objects.filter(fund=fund).exists()

    page.get_by_label("2024-25 (1 April 2024 to 31 March 2025) (£)").fill("42000.50")
    page.get_by_role("button", name="Save the profile").click()

    arrive(page, rf"/funds/{fund.code}/$")
    profile = page.get_by_role("region", name="Control total by financial year")
    expect(profile.get_by_role("row", name="2024-25")).to_contain_text("£42,000.50")
    expect(profile.get_by_role("row", name="Total £100,000.75", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Money").get_by_role("row", name="Control total")).to_contain_text(
        "£100,000.75"
    )
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "fund-profile")
    assert Fund.objects.get(pk=fund.pk).control_total.amount == Decimal("100000.75")
