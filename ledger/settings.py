"""Settings for the grant allocation ledger, read from the environment.

Every variable is listed in `.env.example`. Without `DATABASE_URL` the app uses an SQLite file in the
project root; PostgreSQL is chosen by pointing `DATABASE_URL` at it. With DEBUG off a missing secret
key is a configuration error rather than a silent default.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# openpyxl parses uploaded workbooks with defusedxml, never with lxml, even where lxml is installed
# (flattentool, a test dependency, brings it): openpyxl picks its parser once, when first imported,
# so this is set before anything imports it. The system check grants.E001 refuses to start otherwise.
os.environ["OPENPYXL_LXML"] = "False"

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


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more; got {value!r}")
    return number


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
    "csp",
    "axes",
    "grants",
    # The audit trail: the events the database's triggers write, their admin and history pages.
    "audit",
    # The project's own management commands (make_load_fund).
    "ledger",
]
if DEBUG:
    # `manage.py bench` (README, "Performance"): for development only, never loaded in production.
    INSTALLED_APPS.append("benchmark")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: an oversized request is refused unread.
    "ledger.middleware.RequestBodyLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    # Django's, except that failing to extend an unchanged session's idle time does not fail a read.
    "ledger.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a login unless it is marked @login_not_required.
    "ledger.middleware.LoginRequiredMiddleware",
    # Names the signed-in user on every change the request makes (the audit trail).
    "audit.context.AuditUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
    # Innermost, so it sees a view's database error first: a clear page, not a bare 500.
    "ledger.middleware.DatabaseFailureMiddleware",
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
                "grants.context_processors.approvals",
            ],
        },
    },
]

WSGI_APPLICATION = "ledger.wsgi.application"

DATABASES = {
    # An empty DATABASE_URL (as in an env file with the line left blank) means the default too.
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
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
    # The entries' covering index INCLUDEs its amount on PostgreSQL; SQLite keeps the key columns.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
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
# Where users report an accessibility problem (the accessibility statement, /accessibility/).
LEDGER_ACCESSIBILITY_CONTACT = os.environ.get("LEDGER_ACCESSIBILITY_CONTACT", "")

# Email (provider-return reminders, `manage.py provider_returns_due --email`): printed to the console
# unless EMAIL_HOST is set, then sent over SMTP (README, "Provider returns"; .env.example).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "grants@localhost")

# Logs go to stdout for the process manager (systemd's journal) to keep: one JSON object per line
# in production, plain text when developing.
LEDGER_LOG_FORMAT = os.environ.get("LEDGER_LOG_FORMAT") or ("text" if DEBUG else "json")
if LEDGER_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LEDGER_LOG_FORMAT must be json or text; got {LEDGER_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "ledger.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LEDGER_LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": (os.environ.get("LEDGER_LOG_LEVEL") or "INFO").upper()},
    # django-axes: failures and lockouts (WARNING), not its routine housekeeping (INFO).
    "loggers": {"axes": {"level": "WARNING"}},
}

# 360Giving open data: the office's own org-id (e.g. GB-GOR-... or GB-LAE-...) and the publisher
# prefix 360Giving assigned to it (360G-...). Exports refuse to run until both are set.
LEDGER_OFFICE_ORG_ID = os.environ.get("LEDGER_OFFICE_ORG_ID", "")
LEDGER_360GIVING_PREFIX = os.environ.get("LEDGER_360GIVING_PREFIX", "")
# Optional: where the beneficiaries are (the force area), e.g. "West Midlands", "E23000014", "PFA".
LEDGER_BENEFICIARY_LOCATION_NAME = os.environ.get("LEDGER_BENEFICIARY_LOCATION_NAME", "")
LEDGER_BENEFICIARY_LOCATION_CODE = os.environ.get("LEDGER_BENEFICIARY_LOCATION_CODE", "")
LEDGER_BENEFICIARY_LOCATION_CODE_TYPE = os.environ.get("LEDGER_BENEFICIARY_LOCATION_CODE_TYPE", "")
# The web page open data names as its source (360Giving's dataSource) when a fund gives none of its
# own: the office's page for grants or open data.
LEDGER_DATA_SOURCE_DEFAULT = os.environ.get("LEDGER_DATA_SOURCE_DEFAULT", "")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Hardening -----------------------------------------------------------------------------------
# Secure by default: with DEBUG off the app expects to be reached over HTTPS (nginx in front, see
# deploy/). LEDGER_HTTPS=0 is for serving on plain http on 127.0.0.1 (`make serve`, load tests).
LEDGER_HTTPS = env_bool("LEDGER_HTTPS", default=not DEBUG)
# Behind a reverse proxy on this machine (deploy/nginx-ledger.conf): trust its X-Forwarded-Proto
# and X-Forwarded-For. Never turn this on when clients reach gunicorn directly: they could forge both.
LEDGER_BEHIND_PROXY = env_bool("LEDGER_BEHIND_PROXY", default=False)
if LEDGER_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_SSL_REDIRECT = LEDGER_HTTPS
# A monitor on the same machine may ask for /healthz over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = LEDGER_HTTPS
CSRF_COOKIE_SECURE = LEDGER_HTTPS
SECURE_HSTS_SECONDS = env_int("LEDGER_HSTS_SECONDS", 31_536_000) if LEDGER_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = LEDGER_HTTPS
SECURE_HSTS_PRELOAD = LEDGER_HTTPS and env_bool("LEDGER_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF token from the cookie: forms carry it.
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Sessions end after LEDGER_SESSION_IDLE_MINUTES without a request, and when the browser closes.
LEDGER_SESSION_IDLE_MINUTES = env_int("LEDGER_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = LEDGER_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Content Security Policy: everything from this host only, nothing inline, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Login throttling (django-axes): LEDGER_LOGIN_FAILURE_LIMIT failures for one username from one
# address lock out that pair for LEDGER_LOGIN_COOLOFF_MINUTES. Keyed on the pair, so someone guessing
# a colleague's password locks out only themselves, never the colleague at their own desk.
AXES_FAILURE_LIMIT = env_int("LEDGER_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LEDGER_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "ledger.middleware.client_ip"
# Successful logins are in the logs; the table would only grow.
AXES_DISABLE_ACCESS_LOG = True
# The log of failed logins names the username and address (never the password): it is what an
# operator needs to see who is being guessed at and from where.
AXES_SENSITIVE_PARAMETERS = []

# Uploads. Form bodies and files held in memory are capped at 2.5 MB (larger files spool to disk);
# no request body may exceed LEDGER_REQUEST_MAX_BYTES. LEDGER_IMPORT_MAX_BYTES is the largest
# spreadsheet the import accepts.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
LEDGER_IMPORT_MAX_BYTES = env_int("LEDGER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
# The import's file plus room for the form's other fields and the multipart framing.
LEDGER_REQUEST_MAX_BYTES = LEDGER_IMPORT_MAX_BYTES + 256 * 1024

# Spreadsheet imports: the largest file accepted, in bytes, and the most table rows read from it. The
# workbook's unpacked size is capped too (a zip bomb is small packed and huge unpacked).
LEDGER_IMPORT_MAX_ROWS = env_int("LEDGER_IMPORT_MAX_ROWS", 20_000)
LEDGER_IMPORT_MAX_UNPACKED_BYTES = env_int("LEDGER_IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = 1
