"""The login page's form: laid out as the site's other forms (`.entry`), each label above its input."""

from pathlib import Path

from django.conf import settings
from django.test.html import parse_html
from django.urls import reverse

from tests.grants.test_tables import attr, elements, text, the


def login_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    return the(parse_html(response.content.decode()), "form", method="post")


def test_the_login_form_uses_the_sites_form_layout(client, db):
    form = login_form(client)
    assert attr(form, "class").split() == ["entry", "login"]
    rows = [row for row in form.children if getattr(row, "name", "") == "div"]
    pairs = [(text(the(row, "label")), attr(the(row, "input"), "name")) for row in rows]
    assert pairs == [("Username", "username"), ("Password", "password")]
    for row in rows:
        assert attr(the(row, "label"), "for") == attr(the(row, "input"), "id")


def test_the_login_form_has_no_paragraph_rows_left_to_misalign(client, db):
    assert elements(login_form(client), "p") == []


def test_the_stylesheet_stacks_the_entry_forms_rows_and_sizes_the_login_inputs_alike():
    css = Path(settings.BASE_DIR, "static", "css", "ledger.css").read_text()
    assert ".entry > div { margin-bottom: 1rem; display: flex; flex-direction: column;" in css
    assert ".login input { width: 100%; }" in css
