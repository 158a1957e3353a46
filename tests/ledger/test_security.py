"""The security settings: headers on every page, cookies, session expiry, upload caps, and the
HTTPS-only behaviour that production settings turn on by default."""

import datetime
import json
import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

EXPECTED_CSP = {
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
}


def production_env(**env):
    """The environment of a production process: no DEBUG, a real secret, nothing from this one."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE", "LEDGER_"))
    }
    return {
        **base,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "ledger.example.org",
        **env,
    }


def production_settings(*names, **env):
    """The named settings as a fresh interpreter sees them with only these variables set."""
    code = f"import json, ledger.settings as s; print(json.dumps([getattr(s, n) for n in {names!r}]))"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=production_env(**env),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return dict(zip(names, json.loads(completed.stdout.splitlines()[-1]), strict=True))


HTTPS_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
)


def test_production_settings_are_https_only_by_default():
    assert production_settings(*HTTPS_SETTINGS) == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    }


def test_plain_http_is_an_explicit_choice_or_local_development():
    plain = dict.fromkeys(HTTPS_SETTINGS, False) | {"SECURE_HSTS_SECONDS": 0}
    assert production_settings(*HTTPS_SETTINGS, LEDGER_HTTPS="0") == plain
    assert production_settings(*HTTPS_SETTINGS, DJANGO_DEBUG="1") == plain


def test_the_proxy_headers_are_trusted_only_when_behind_the_proxy():
    assert production_settings("LEDGER_BEHIND_PROXY", LEDGER_BEHIND_PROXY="1") == {
        "LEDGER_BEHIND_PROXY": True
    }
    code = "import ledger.settings as s; print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    for env, expected in [
        ({}, "None"),
        ({"LEDGER_BEHIND_PROXY": "1"}, "('HTTP_X_FORWARDED_PROTO', 'https')"),
    ]:
        completed = subprocess.run(
            [sys.executable, "-c", code],
            env=production_env(**env),
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        assert completed.stdout.strip() == expected


def test_django_deployment_checks_pass_with_production_settings():
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues (0 silenced)." in completed.stdout


def test_session_idle_time_defaults_to_30_minutes_and_is_configurable():
    assert production_settings(
        "SESSION_COOKIE_AGE", "SESSION_SAVE_EVERY_REQUEST", "SESSION_EXPIRE_AT_BROWSER_CLOSE"
    ) == {
        "SESSION_COOKIE_AGE": 1800,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
    }
    assert production_settings("SESSION_COOKIE_AGE", LEDGER_SESSION_IDLE_MINUTES="10") == {
        "SESSION_COOKIE_AGE": 600
    }


def test_a_negative_or_non_numeric_setting_is_refused():
    completed = subprocess.run(
        [sys.executable, "-c", "import ledger.settings"],
        env=production_env(LEDGER_SESSION_IDLE_MINUTES="half an hour"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode != 0
    assert (
        "LEDGER_SESSION_IDLE_MINUTES must be a whole number, 0 or more; got 'half an hour'"
        in completed.stderr
    )


def test_upload_caps_default_to_10_mb_for_an_import():
    assert production_settings(
        "LEDGER_IMPORT_MAX_BYTES",
        "LEDGER_REQUEST_MAX_BYTES",
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "FILE_UPLOAD_MAX_MEMORY_SIZE",
    ) == {
        "LEDGER_IMPORT_MAX_BYTES": 10_485_760,
        "LEDGER_REQUEST_MAX_BYTES": 10_747_904,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 2_621_440,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 2_621_440,
    }
    assert production_settings("LEDGER_IMPORT_MAX_BYTES", LEDGER_IMPORT_MAX_BYTES="1000") == {
        "LEDGER_IMPORT_MAX_BYTES": 1000
    }


def test_every_page_carries_the_security_headers(client, officer, seed_fund):
    anonymous = Client().get("/accounts/login/")
    client.force_login(officer)
    for response in [anonymous, client.get("/"), client.get("/funds/moj-ecf-2020/")]:
        assert response.status_code == 200
        assert set(response["Content-Security-Policy"].split("; ")) == EXPECTED_CSP
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_ends_with_the_browser(client, officer):
    response = client.post(
        "/accounts/login/", {"username": "officer", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    # No max-age or expiry date: the browser drops it when it closes.
    assert (cookie["max-age"], cookie["expires"]) == ("", "")


def test_a_session_idle_for_longer_than_the_limit_has_to_log_in_again(client, officer):
    client.force_login(officer)
    session = Session.objects.get()
    assert client.get("/").status_code == 200
    # Each request moves the expiry on: the limit is on idleness, not on the length of a working day.
    session.refresh_from_db()
    remaining = session.expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < remaining <= datetime.timedelta(minutes=30)

    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/")


@override_settings(LEDGER_REQUEST_MAX_BYTES=1000)
def test_a_request_body_over_the_cap_is_refused_before_it_is_read(client, officer):
    client.force_login(officer)
    response = client.post("/organisations/add/", data=b"x" * 1001, content_type="application/octet-stream")
    assert response.status_code == 413
    assert response.content.decode() == "The request is too large: at most 0.0 MB can be sent."

    response = client.post("/organisations/add/", data=b"x" * 1000, content_type="application/octet-stream")
    assert response.status_code != 413
