"""/healthz: for an operator's monitor, without a login, saying only ok or not ok."""

import logging
from unittest import mock

from django.db import OperationalError
from django.test import Client


def test_healthz_answers_ok_without_a_login_and_is_never_cached(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_says_not_ok_when_the_database_does_not_answer_and_keeps_the_reason_to_the_log(db, caplog):
    failing = mock.patch(
        "ledger.health.connection.cursor",
        side_effect=OperationalError('connection to server at "10.1.2.3", port 5432 failed'),
    )
    with failing, caplog.at_level(logging.ERROR, logger="ledger.health"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b'{"status": "not ok"}'
    assert "Health check: the database did not answer" in caplog.text
    assert "10.1.2.3" in caplog.text


def test_healthz_accepts_only_get_and_head(db):
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
