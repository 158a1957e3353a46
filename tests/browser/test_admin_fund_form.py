"""The admin's fund form with its lines inline fits a 1280 px window, and says nothing misleading
about when existing lines took effect (issue 18)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_as

pytestmark = pytest.mark.browser


def test_the_admin_fund_form_fits_the_window_and_leaves_existing_lines_dates_blank(
    page, live_server, seed_fund, django_user_model
):
    sign_in_as(page, live_server, django_user_model.objects.create_superuser("admin-user", password="x"))

    page.goto(f"/admin/grants/fund/{seed_fund.pk}/change/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    lines = page.locator("#allocations-group tr.has_original")
    expect(lines).to_have_count(16)
    dates = page.locator("#allocations-group tr.has_original td.field-effective_date input")
    assert set(dates.evaluate_all("inputs => inputs.map(input => input.value)")) == {""}
    new_line = page.locator("#id_allocations-16-effective_date")
    expect(new_line).to_have_value(timezone.localdate().strftime("%d/%m/%Y"))
