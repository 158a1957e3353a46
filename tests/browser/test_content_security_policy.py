"""The pages work under the Content Security Policy: Chromium reports no violation on any of them.

The `page` fixture fails a test on any CSP violation the console reports; these visits make sure the
main pages, and the admin's, are among those seen.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

OFFICER_PAGES = [
    "/",
    "/funds/",
    "/funds/moj-ecf-2020/",
    "/allocations/",
    "/organisations/",
    "/accounts/password/",
]
ADMIN_PAGES = ["/admin/", "/admin/grants/fund/", "/admin/grants/allocation/", "/admin/grants/allocation/add/"]


def test_the_login_page_and_the_officers_pages_raise_no_csp_violation(officer_page):
    for path in OFFICER_PAGES:
        response = officer_page.goto(path)
        assert response.status == 200, path
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        officer_page.wait_for_load_state()


def test_the_admin_pages_raise_no_csp_violation(page, live_server, seed_fund):
    admin = get_user_model().objects.create_superuser("csp-admin", password="correct horse battery staple")
    client = Client()
    client.force_login(admin)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add allocation")
