"""The site's icon: a small SVG served from our own static files and linked from every page, so no
page asks for a /favicon.ico that is not there (and nothing is fetched from another host)."""

import re

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

ICON = static("img/favicon.svg")
LINK = f'<link rel="icon" href="{ICON}" type="image/svg+xml">'


def test_the_icon_is_served_without_a_login_as_svg(db):
    response = Client().get(ICON)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = b"".join(response.streaming_content).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    # Nothing in it points anywhere but the file itself (the SVG namespace is a name, not a fetch).
    assert re.findall(r"(?:href|src)=", svg) == []
    assert len(svg) < 1024


def test_the_icon_is_a_static_file_collectstatic_picks_up():
    assert finders.find("img/favicon.svg") is not None


def test_the_login_page_and_a_signed_in_page_link_the_icon(client, officer):
    assert LINK in client.get(reverse("login")).content.decode()
    client.force_login(officer)
    assert LINK in client.get(reverse("grants:dashboard")).content.decode()


def test_the_error_page_and_the_admin_link_the_icon(client, staff_user):
    from django.template.loader import render_to_string

    assert LINK in render_to_string("500.html")
    client.force_login(staff_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert LINK in page and "Grant allocation ledger</a>" in page
