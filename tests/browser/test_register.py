"""The grants register in a real browser: a finance officer switches a fund's public page on and
fills the register's defaults; then an anonymous visitor reads the public page, which shows the
approved grants and nothing awaiting approval. Each page has no serious or critical axe-core
violation, fits 1280 px, and reads at 390 px without the page scrolling sideways."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grants.models import Fund, LedgerEntry
from tests.browser.conftest import sign_in_as
from tests.browser.test_finance_officer import arrive
from tests.browser.test_import import serious_accessibility_violations

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


def readable_at_each_width(page) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_load_state()
        assert serious_accessibility_violations(page) == [], (page.url, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (page.url, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_register_is_filled_in_published_and_read_anonymously(
    page, live_server, finance_officer, seed_fund
):
    fund = Fund.objects.get(code="moj-ecf-2020")
    line = fund.allocations.get(line_number=1)
    # A rise awaiting approval: never on the public page.
    LedgerEntry.objects.create(
        fund=fund,
        allocation=line,
        kind="variation",
        amount=Decimal("1111.11"),
        effective_date=datetime.date(2020, 9, 1),
        memo="Pending rise",
    )
    sign_in_as(page, live_server, finance_officer)
    page.goto(f"/funds/{fund.code}/register/")
    arrive(page, r"/register/$")
    expect(page.locator("#register-gaps")).to_be_visible()
    readable_at_each_width(page)

    page.get_by_role("link", name="Change the publication facts").click()
    arrive(page, r"/publication/$")
    readable_at_each_width(page)
    page.get_by_label("Purpose of the grants").fill(
        "Support for victims of domestic abuse and sexual violence"
    )
    page.get_by_label("Conditions attached").fill("Spent by 31 October 2020; quarterly returns")
    page.get_by_label("Why the grants are expected to reduce crime and disorder").fill(
        "Supported victims are less likely to be harmed again"
    )
    page.get_by_label("Publish the fund's public page").check()
    page.get_by_role("button", name="Save the publication facts").click()
    arrive(page, r"/register/$")
    expect(page.locator("#register-gaps")).to_have_count(0)
    expect(page.locator("#register tbody tr")).to_have_count(16)

    page.context.clear_cookies()
    page.goto(f"/public/funds/{fund.code}/")
    arrive(page, r"/public/funds/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("grants register")
    expect(page.locator("#register tbody tr")).to_have_count(16)
    expect(page.locator("#register")).to_contain_text("£80,528.42")
    text = page.locator("main").inner_text()
    assert "81,639.53" not in text and "1,111.11" not in text and "Pending rise" not in text
    assert page.locator("a[href*='/accounts/'], a[href*='/admin/'], nav").count() == 0
    readable_at_each_width(page)
