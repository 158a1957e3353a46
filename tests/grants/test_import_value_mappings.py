"""A fund's import value mappings (`grants.models.ImportValueMapping`): what an office's table text
was mapped to. Their rules hold in `full_clean()` and in the database, the audit trail records them,
and the admin shows them and deletes a wrong one, unless the fund's return is submitted."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from grants import services
from grants.imports.reading import normalise
from grants.models import ImportValueMapping, value_key
from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    ThematicAreaFactory,
    submit_return,
    user_in_role,
)
from tests.grants.test_constraints import (
    constraint_messages,
    insert_with_sql,
    quote,
    refused_by,
    validation_messages,
)

TABLE = ImportValueMapping._meta.db_table
NEITHER = (
    'A mapping names a funding category, a thematic area or both (as "Sexual Violence" names each), never '
    "neither."
)


@pytest.fixture
def fund(db):
    return FundFactory()


@pytest.fixture
def category(db):
    return FundingCategoryFactory(name="Sexual violence")


@pytest.fixture
def area(db):
    return ThematicAreaFactory(name="Domestic abuse")


def mapping(fund, text="Sexual Violence Support", **values) -> ImportValueMapping:
    return ImportValueMapping(fund=fund, text=text, text_key=value_key(text), **values)


@pytest.fixture
def saved(fund, category, staff_user):
    row = mapping(fund, funding_category=category, mapped_by=staff_user)
    row.full_clean()
    row.save()
    return row


# The model -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Sexual Violence Support", "  women's AID, ", "ＤＡ – Ｓｅｒｖｉｃｅｓ", "Café 2"]
)
def test_value_key_is_the_imports_normalise(text):
    assert value_key(text) == normalise(text)


def test_value_key_ignores_case_spacing_and_punctuation():
    assert value_key("Sexual  Violence-Support!") == "sexualviolencesupport"


def test_a_mapping_says_what_the_text_is(fund, category, area):
    assert str(mapping(fund, funding_category=category)) == (
        '"Sexual Violence Support" is funding category Sexual violence'
    )
    assert str(mapping(fund, "DA", thematic_area=area)) == '"DA" is thematic area Domestic abuse'
    assert str(mapping(fund, "SV", thematic_area=area, funding_category=category)) == (
        '"SV" is thematic area Domestic abuse and funding category Sexual violence'
    )


def test_mappings_are_listed_by_fund_then_text(fund, category, area):
    for text in ["Outreach", "DA services"]:
        mapping(fund, text, thematic_area=area).save()
    mapping(FundFactory(), "Aardvark", funding_category=category).save()

    assert [row.text for row in ImportValueMapping.objects.filter(fund=fund)] == ["DA services", "Outreach"]


def test_full_clean_refuses_a_mapping_to_neither_and_accepts_both(fund, category, area):
    assert validation_messages(mapping(fund)) == {"__all__": [NEITHER]}
    both = mapping(fund, funding_category=category, thematic_area=area)
    both.full_clean()  # "Sexual Violence" is an area and a category: a section so named sets both


def test_database_refuses_a_mapping_to_neither(fund):
    with refused_by(ImportValueMapping, "import_value_mapping_names_a_category_or_an_area"):
        insert_with_sql(mapping(fund))

    assert not ImportValueMapping.objects.exists()


def test_database_refuses_an_update_that_maps_to_neither(saved):
    update = f"UPDATE {quote(TABLE)} SET {quote('funding_category_id')} = NULL WHERE {quote('id')} = %s"

    with (
        refused_by(ImportValueMapping, "import_value_mapping_names_a_category_or_an_area"),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, [saved.pk])

    saved.refresh_from_db()
    assert saved.funding_category is not None


def test_full_clean_and_the_database_refuse_a_text_with_no_letter_or_digit(fund, category):
    row = ImportValueMapping(fund=fund, text=" – ", text_key=value_key(" – "), funding_category=category)
    assert row.text_key == ""

    assert validation_messages(row) == {"text_key": ["This field cannot be blank."]}
    assert constraint_messages(row) == {"__all__": ["The text to map must hold a letter or a digit."]}
    with refused_by(ImportValueMapping, "import_value_mapping_text_has_a_letter_or_digit"):
        insert_with_sql(row)
    assert not ImportValueMapping.objects.exists()


def test_full_clean_and_the_database_refuse_a_second_mapping_of_the_same_text_in_a_fund(saved, area):
    again = mapping(saved.fund, "SEXUAL violence support.", thematic_area=area)

    assert validation_messages(again) == {"__all__": ["This fund already has a mapping for that text."]}
    with refused_by(ImportValueMapping, "import_value_mapping_text_is_mapped_once_per_fund"):
        insert_with_sql(again)
    assert list(ImportValueMapping.objects.values_list("pk", flat=True)) == [saved.pk]


def test_another_fund_may_map_the_same_text_otherwise(saved, area):
    other = mapping(FundFactory(), thematic_area=area)

    other.full_clean()
    other.save()

    assert ImportValueMapping.objects.filter(text_key=saved.text_key).count() == 2


# The audit trail -----------------------------------------------------------------------------------


def events_of(row) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(table_name=TABLE, row_id=row.pk).order_by("id"))


def test_the_audit_trail_records_a_mapping_and_its_deletion_with_who_and_why(saved, staff_user):
    services.import_value_mappings_delete(mappings=[saved], acting_user=staff_user)

    recorded = [
        (event.action, event.fund_id, event.actor_id, event.reason, (event.before or event.after)["text"])
        for event in events_of(saved)
    ]
    assert recorded == [
        ("insert", saved.fund_id, None, "", "Sexual Violence Support"),
        ("delete", saved.fund_id, staff_user.pk, "Deleted in the admin", "Sexual Violence Support"),
    ]
    assert str(events_of(saved)[0].get_table_name_display()) == "Import value mapping"


# The admin -----------------------------------------------------------------------------------------


def changelist_url() -> str:
    return reverse("admin:grants_importvaluemapping_changelist")


def change_url(row) -> str:
    return reverse("admin:grants_importvaluemapping_change", args=[row.pk])


def delete_url(row) -> str:
    return reverse("admin:grants_importvaluemapping_delete", args=[row.pk])


def submit(fund):
    AllocationFactory(fund=fund, line_number=1)
    submit_return(fund, user_in_role("Approver", "approver-a"))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_changelist_shows_fund_text_what_it_maps_to_and_who(staff_client, saved, area):
    other = mapping(FundFactory(code="other-fund"), "DA", thematic_area=area)
    other.save()

    response = staff_client.get(changelist_url(), {"fund__id__exact": saved.fund_id})

    assert response.status_code == 200
    shown = [
        [
            str(cell)
            for cell in (row.fund, row.text, response.context["cl"].model_admin.maps_to(row), row.mapped_by)
        ]
        for row in response.context["cl"].result_list
    ]
    assert shown == [
        [
            str(saved.fund),
            "Sexual Violence Support",
            "Funding category: Sexual violence",
            str(saved.mapped_by),
        ]
    ]
    assert "Funding category: Sexual violence" in response.text
    unfiltered = staff_client.get(changelist_url())
    assert "Thematic area: Domestic abuse" in unfiltered.text


def test_mappings_cannot_be_added_or_changed_in_the_admin(staff_client, saved, area):
    assert staff_client.get(reverse("admin:grants_importvaluemapping_add")).status_code == 403
    response = staff_client.post(change_url(saved), {"text": "Changed", "thematic_area": area.pk})

    assert response.status_code == 403
    saved.refresh_from_db()
    assert (saved.text, saved.funding_category_id is not None, saved.thematic_area) == (
        "Sexual Violence Support",
        True,
        None,
    )


def test_a_mapping_is_deleted_in_the_admin_through_the_services(staff_client, saved, staff_user):
    response = staff_client.post(delete_url(saved), {"post": "yes"})

    assert (response.status_code, response.url) == (302, changelist_url())
    assert not ImportValueMapping.objects.exists()
    assert events_of(saved)[-1].actor_id == staff_user.pk


def test_a_submitted_funds_mapping_is_not_deleted_in_the_admin(staff_client, saved):
    submit(saved.fund)
    submission = saved.fund.submissions.get()

    response = staff_client.post(delete_url(saved), {"post": "yes"})

    assert (response.status_code, response.url) == (302, change_url(saved))
    assert messages_of(response) == [f"Nothing was deleted. {services.locked_message(submission)}"]
    assert ImportValueMapping.objects.filter(pk=saved.pk).exists()


def test_the_bulk_delete_refuses_all_when_one_funds_return_is_submitted(staff_client, saved, area):
    open_one = mapping(FundFactory(code="open-fund"), "DA", thematic_area=area)
    open_one.save()
    submit(saved.fund)

    response = staff_client.post(
        changelist_url(),
        {"action": "delete_selected", "_selected_action": [open_one.pk, saved.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Nothing was deleted. This fund's MoJ return was submitted")
    assert ImportValueMapping.objects.count() == 2


def test_the_service_refuses_a_submitted_funds_mapping_under_the_lock(saved, staff_user):
    submit(saved.fund)

    with pytest.raises(services.ValidationError, match="MoJ return was submitted"):
        services.import_value_mappings_delete(mappings=[saved], acting_user=staff_user)

    assert ImportValueMapping.objects.filter(pk=saved.pk).exists()
