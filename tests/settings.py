"""Test settings: the project's settings with a throwaway secret key and a fast password hasher.

The test client and the live server speak plain http, so HTTPS-only behaviour (redirects, secure
cookies, HSTS) is off here; tests/ledger/test_security.py checks it in the production settings.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-any-deployment")
os.environ.setdefault("LEDGER_HTTPS", "0")
os.environ.setdefault("LEDGER_LOG_FORMAT", "text")

from ledger.settings import *  # noqa: E402,F403

# The benchmark runs in the suite at a tiny scale, and `make bench` runs with these settings.
if "benchmark" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "benchmark"]  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests render pages without running collectstatic first; whitenoise finds files where they are.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The test client's login() passes no request, which django-axes' own backend refuses.
AUTHENTICATION_BACKENDS = ["tests.ledger.backends.AxesBackendForTests", *AUTHENTICATION_BACKENDS[1:]]  # noqa: F405
