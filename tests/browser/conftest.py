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


# What `check_page` asks the page: how wide the document is, and which boxes scroll sideways without
# being a focusable, labelled region a keyboard user can scroll (axe-core reports the unfocusable ones).
PAGE_WIDTHS_JS = """() => {
  const unlabelled = [];
  for (const box of document.querySelectorAll('body *')) {
    const style = getComputedStyle(box);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX) && box.scrollWidth > box.clientWidth + 1;
    const region = box.getAttribute('role') === 'region' && box.getAttribute('aria-label')
      && box.tabIndex >= 0;
    if (scrolls && !region) {
      unlabelled.push(box.tagName.toLowerCase() + (box.id ? '#' + box.id : '')
        + (box.className ? '.' + String(box.className).split(' ').join('.') : ''));
    }
  }
  // The outermost elements that reach past the window's right edge: what makes the page too wide.
  const name = (box) => box.tagName.toLowerCase() + (box.id ? '#' + box.id : '')
    + (typeof box.className === 'string' && box.className ? '.' + box.className.split(' ').join('.') : '');
  const past = (box) => box.getBoundingClientRect().right > window.innerWidth + 0.5;
  const clipped = (box) => {
    for (let up = box.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  const culprits = [...document.querySelectorAll('body *')]
    .filter((box) => past(box) && !past(box.parentElement) && !clipped(box)).slice(0, 5).map(name);
  return {width: document.documentElement.scrollWidth, unlabelled, culprits};
}"""

# The two widths every page is checked at: a laptop's window and a phone's.
PAGE_WIDTHS = (1280, 390)


def check_page(page, name: str) -> None:
    """Check the page as it is now at 1280 px and at 390 px wide, then leave it at 1280 px.

    At each width: no serious or critical axe-core violation; the document no wider than the window
    (a wide table may scroll only inside a focusable, labelled `.table-scroll` region); and a
    full-page screenshot at test-artifacts/pages/<name>-<width>.png for a person to look at.
    """
    problems = page_problems(page, name)
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)


def page_problems(page, name: str) -> list[str]:
    """What `check_page` finds wrong with the page (after saving its screenshots), for a test that
    checks many pages and reports them all at once."""
    from axe_playwright_python.sync_playwright import Axe

    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in PAGE_WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        measured = page.evaluate(PAGE_WIDTHS_JS)
        if measured["width"] > width:
            problems.append(
                f"{name} at {width} px: the page is {measured['width']} px wide "
                f"(reaching past the window: {measured['culprits']})"
            )
        if measured["unlabelled"]:
            problems.append(
                f"{name} at {width} px: these scroll sideways outside a focusable, labelled region: "
                f"{measured['unlabelled']}"
            )
        results = Axe().run(page)
        problems += [
            f"{name} at {width} px: axe-core {violation['impact']}: {violation['id']}: {violation['help']} "
            f"({[node['target'] for node in violation['nodes']][:5]})"
            for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        # A long page (a fund's whole history) takes Chromium a while to capture in full.
        page.screenshot(path=folder / f"{name}-{width}.png", full_page=True, timeout=60_000)
    page.set_viewport_size({"width": PAGE_WIDTHS[0], "height": 900})
    return problems
