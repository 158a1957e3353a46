#!/usr/bin/env python3
"""Fault drills against the app served as in production (`make serve`), on 127.0.0.1 only.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_serve
    .venv/bin/python scripts/fault_drills.py DRILL...

Drills (each prints what happened as one JSON object; outcomes are recorded in docs/operations.md):
  kill-export   a gunicorn worker is killed (SIGKILL) while it builds an export, and while it sends one
  read-only     the database is made read-only: reads, a write, what is kept
  disk-full     the database refuses the second row of a two-row write (SQLSTATE 53100, disk_full,
                raised by a temporary trigger: the server's disk is shared, so it is not filled for real)
  pg-restart    PostgreSQL is restarted while requests are in flight. This restarts the whole cluster:
                on a shared machine, run it rarely and warn whoever else uses it.

Needs a PostgreSQL DATABASE_URL whose database may be altered (use a database of its own, never the
office's), psql on PATH, and the large fund of `make load` (it is made if missing).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("DRILL_PORT", "8013"))
FUND = os.environ.get("LOAD_FUND", "load-test-fund")
USERNAME = "fault-drill"
PASSWORD = secrets.token_urlsafe(24)


def database_name() -> str:
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    if url.scheme not in {"postgres", "postgresql"} or url.hostname not in {"127.0.0.1", "localhost", "::1"}:
        sys.exit("DATABASE_URL must be a PostgreSQL database on this machine")
    return url.path.lstrip("/")


def psql(sql: str, database: str | None = None) -> str:
    """Run SQL as the DATABASE_URL's user; `database` defaults to the drill's own."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "PGHOST": url.hostname or "",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
    }
    if url.password:
        env["PGPASSWORD"] = url.password
    completed = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "-qAt",
            "-v",
            "ON_ERROR_STOP=1",
            f"--dbname={database or database_name()}",
            "-c",
            sql,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def manage(*args: str, **env: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", *args], cwd=ROOT, env={**os.environ, **env}, check=True
    )


