"""gunicorn settings for the grant allocation ledger (`make serve`, deploy/ledger.service).

Every value can be changed from the environment without editing this file.
"""

import multiprocessing
import os

# nginx (deploy/nginx-ledger.conf) is in front; gunicorn listens on this machine only.
bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"

# Synchronous workers: the pages are database-bound and short, and an export occupies one worker
# while it builds. gunicorn's rule of thumb, (2 x cores) + 1, so five on a 2-core server.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

# A fund's MoJ return of 100,000 lines takes ~15 s to build on a 2-core machine; allow for slower
# disks and bigger funds before a worker is judged stuck and restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then, so a slow leak in any library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

# No run-time control socket: nothing here uses it, and it would be one more way in.
control_socket_disable = True

# Forwarded headers (X-Forwarded-Proto and the like) are trusted only behind nginx
# (LEDGER_BEHIND_PROXY=1, deploy/ledger.service), and then only from nginx itself, on this machine.
# Otherwise none are: gunicorn's own default would trust them from 127.0.0.1, where any local
# process, or a client reaching gunicorn through a tunnel, could claim https.
BEHIND_PROXY = (os.environ.get("LEDGER_BEHIND_PROXY") or "0").strip().lower() in {"1", "true", "yes", "on"}
if BEHIND_PROXY:
    forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS") or "127.0.0.1"
    # The one scheme header nginx sets (deploy/nginx-ledger.conf); the others gunicorn knows are ignored.
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    forwarded_allow_ips = ""
    secure_scheme_headers = {}

# Logs: JSON lines on stdout, the same shape as the application's (ledger/logs.py).
accesslog = None  # the access logger is configured below instead
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ledger.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    },
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {
            "level": "INFO" if (os.environ.get("GUNICORN_ACCESS_LOG") or "1") == "1" else "WARNING",
            "handlers": ["stdout"],
            "propagate": False,
        },
    },
}
