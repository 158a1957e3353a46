"""Login throttling keyed on username and address together, with a cool-off; password rules."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from ledger.middleware import client_ip
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
OFFICE_DESK = "192.0.2.10"
ELSEWHERE = "198.51.100.7"


def log_in(username, password, address):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def guess_wrong(username, address, times=5):
    return [log_in(username, "not the password", address).status_code for _ in range(times)]


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague")


def test_five_wrong_passwords_pause_that_username_from_that_address(officer):
    # The fifth wrong password is answered with the pause itself.
    assert guess_wrong("officer", ELSEWHERE) == [200, 200, 200, 200, 429]

    response = log_in("officer", PASSWORD, ELSEWHERE)
    assert response.status_code == 429
    assert "After 5 wrong passwords, logging in as officer from this computer is paused." in (
        " ".join(response.content.decode().split())
    )


def test_four_wrong_passwords_then_the_right_one_logs_in_and_clears_the_count(officer):
    assert guess_wrong("officer", OFFICE_DESK, times=4) == [200] * 4
    assert log_in("officer", PASSWORD, OFFICE_DESK).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_someone_guessing_elsewhere_cannot_lock_the_user_out_at_their_own_desk(officer, colleague):
    assert guess_wrong("officer", ELSEWHERE, times=8)[-1] == 429

    assert log_in("officer", PASSWORD, OFFICE_DESK).status_code == 302
    # Nor anyone else from the guesser's address.
    assert log_in("colleague", PASSWORD, ELSEWHERE).status_code == 302


def test_the_pause_ends_after_the_fifteen_minute_cool_off(officer):
    guess_wrong("officer", ELSEWHERE)
    assert log_in("officer", PASSWORD, ELSEWHERE).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert log_in("officer", PASSWORD, ELSEWHERE).status_code == 302


@override_settings(LEDGER_BEHIND_PROXY=True)
def test_behind_the_proxy_the_address_is_the_one_nginx_wrote_last():
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")
    assert client_ip(request) == "203.0.113.5"


def test_without_the_proxy_a_forwarded_for_header_is_ignored():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(request) == "203.0.113.5"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Tr0ub4dor&3", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("738810538108", "This password is entirely numeric."),
    ],
)
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert message in refused.value.messages
