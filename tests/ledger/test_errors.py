"""The refusal pages: a login with no role is told to ask an administrator; every 403 is a page of
the ledger with a way to log out, not a bare "403 Forbidden"."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import UserFactory


def main_of(response) -> str:
    page = response.content.decode()
    return page[page.index('<main id="main">') : page.index("</main>")]


def logout_forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="/accounts/logout/"[^>]*>.*?</form>', page, re.S)


@pytest.fixture
def no_role(db):
    return UserFactory(username="newcomer")


@pytest.mark.parametrize("url", [reverse("grants:dashboard"), reverse("grants:fund_list")])
def test_a_login_with_no_role_is_told_to_ask_an_administrator(client, no_role, url):
    client.force_login(no_role)
    response = client.get(url)
    assert response.status_code == 403
    main = main_of(response)
    assert "<h1>You have no role in the ledger yet</h1>" in main
    assert "You are logged in as <strong>newcomer</strong>" in main
    assert "Ask an administrator of the ledger to give you the role your work needs" in main
    page = response.content.decode()
    [form] = logout_forms(page)
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<button type="submit">Log out</button>' in form
    # No links to pages that would only refuse again.
    assert '<nav aria-label="Main">' not in page
    # The page keeps the ledger's layout: its title, skip link and main landmark.
    assert "<title>No role yet · " in page
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page


def test_the_log_out_button_logs_out(client, no_role):
    client.force_login(no_role)
    client.get(reverse("grants:dashboard"))
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("grants:dashboard")).status_code == 302  # to the login page


def test_a_login_with_a_role_refused_a_page_is_told_so_with_a_way_out(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("grants:organisation_add"))
    assert response.status_code == 403
    main = main_of(response)
    assert "<h1>Not allowed</h1>" in main
    assert "Your role does not allow you, viewer, to see this page or to do this." in main
    assert f'<a href="{reverse("grants:dashboard")}">Back to the dashboard</a>' in main
    assert "no role" not in main
    page = response.content.decode()
    assert len(logout_forms(page)) == 2  # the header's and the page's own
    assert '<nav aria-label="Main">' in page


def test_a_user_given_a_permission_directly_is_not_told_they_have_no_role(client, db):
    user = UserFactory(username="direct")
    user.user_permissions.add(Permission.objects.get(codename="view_fund"))
    client.force_login(user)
    response = client.get(reverse("grants:organisation_add"))
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in main_of(response)
