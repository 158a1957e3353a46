"""One JSON object per log line, for a log collector to read without parsing prose.

Used by Django's LOGGING and by gunicorn (deploy/gunicorn.conf.py), whose access records carry their
fields as a dict of "atoms" rather than a message.
"""

import contextlib
import datetime
import json
import logging

# gunicorn's access-log atoms worth keeping, under readable names.
ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry["message"] = "request"
            for atom, field in ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if value is not None and value != "-":
                    entry[field] = value
            for field in ("status", "bytes", "duration_ms"):
                if field in entry:
                    with contextlib.suppress(TypeError, ValueError):
                        entry[field] = int(entry[field])
        else:
            entry["message"] = record.getMessage()
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if isinstance(path, str):
            entry["path"] = path
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
