"""A finance officer creates a fund, corrects it, and corrects an organisation, in the app rather
than the admin; each new page is checked with axe-core at 1280 and 390 px, with its error summary."""

from decimal import Decimal

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import ControlTotalRevision, Fund, Organisation
from tests.browser.test_finance_officer import arrive
from tests.browser.test_import import serious_accessibility_violations

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


def check_accessibility_at_both_widths(page) -> None:
    """No serious or critical axe-core finding, and the page no wider than the window, at each width."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_accessibility_violations(page) == [], f"{page.url} at {width} px"
        if width == 1280:
            assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_finance_officer_creates_a_fund_then_corrects_its_control_total(officer_page, screenshot):
    page = officer_page
    page.goto("/funds/")
    page.get_by_role("link", name="New fund").click()
    arrive(page, r"/funds/add/$")
    check_accessibility_at_both_widths(page)

    # Nothing filled in: the summary says so at the top and links to the first field.
    page.get_by_role("button", name="Add the fund").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link", name="Code: This field is required.")).to_have_attribute(
        "href", "#id_code"
    )
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    check_accessibility_at_both_widths(page)

    page.get_by_label("Code").fill("victims-2027")
    page.get_by_label("Name").fill("Victims services 2027-28")
    page.get_by_label("Funder").select_option(label="Ministry of Justice")
    page.get_by_label("Spend period start").fill("2027-04-01")
    page.get_by_label("Spend period end").fill("2028-03-31")
    page.get_by_label("Control total (£)").fill("120000.00")
    page.get_by_role("button", name="Add the fund").click()
    arrive(page, r"/funds/victims-2027/$")
    expect(
        page.get_by_text("Victims services 2027-28 added, with a control total of £120,000.00.")
    ).to_be_visible()

    page.get_by_role("link", name="Edit the fund's details and control total").click()
    arrive(page, r"/funds/victims-2027/edit/$")
    check_accessibility_at_both_widths(page)
    page.get_by_label("Control total (£)").fill("125000.00")
    page.get_by_label("Reason for a change to the control total").fill("Revised award letter, 3 May 2027")
    page.get_by_role("button", name="Save the fund").click()
    arrive(page, r"/funds/victims-2027/$")
    screenshot(page, "fund-created-and-edited")

    fund = Fund.objects.get(code="victims-2027")
    assert fund.control_total == Money(Decimal("125000.00"), "GBP")
    revision = ControlTotalRevision.objects.get(fund=fund)
    assert (revision.previous_amount.amount, revision.memo) == (
        Decimal("120000.00"),
        "Revised award letter, 3 May 2027",
    )

    page.get_by_role("link", name="Set its category budgets").click()
    arrive(page, r"/funds/victims-2027/budgets/$")
    check_accessibility_at_both_widths(page)


def test_a_finance_officer_corrects_an_organisation(officer_page, screenshot):
    page = officer_page
    organisation = Organisation.objects.get(name="Coventry Haven")
    page.goto(f"/organisations/{organisation.pk}/")
    page.get_by_role("link", name="Edit the organisation's details").click()
    arrive(page, rf"/organisations/{organisation.pk}/edit/$")
    check_accessibility_at_both_widths(page)

    page.get_by_label("Contact email").fill("not an email")
    page.get_by_role("button", name="Save the organisation").click()
    expect(
        page.get_by_role("alert").get_by_role("link", name="Contact email: Enter a valid email address.")
    ).to_be_visible()
    check_accessibility_at_both_widths(page)

    page.get_by_label("Contact email").fill("grants@coventryhaven.example.org")
    page.get_by_role("button", name="Save the organisation").click()
    arrive(page, rf"/organisations/{organisation.pk}/$")
    expect(page.get_by_role("link", name="grants@coventryhaven.example.org")).to_be_visible()
    screenshot(page, "organisation-edited")
    organisation.refresh_from_db()
    assert (organisation.contact_email, organisation.version) == ("grants@coventryhaven.example.org", 2)


def test_the_accessibility_statement_is_reached_from_the_footer(officer_page):
    page = officer_page
    page.goto("/funds/")
    page.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement").click()
    arrive(page, r"/accessibility/$")
    expect(
        page.get_by_role("heading", name="Accessibility statement for the grant allocation ledger")
    ).to_be_visible()
    check_accessibility_at_both_widths(page)
