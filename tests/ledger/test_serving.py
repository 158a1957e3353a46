"""The production serving set-up: gunicorn's configuration and the documented environment file."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from gunicorn.config import Config

GUNICORN_CONF = Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"


def clean_env(**env):
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE", "LEDGER_", "GUNICORN_", "WEB_CONCURRENCY"))
    }
    return {**base, **env}


def gunicorn_settings(monkeypatch, **env):
    for key in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_listens_locally_with_two_workers_per_core_plus_one(monkeypatch):
    config = gunicorn_settings(monkeypatch)
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] == 2 * os.cpu_count() + 1
    assert config["timeout"] == 120
    assert config["control_socket_disable"] is True


def test_gunicorn_settings_come_from_the_environment_and_empty_values_mean_the_default(monkeypatch):
    config = gunicorn_settings(monkeypatch, GUNICORN_BIND="127.0.0.1:9000", WEB_CONCURRENCY="3")
    assert (config["bind"], config["workers"]) == ("127.0.0.1:9000", 3)
    config = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="", GUNICORN_TIMEOUT="")
    assert (config["workers"], config["timeout"]) == (2 * os.cpu_count() + 1, 120)


def test_gunicorn_accepts_the_configuration_and_loads_the_app_with_production_settings():
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "--config",
            str(GUNICORN_CONF),
            "ledger.wsgi",
        ],
        env=clean_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="ledger.example.org"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_example_environment_file_loads_once_a_secret_is_filled_in():
    example = {}
    for line in (Path(settings.BASE_DIR) / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            example[key] = value
    example["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ledger.settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.DATABASES)",
        ],
        env=clean_env(**example),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    debug, redirect, databases = completed.stdout.split(" ", 2)
    assert (debug, redirect) == ("False", "True")
    assert "'ENGINE': 'django.db.backends.sqlite3'" in databases


def gunicorn_config(monkeypatch, **env):
    """gunicorn's own Config with this file's settings applied, as `gunicorn -c` would apply them."""
    monkeypatch.delenv("LEDGER_BEHIND_PROXY", raising=False)
    monkeypatch.delenv("GUNICORN_FORWARDED_ALLOW_IPS", raising=False)
    config = Config()
    for name, value in gunicorn_settings(monkeypatch, **env).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_trusts_no_forwarded_header_unless_behind_the_proxy(monkeypatch):
    # gunicorn's default would trust X-Forwarded-Proto from 127.0.0.1.
    for env in ({}, {"LEDGER_BEHIND_PROXY": "0"}, {"LEDGER_BEHIND_PROXY": ""}):
        config = gunicorn_config(monkeypatch, **env)
        assert config.forwarded_allow_ips == []
        assert config.secure_scheme_headers == {}


def test_gunicorn_behind_the_proxy_trusts_nginx_on_this_machine_for_the_scheme_only(monkeypatch):
    config = gunicorn_config(monkeypatch, LEDGER_BEHIND_PROXY="1")
    assert config.forwarded_allow_ips == ["127.0.0.1"]
    assert config.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    config = gunicorn_config(monkeypatch, LEDGER_BEHIND_PROXY="1", GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.5")
    assert config.forwarded_allow_ips == ["10.0.0.5"]
