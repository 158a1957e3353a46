"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright never downloads a browser here: it launches the one at `LEDGER_CHROMIUM` (default
`/usr/bin/chromium`). Where that cannot be started the tests are skipped with a note on how to enable
them, unless `LEDGER_REQUIRE_BROWSER=1` (set by `.ci/run`), which turns the skip into a failure.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from grants import roles

# Sync Playwright runs its event loop in the test thread, so Django sees a running loop there and
# would refuse every ORM call the tests make (creating users, checking what a form saved).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The first launch on a machine takes ~15 s while Chromium builds its caches.
LAUNCH_TIMEOUT_MS = 60_000
ACTION_TIMEOUT_MS = 10_000

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

OFFICER_USERNAME = "officer"
OFFICER_PASSWORD = "correct horse battery staple"


def chromium_path() -> str:
    return os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")


def browser_required() -> bool:
    return os.environ.get("LEDGER_REQUIRE_BROWSER", "") == "1"


def no_browser(reason: str):
    """Fail under LEDGER_REQUIRE_BROWSER=1 (CI); otherwise skip, saying how to enable the tests."""
    if browser_required():
        pytest.fail(
            f"Browser tests cannot run: {reason}. LEDGER_REQUIRE_BROWSER=1 makes this a failure; "
            "install Chromium with `apt-get install chromium` (or point LEDGER_CHROMIUM at one).",
            pytrace=False,
        )
    pytest.skip(
        f"Browser tests skipped: {reason}. To run them, install Chromium "
        "(`apt-get install chromium`), then `make test`."
    )


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests; each test gets its own context and page.

    Package-scoped rather than session-scoped: while Playwright is running, its event loop counts as
    running in the main thread, and the rest of the suite should not run under it. Chromium is still
    launched once per run.
    """
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        no_browser(f"no Chromium executable at {executable}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        no_browser(f"Playwright is not installed ({error})")

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
        )
    except Exception as error:
        playwright.stop()
        no_browser(f"Chromium at {executable} did not start: {str(error).splitlines()[0]}")
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh page on the live server that may load nothing from another host.

    Requests elsewhere are blocked and, like a sub-resource that fails to load (a missing stylesheet),
    a script error or anything the Content Security Policy refused, fail the test when it ends.
    """
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    problems = []
    server = urlsplit(live_server.url).netloc

    def only_this_server(route):
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            problems.append(f"request to another host: {route.request.url}")
            route.abort()

    def check_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} for {response.url}")

    context.route("**/*", only_this_server)
    tab = context.new_page()
    tab.on("response", check_response)
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def check_console(message):
        # Chromium reports what the Content Security Policy blocked (an inline style or script, a
        # handler attribute) as a console error.
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    tab.on("console", check_console)
    yield tab

    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        failures = ARTIFACTS / "failures"
        failures.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        tab.screenshot(path=failures / f"{name}.png", full_page=True)
    context.close()
    assert not problems, "The page had problems:\n" + "\n".join(problems)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the call phase's report on the test, so `page` can screenshot a failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def user_with_role(username: str, role: str, password: str):
    user = get_user_model().objects.create_user(username, password=password)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def finance_officer(transactional_db):
    """A finance officer (the role, not staff): enters allocations, organisations and entries."""
    return user_with_role(OFFICER_USERNAME, roles.FINANCE_OFFICER, OFFICER_PASSWORD)


@pytest.fixture
def approver(transactional_db):
    return user_with_role("approver", roles.APPROVER, OFFICER_PASSWORD)


def sign_in_as(page, live_server, user):
    """Give the page's browser a session for `user`, replacing any other."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


@pytest.fixture
def officer_page(page, live_server, finance_officer, seed_fund):
    """A page already logged in as the finance officer, with the 2020 MoJ fund loaded.

    The session cookie comes from Django's test client rather than the login form, which
    `test_logging_in_through_the_form_returns_to_the_page_asked_for` drives; that saves a second per test.
    """
    return sign_in_as(page, live_server, finance_officer)


@pytest.fixture
def screenshot():
    """Save a full-page PNG under test-artifacts/ for a person to look at."""

    def save(page, name):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save
