"""Settings for the grant allocation ledger, read from the environment.

Every variable is listed in `.env.example`. Without `DATABASE_URL` the app uses an SQLite file in the
project root; PostgreSQL is chosen by pointing `DATABASE_URL` at it. With DEBUG off a missing secret
key is a configuration error rather than a silent default.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment (see .env.example), "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if DEBUG:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # whitenoise serves static files under runserver exactly as it does in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "djmoney",
    "django_filters",
    "django_tables2",
    "grants",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grants.audit.AuditUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ledger.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grants.context_processors.office",
            ],
        },
    },
]

WSGI_APPLICATION = "ledger.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so a check-then-write inside
    # transaction.atomic() cannot be overtaken by another writer (what select_for_update does on
    # PostgreSQL).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "grants:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without DEBUG: hashed, compressed files from `collectstatic`, cacheable for ever.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DJANGO_TABLES2_TEMPLATE = "includes/table.html"

# Money: one currency, pounds sterling, two decimal places.
CURRENCIES = ("GBP",)
CURRENCY_CHOICES = [("GBP", "GBP £")]
DEFAULT_CURRENCY = "GBP"
SERIALIZATION_MODULES = {"json": "djmoney.serializers"}

LEDGER_OFFICE_NAME = os.environ.get("LEDGER_OFFICE_NAME", "Office of the Police and Crime Commissioner")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# 360Giving open data: the office's own org-id (e.g. GB-GOR-... or GB-LAE-...) and the publisher
# prefix 360Giving assigned to it (360G-...). Exports refuse to run until both are set.
LEDGER_OFFICE_ORG_ID = os.environ.get("LEDGER_OFFICE_ORG_ID", "")
LEDGER_360GIVING_PREFIX = os.environ.get("LEDGER_360GIVING_PREFIX", "")
# Optional: where the beneficiaries are (the force area), e.g. "West Midlands", "E23000014", "PFA".
LEDGER_BENEFICIARY_LOCATION_NAME = os.environ.get("LEDGER_BENEFICIARY_LOCATION_NAME", "")
LEDGER_BENEFICIARY_LOCATION_CODE = os.environ.get("LEDGER_BENEFICIARY_LOCATION_CODE", "")
LEDGER_BENEFICIARY_LOCATION_CODE_TYPE = os.environ.get("LEDGER_BENEFICIARY_LOCATION_CODE_TYPE", "")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number above 0; got {value!r}")
    return number


# Spreadsheet imports: the largest file accepted, in bytes, and the most table rows read from it. The
# workbook's unpacked size is capped too (a zip bomb is small packed and huge unpacked).
LEDGER_IMPORT_MAX_BYTES = env_int("LEDGER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
LEDGER_IMPORT_MAX_ROWS = env_int("LEDGER_IMPORT_MAX_ROWS", 20_000)
LEDGER_IMPORT_MAX_UNPACKED_BYTES = env_int("LEDGER_IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
# Uploads above 2.5 MB go to a temporary file rather than memory; a request carries at most one file,
# and its other fields stay under Django's 2.5 MB default.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 1
