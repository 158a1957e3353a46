"""Production logs are one JSON object per line, gunicorn's access records included."""

import json
import logging
import sys

from ledger.logs import JsonFormatter


def record(name, msg, args=(), level=logging.INFO, **extra):
    entry = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    entry.__dict__.update(extra)
    return entry


def test_an_application_record_is_one_line_of_json():
    line = JsonFormatter().format(record("grants", "Saved %s lines", (3,), level=logging.WARNING))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.keys() == {"time", "level", "logger", "message"}
    assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "grants", "Saved 3 lines")
    assert entry["time"].endswith("+00:00")


def test_a_request_error_names_its_status_and_path():
    class Request:
        path = "/funds/x/"

    entry = json.loads(
        JsonFormatter().format(
            record("django.request", "Not Found: /funds/x/", status_code=404, request=Request())
        )
    )
    assert (entry["status"], entry["path"]) == (404, "/funds/x/")


def test_a_gunicorn_access_record_becomes_fields():
    atoms = {
        "h": "127.0.0.1",
        "m": "GET",
        "U": "/healthz",
        "s": "200",
        "B": "16",
        "M": "3",
        "a": "curl/8",
        "q": "-",
    }
    entry = json.loads(JsonFormatter().format(record("gunicorn.access", "%(h)s %(r)s", (atoms,))))
    assert entry == {
        "time": entry["time"],
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": "request",
        "remote_addr": "127.0.0.1",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "bytes": 16,
        "duration_ms": 3,
        "user_agent": "curl/8",
    }


def test_an_exception_is_kept_inside_the_one_line():
    try:
        raise ValueError("broken")
    except ValueError:
        entry = logging.LogRecord("grants", logging.ERROR, __file__, 1, "Failed", (), sys.exc_info())
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    assert "ValueError: broken" in json.loads(line)["exception"]
