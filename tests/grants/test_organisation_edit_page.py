"""Correcting an organisation's details in the app (`services.organisation_update`, as the admin)."""

import pytest
from django.test import Client

from audit.models import AuditEvent
from grants.models import Organisation
from tests.factories import AllocationFactory, OrganisationFactory


def text(response) -> str:
    return response.content.decode()


def details(organisation: Organisation, **changes) -> dict:
    data = {
        "name": organisation.name,
        "short_name": organisation.short_name,
        "charity_number": organisation.charity_number,
        "company_number": organisation.company_number,
        "org_identifier": organisation.org_identifier,
        "contact_email": organisation.contact_email,
        "notes": organisation.notes,
        "version": organisation.version,
    }
    return {**data, **changes}


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Coventry Haven", short_name="CH", charity_number="1106046")


def test_a_finance_officer_corrects_an_organisation_and_its_lines_still_point_at_it(
    client, officer, organisation
):
    line = AllocationFactory(organisation=organisation)
    client.force_login(officer)
    page = text(client.get(f"/organisations/{organisation.pk}/"))
    assert f'href="/organisations/{organisation.pk}/edit/"' in page
    assert "Correct these details in the admin" not in page

    response = client.post(
        f"/organisations/{organisation.pk}/edit/",
        details(organisation, name="Coventry Haven Women's Aid", contact_email="  grants@haven.example.org "),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/organisations/{organisation.pk}/"
    assert "Saved Coventry Haven Women&#x27;s Aid." in text(response)
    organisation.refresh_from_db()
    assert (organisation.name, organisation.contact_email, organisation.version) == (
        "Coventry Haven Women's Aid",
        "grants@haven.example.org",
        2,
    )
    line.refresh_from_db()
    assert line.organisation_id == organisation.pk
    change = AuditEvent.objects.get(table_name="grants_organisation", row_id=organisation.pk, action="update")
    assert change.actor_username == "officer"


def test_a_form_opened_before_a_colleagues_save_is_refused(officer, organisation):
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(officer)
    opened = details(organisation)
    assert (
        second.post(f"/organisations/{organisation.pk}/edit/", {**opened, "short_name": "CHWA"}).status_code
        == 302
    )

    response = first.post(f"/organisations/{organisation.pk}/edit/", {**opened, "short_name": "HAV"})

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and "since you opened" in page
    assert 'value="HAV"' in page
    assert Organisation.objects.get(pk=organisation.pk).short_name == "CHWA"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "provider taken"}, "name", "Provider Taken is already in the ledger."),
        ({"charity_number": "12"}, "charity_number", "A charity number is the main number of 6 or 7 digits"),
        ({"contact_email": "not an email"}, "contact_email", "Enter a valid email address."),
        ({"org_identifier": "gb-x"}, "org_identifier", "An organisation identifier is a list code"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(client, officer, organisation, changes, field, message):
    OrganisationFactory(name="Provider Taken")
    client.force_login(officer)
    before = Organisation.objects.values().get(pk=organisation.pk)

    response = client.post(f"/organisations/{organisation.pk}/edit/", details(organisation, **changes))

    page = text(response)
    assert response.status_code == 200
    assert f'<a href="#id_{field}">' in page and message in page
    assert f'aria-describedby="id_{field}_error' in page or f'id_{field}_error"' in page
    assert Organisation.objects.values().get(pk=organisation.pk) == before


def test_a_viewer_may_not_edit_and_sees_no_link(client, viewer, organisation):
    client.force_login(viewer)
    assert "/edit/" not in text(client.get(f"/organisations/{organisation.pk}/"))
    assert client.get(f"/organisations/{organisation.pk}/edit/").status_code == 403
    assert (
        client.post(f"/organisations/{organisation.pk}/edit/", details(organisation, name="X")).status_code
        == 403
    )
    assert Organisation.objects.get(pk=organisation.pk).name == "Coventry Haven"


def test_a_post_without_the_csrf_token_is_refused(officer, organisation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)

    response = client.post(f"/organisations/{organisation.pk}/edit/", details(organisation, name="Forged"))

    assert response.status_code == 403
    assert Organisation.objects.get(pk=organisation.pk).name == "Coventry Haven"


def test_the_edit_page_keeps_and_saves_every_open_data_field(client, officer, organisation):
    """The edit form takes its fields from the add form: each open-data field is shown with its value
    and saved, never shown and then dropped."""
    organisation.postcode = "CV1 2AB"
    organisation.location_code = "E08000026"
    organisation.save()
    client.force_login(officer)
    form = client.get(f"/organisations/{organisation.pk}/edit/").context["form"]
    assert (form.initial["postcode"], form.initial["location_code"]) == ("CV1 2AB", "E08000026")

    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        charity_subsidiary_number="1", registered_address="1 High Street, Coventry", postcode="cv1 3cd"
    )
    response = client.post(f"/organisations/{organisation.pk}/edit/", data)

    assert response.status_code == 302, text(response)
    organisation.refresh_from_db()
    assert (
        organisation.charity_subsidiary_number,
        organisation.registered_address,
        organisation.postcode,
        organisation.location_code,
    ) == ("1", "1 High Street, Coventry", "CV1 3CD", "E08000026")
