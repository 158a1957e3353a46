"""The accessibility statement (/accessibility/), as the Public Sector Bodies Accessibility
Regulations 2018 expect, linked from every page's footer."""

import pytest


def test_the_statement_is_linked_from_every_pages_footer(client, viewer):
    client.force_login(viewer)

    assert '<footer class="site-footer">' in client.get("/funds/").content.decode()
    assert 'href="/accessibility/">Accessibility statement</a>' in client.get("/funds/").content.decode()
    assert client.get("/accessibility/").status_code == 200


def test_a_login_without_a_role_can_read_how_to_report_a_problem(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("no-role"))

    response = client.get("/accessibility/")

    assert response.status_code == 200
    assert "Reporting a problem" in response.content.decode()


@pytest.mark.parametrize(
    "expected",
    [
        "WCAG) version 2.2 at level AA",
        "<strong>partially compliant</strong>",
        "Downloaded Excel workbooks",
        "bar chart of totals by funding category",
        "axe-core, at a window 1280 pixels wide and at 390 pixels",
        "Equality and Human Rights Commission (EHRC)",
        "Equality Commission for Northern Ireland (ECNI)",
        "This statement was prepared on 6 December 2026.",
    ],
)
def test_the_statement_says_what_the_regulations_ask(client, viewer, expected):
    client.force_login(viewer)

    assert expected in client.get("/accessibility/").content.decode()


def test_problems_are_reported_to_the_configured_address(client, viewer, settings):
    client.force_login(viewer)
    assert "ask the ledger's administrators" in client.get("/accessibility/").content.decode()

    settings.LEDGER_ACCESSIBILITY_CONTACT = "digital@opcc.example.gov.uk"
    page = client.get("/accessibility/").content.decode()

    assert '<a href="mailto:digital@opcc.example.gov.uk">digital@opcc.example.gov.uk</a>' in page


def test_the_public_register_page_links_to_a_statement_the_public_can_read(client, db):
    """A fund's public page (no login) is a public website: the Regulations want its statement
    published, and its footer's link must not lead a member of the public to the ledger's login."""
    from grants import services
    from tests.factories import FundFactory

    fund = FundFactory(code="vict-2026")
    services.fund_publication_update(fund=fund, acting_user=None, is_published=True)
    public = client.get("/public/funds/vict-2026/").content.decode()
    assert 'href="/accessibility/">Accessibility statement</a>' in public

    response = client.get("/accessibility/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Reporting a problem" in page and "public grants register" in page
    assert "/accounts/" not in page and "/admin/" not in page and "Log out" not in page