class Server:
    """`make serve` on 127.0.0.1:PORT, with its gunicorn master's pid from a pid file."""

    def __init__(self, workers: int = 2):
        self.workers = workers
        self.folder = tempfile.TemporaryDirectory()
        self.pidfile = Path(self.folder.name) / "gunicorn.pid"
        self.log = open(Path(self.folder.name) / "serve.log", "w+")  # noqa: SIM115

    def __enter__(self):
        env = {
            **os.environ,
            "GUNICORN_BIND": f"127.0.0.1:{PORT}",
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_CMD_ARGS": f"--pid {self.pidfile}",
        }
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.pidfile.exists() and request("GET", "/healthz")[0] == 200:
                return self
            time.sleep(0.5)
        self.log.seek(0)
        raise RuntimeError("the server did not come up:\n" + self.log.read()[-3000:])

    @property
    def master(self) -> int:
        return int(self.pidfile.read_text())

    def workers_now(self) -> list[int]:
        children = Path(f"/proc/{self.master}/task/{self.master}/children").read_text().split()
        return [int(pid) for pid in children]

    def __exit__(self, *exc):
        if self.pidfile.exists():
            os.kill(self.master, signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()
        self.folder.cleanup()


def request(method, path, *, cookies=None, body=None, timeout=30):
    """(status, headers, body bytes), or (None, error text, b"") when no response came."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}", b""
    finally:
        connection.close()


def set_cookies(headers, cookies):
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]


def log_in() -> dict:
    cookies = {}
    status, headers, _ = request("GET", "/accounts/login/")
    set_cookies(headers, cookies)
    status, headers, _ = request(
        "POST",
        "/accounts/login/",
        cookies=cookies,
        body={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": cookies["csrftoken"]},
    )
    assert status == 302, f"logging in answered {status}"
    set_cookies(headers, cookies)
    return cookies


def prepare():
    manage("migrate", "--no-input", "--verbosity", "0")
    manage("make_load_fund", "--code", FUND)
    manage(
        "shell",
        "-c",
        "import os; from django.contrib.auth import get_user_model; "
        f"u, _ = get_user_model().objects.get_or_create(username='{USERNAME}'); "
        "u.is_superuser = u.is_staff = True; u.set_password(os.environ['DRILL_PASSWORD']); u.save()",
        DRILL_PASSWORD=PASSWORD,
    )


def drill_kill_export():
    results = {}
    with Server(workers=1) as server:
        cookies = log_in()
        # 1. Killed while building: nothing has been sent yet.
        outcome = {}

        def fetch():
            outcome["response"] = request(
                "GET", f"/funds/{FUND}/moj-return.xlsx", cookies=cookies, timeout=120
            )

        fetching = threading.Thread(target=fetch)
        fetching.start()
        time.sleep(0.5)
        killed = server.workers_now()[0]
        os.kill(killed, signal.SIGKILL)
        fetching.join(timeout=60)
        status, detail, body = outcome["response"]
        results["killed_while_building"] = {
            "status": status,
            "client_saw": detail if status is None else None,
            "bytes": len(body),
        }

        # 2. Killed while sending: read the headers and a little of the body slowly, then kill.
        for _ in range(60):
            if request("GET", "/healthz")[0] == 200:
                break
            time.sleep(0.5)
        results["worker_replaced"] = server.workers_now() != [killed]
        sock = socket.create_connection(("127.0.0.1", PORT))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        sock.sendall(
            f"GET /funds/{FUND}/?export=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        received = sock.recv(4096)
        time.sleep(1)
        os.kill(server.workers_now()[0], signal.SIGKILL)
        while chunk := sock.recv(65536):
            received += chunk
        sock.close()
        head, _, body = received.partition(b"\r\n\r\n")
        chunked = b"transfer-encoding: chunked" in head.lower()
        results["killed_while_sending_csv"] = {
            "status_line": head.split(b"\r\n")[0].decode(),
            "chunked": chunked,
            "bytes_of_body": len(body),
            "ended_with_the_last_chunk": body.endswith(b"0\r\n\r\n"),
        }
        for _ in range(60):
            if request("GET", "/healthz")[0] == 200:
                break
            time.sleep(0.5)
        status, headers, body = request("GET", f"/funds/{FUND}/moj-return.xlsx", cookies=cookies, timeout=120)
        length = dict((k.lower(), v) for k, v in headers).get("content-length")
        results["next_export"] = {"status": status, "bytes": len(body), "content_length": length}
    return results


def organisation_count() -> int:
    return int(psql("SELECT count(*) FROM grants_organisation"))


def drill_read_only():
    database = database_name()
    results = {}
    prepare_cookies = None
    with Server() as server:  # noqa: F841
        prepare_cookies = log_in()
    before = organisation_count()
    psql(f"ALTER DATABASE {database} SET default_transaction_read_only = on", database="postgres")
    try:
        with Server():
            cookies = prepare_cookies
            status, _, _ = request("GET", f"/funds/{FUND}/", cookies=cookies)
            results["read_fund_page"] = status
            status, headers, _ = request("GET", "/organisations/add/", cookies=cookies)
            form_cookies = dict(cookies)
            set_cookies(headers, form_cookies)
            status, _, body = request(
                "POST",
                "/organisations/add/",
                cookies=form_cookies,
                body={"name": "Drill provider (read-only)", "csrfmiddlewaretoken": form_cookies["csrftoken"]},
            )
            results["write_organisation"] = {
                "status": status,
                "says": re.findall(r"<h1>(.*?)</h1>", body.decode()),
            }
            results["healthz"] = request("GET", "/healthz")[0]
    finally:
        psql(f"ALTER DATABASE {database} SET default_transaction_read_only = off", database="postgres")
    results["organisations_kept"] = organisation_count() - before
    return results


def drill_disk_full():
    results = {}
    psql(
        "CREATE OR REPLACE FUNCTION drill_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'could not extend file: No space left on device (fault drill)' "
        "USING ERRCODE = 'disk_full'; END; $$; "
        "CREATE TRIGGER drill_disk_full BEFORE INSERT ON grants_ledgerentry FOR EACH ROW "
        "EXECUTE FUNCTION drill_disk_full();"
    )
    try:
        with Server():
            cookies = log_in()
            fund_id = psql(f"SELECT id FROM grants_fund WHERE code = '{FUND}'")
            ids = psql(
                "SELECT (SELECT min(id) FROM grants_organisation), "
                "(SELECT min(id) FROM grants_thematicarea), "
                "(SELECT min(id) FROM grants_fundingcategory), "
                f"(SELECT max(line_number) + 1 FROM grants_allocation WHERE fund_id = {fund_id})"
            ).split("|")
            before = psql(f"SELECT count(*) FROM grants_allocation WHERE fund_id = {fund_id}")
            status, headers, _ = request("GET", f"/funds/{FUND}/allocations/add/", cookies=cookies)
            set_cookies(headers, cookies)
            status, _, body = request(
                "POST",
                f"/funds/{FUND}/allocations/add/",
                cookies=cookies,
                body={
                    "line_number": ids[3],
                    "organisation": ids[0],
                    "service": "Fault drill",
                    "thematic_area": ids[1],
                    "funding_category": ids[2],
                    "amount": "100.00",
                    "effective_date": "2024-04-01",
                    "memo": "Fault drill",
                    "csrfmiddlewaretoken": cookies["csrftoken"],
                },
            )
            after = psql(f"SELECT count(*) FROM grants_allocation WHERE fund_id = {fund_id}")
            results["write_allocation"] = {
                "status": status,
                "says": re.findall(r"<h1>(.*?)</h1>", body.decode()),
            }
            results["allocations_kept"] = int(after) - int(before)
            results["reads_after"] = request("GET", f"/funds/{FUND}/", cookies=cookies)[0]
    finally:
        psql(
            "DROP TRIGGER IF EXISTS drill_disk_full ON grants_ledgerentry; "
            "DROP FUNCTION IF EXISTS drill_disk_full();"
        )
    return results


def drill_pg_restart():
    results = {"requests": []}
    with Server(workers=3) as server:
        cookies = log_in()
        stop = time.monotonic() + 25
        started = time.monotonic()
        log = []

        def traffic():
            paths = ["/", f"/funds/{FUND}/", "/healthz"]
            n = 0
            while time.monotonic() < stop:
                path = paths[n % len(paths)]
                n += 1
                sent = time.monotonic() - started
                status, detail, _ = request("GET", path, cookies=cookies, timeout=30)
                log.append((round(sent, 2), path, status if status is not None else detail))
                time.sleep(0.05)

        threads = [threading.Thread(target=traffic) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(5)
        cluster = os.listdir("/etc/postgresql")[0]
        restart_at = round(time.monotonic() - started, 2)
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
            check=True,
            timeout=120,
        )
        back_at = round(time.monotonic() - started, 2)
        for thread in threads:
            thread.join()
        failures = [entry for entry in log if entry[2] != 200]
        after_back = [entry for entry in log if entry[0] > back_at]
        results = {
            "restart_began_s": restart_at,
            "restart_done_s": back_at,
            "requests": len(log),
            "not_200": len(failures),
            "outcomes": dict(Counter(str(entry[2]) for entry in log)),
            "failures": failures[:12],
            "first_200_after_restart_s": next((e[0] for e in after_back if e[2] == 200), None),
            "not_200_after_restart": [e for e in after_back if e[2] != 200][:12],
            "gunicorn_master_unchanged": server.master == int(server.pidfile.read_text()),
        }
    return results


DRILLS = {
    "kill-export": drill_kill_export,
    "read-only": drill_read_only,
    "disk-full": drill_disk_full,
    "pg-restart": drill_pg_restart,
}


def main():
    names = sys.argv[1:]
    if not names or any(name not in DRILLS for name in names):
        sys.exit(f"usage: fault_drills.py {' | '.join(DRILLS)} ...")
    database_name()
    os.environ.update(
        DJANGO_DEBUG="0",
        LEDGER_HTTPS="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        GUNICORN_ACCESS_LOG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    )
    prepare()
    for name in names:
        print(json.dumps({"drill": name, **DRILLS[name]()}, default=str), flush=True)


if __name__ == "__main__":
    main()
