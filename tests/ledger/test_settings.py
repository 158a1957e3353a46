"""Settings come from the environment, and production settings fail loudly when incomplete."""

import os
import subprocess
import sys

from django.conf import settings


def load_settings(**env):
    """Import ledger.settings in a fresh interpreter with exactly these variables set."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE"))}
    code = "import ledger.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.ALLOWED_HOSTS)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_missing_secret_key_without_debug_is_an_error():
    completed = load_settings()
    assert completed.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set." in completed.stderr


def test_debug_allows_a_local_development_key_and_defaults_to_sqlite():
    completed = load_settings(DJANGO_DEBUG="1")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ("True django.db.backends.sqlite3 ['localhost', '127.0.0.1', '[::1]']")


def test_database_url_selects_postgresql_and_hosts_come_from_the_environment():
    completed = load_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/ledger",
        DJANGO_ALLOWED_HOSTS="ledger.example.org, localhost",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == (
        "False django.db.backends.postgresql ['ledger.example.org', 'localhost']"
    )


def test_a_misspelt_debug_value_is_refused():
    completed = load_settings(DJANGO_DEBUG="maybe")
    assert completed.returncode != 0
    assert "DJANGO_DEBUG must be one of 1/0, true/false, yes/no, on/off; got 'maybe'" in completed.stderr


def test_without_debug_whitenoise_serves_hashed_compressed_static_files():
    code = (
        "import ledger.settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND']); "
        "print(s.MIDDLEWARE.index('whitenoise.middleware.WhiteNoiseMiddleware'))"
    )
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE"))}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SECRET_KEY": "x" * 50},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    # Right after SecurityMiddleware, as whitenoise's documentation asks.
    assert completed.stdout.split() == ["whitenoise.storage.CompressedManifestStaticFilesStorage", "1"]
