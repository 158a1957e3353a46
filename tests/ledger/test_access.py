"""Deny by default: every URL in the project refuses an anonymous visitor, except an explicit few.

The walk covers every pattern the URL resolver knows, so a view added later without a decision is
caught here: it is either behind the login (LoginRequiredMiddleware's default) or on ALLOWED_ANONYMOUS.
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

# Pattern (as the resolver spells it) -> why an anonymous visitor may have it.
ALLOWED_ANONYMOUS = {
    "accounts/login/": "the login page",
    "admin/login/": "the admin's login page",
    "healthz": "the health check, which says only ok or not ok",
    "accessibility/": (
        "the accessibility statement, static text: the public grants register's footer links to it, "
        "and the Regulations want a public website's statement published"
    ),
    "public/funds/<slug:code>/": (
        "a fund's public grants register, read-only: 404 unless the office switched the fund's "
        "publication on (tests/grants/test_register.py walks it)"
    ),
}

# A value for each URL parameter, so every pattern can be visited. A new parameter name fails the walk
# until it is given one here.
SAMPLES = {
    "code": "moj-ecf-2020",
    "pk": "1",
    "id": "1",
    "object_id": "1",
    "content_type_id": "1",
    "file_format": "csv",
    "app_label": "grants",
    "url": "no-such-page/",
    "token": "00000000-0000-4000-8000-000000000000",
    "version": "1",
    "period": "1",
}


def every_pattern(patterns=None, prefix=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from every_pattern(entry.url_patterns, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern), entry


def sample_path(pattern: str) -> str:
    def sample(match):
        name = match.group(1)
        assert name in SAMPLES, f"Give the URL parameter {name!r} (in {pattern!r}) a value in SAMPLES"
        return SAMPLES[name]

    # Regular-expression groups first: their (?P<name>...) would otherwise read as a route's <name>.
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", sample, pattern)
    path = re.sub(r"<(?:\w+:)?(\w+)>", sample, path)
    return "/" + path.replace("^", "").replace("$", "")


EVERY_PATTERN = sorted(every_pattern(), key=lambda item: item[0])


def test_the_walk_reaches_every_pattern_and_each_sample_path_resolves_to_its_own_view():
    assert len(EVERY_PATTERN) > 50
    for pattern, entry in EVERY_PATTERN:
        assert resolve(sample_path(pattern)).func == entry.callback, pattern


def test_only_the_allow_list_is_marked_login_not_required():
    open_to_all = {
        pattern for pattern, entry in EVERY_PATTERN if not getattr(entry.callback, "login_required", True)
    }
    assert open_to_all == set(ALLOWED_ANONYMOUS)


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_other_url_sends_an_anonymous_visitor_to_log_in(db, seed_fund, method):
    client = Client()
    refused = []
    for pattern, _entry in EVERY_PATTERN:
        if pattern in ALLOWED_ANONYMOUS:
            continue
        path = sample_path(pattern)
        response = getattr(client, method)(path)
        login = reverse("admin:login") if path.startswith("/admin/") else reverse(settings.LOGIN_URL)
        if response.status_code == 302 and response.url.startswith(f"{login}?next="):
            continue
        refused.append(f"{method.upper()} {path}: {response.status_code} {response.get('Location', '')}")
    assert refused == []


def test_the_allowed_pages_answer_an_anonymous_visitor(db):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
    # Off by default: the seed fund's public page does not exist until the office switches it on.
    assert client.get("/public/funds/moj-ecf-2020/").status_code == 404


def test_static_files_are_served_without_a_login(db):
    for path in ["/static/css/ledger.css", "/static/img/favicon.svg"]:
        response = Client().get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content), path
