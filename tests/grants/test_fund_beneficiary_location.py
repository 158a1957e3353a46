"""A fund's own beneficiary location (issue 19): set on its publication page, exported in its
360Giving data, and blank meaning the office's police force area from settings."""

import csv

import openpyxl
import pytest
import simplejson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from grants import services
from grants.models import Fund
from tests.factories import FundFactory
from tests.grants.dataquality import warnings
from tests.grants.test_open_data import FORCE_AREA, complete_fund, open_data_settings  # noqa: F401
from tests.grants.test_three_sixty_giving import export

COVENTRY = ("Coventry", "E08000026", "LAD")


def location_form(fund, name="", code="", code_type="", **extra):
    return {
        "beneficiary_location_name": name,
        "beneficiary_location_code": code,
        "beneficiary_location_code_type": code_type,
        "version": fund.version,
        **extra,
    }


def give_coventry(fund):
    return services.fund_publication_update(
        fund=fund,
        acting_user=None,
        data_source_url=fund.data_source_url,
        beneficiary_location_name=COVENTRY[0],
        beneficiary_location_code=COVENTRY[1].lower(),
        beneficiary_location_code_type=COVENTRY[2].lower(),
        expected_version=fund.version,
    )


def test_a_fund_with_its_own_location_exports_it_in_json_csv_and_xlsx_with_no_warning(
    complete_fund,  # noqa: F811
    tmp_path,
):
    give_coventry(complete_fund)
    path, _ = export(complete_fund, "json", tmp_path)
    package = simplejson.loads(path.read_text(), use_decimal=True)
    assert warnings(package) == {}
    assert [grant["beneficiaryLocation"] for grant in package["grants"]] == [
        [{"name": "Coventry", "countryCode": "GB", "geoCode": "E08000026", "geoCodeType": "LAD"}]
    ] * 5
    assert len(package["grants"]) == 5
    csv_path, _ = export(complete_fund, "csv", tmp_path)
    rows = list(csv.DictReader(csv_path.open()))
    assert {
        (
            row["Beneficiary Location:Name"],
            row["Beneficiary Location:Geographic Code"],
            row["Beneficiary Location:Geographic Code Type"],
        )
        for row in rows
    } == {COVENTRY}
    xlsx_path, _ = export(complete_fund, "xlsx", tmp_path)
    sheet = openpyxl.load_workbook(xlsx_path)["grants"]
    titles = [cell.value for cell in sheet[1]]
    columns = [
        titles.index(title) + 1
        for title in (
            "Beneficiary Location:Name",
            "Beneficiary Location:Geographic Code",
            "Beneficiary Location:Geographic Code Type",
        )
    ]
    assert {
        tuple(sheet.cell(row, column).value for column in columns) for row in range(2, sheet.max_row + 1)
    } == {COVENTRY}


def test_a_blank_location_falls_back_to_the_force_area_from_settings(complete_fund, tmp_path):  # noqa: F811
    give_coventry(complete_fund)
    complete_fund.refresh_from_db()
    services.fund_publication_update(
        fund=complete_fund,
        acting_user=None,
        data_source_url=complete_fund.data_source_url,
        expected_version=complete_fund.version,
    )
    complete_fund.refresh_from_db()
    assert complete_fund.beneficiary_location_name == complete_fund.beneficiary_location_code == ""
    path, _ = export(complete_fund, "json", tmp_path)
    package = simplejson.loads(path.read_text(), use_decimal=True)
    places = {
        (place["name"], place["geoCode"], place["geoCodeType"])
        for grant in package["grants"]
        for place in grant["beneficiaryLocation"]
    }
    assert places == {FORCE_AREA}
    assert warnings(package) == {}


def test_the_seed_fund_is_unchanged_and_exports_the_force_area(seed_fund, tmp_path):
    assert (
        seed_fund.beneficiary_location_name,
        seed_fund.beneficiary_location_code,
        seed_fund.beneficiary_location_code_type,
    ) == ("", "", "")
    path, _ = export(seed_fund, "json", tmp_path)
    grants = simplejson.loads(path.read_text(), use_decimal=True)["grants"]
    assert len(grants) == 16
    assert {
        (grant["beneficiaryLocation"][0]["name"], grant["beneficiaryLocation"][0]["geoCode"])
        for grant in grants
    } == {FORCE_AREA[:2]}


def test_the_publication_page_sets_the_location_and_says_which_applies(client, officer, viewer, db):
    fund = FundFactory()
    url = reverse("grants:fund_publication", args=[fund.code])
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url, location_form(fund, *COVENTRY)).status_code == 403
    fund.refresh_from_db()
    assert fund.beneficiary_location_name == ""
    client.force_login(officer)
    page = client.get(url).content.decode()
    assert (
        "the office's police force area, set in the ledger's settings: West Midlands (E23000014, PFA)" in page
    )
    response = client.post(url, location_form(fund, "Coventry", "e08000026", "lad"))
    assert response.status_code == 302
    fund.refresh_from_db()
    assert (
        fund.beneficiary_location_name,
        fund.beneficiary_location_code,
        fund.beneficiary_location_code_type,
    ) == COVENTRY
    event = AuditEvent.objects.filter(table_name="grants_fund", row_id=fund.pk, action="update").latest("pk")
    assert event.before["beneficiary_location_name"] == ""
    assert event.after["beneficiary_location_code"] == "E08000026"
    assert event.actor_username == officer.username
    page = client.get(url).content.decode()
    assert "this fund's own beneficiary location: Coventry (E08000026, LAD)" in page


def test_a_form_opened_before_a_colleagues_save_is_refused(client, officer, db):
    fund = FundFactory()
    url = reverse("grants:fund_publication", args=[fund.code])
    client.force_login(officer)
    stale_version = client.get(url).context["form"].initial["version"]
    assert client.post(url, location_form(fund, *COVENTRY)).status_code == 302
    response = client.post(url, location_form(fund, "Solihull", "E08000029", "LAD", version=stale_version))
    assert response.status_code == 200
    fund.refresh_from_db()
    assert fund.beneficiary_location_name == "Coventry"


@pytest.mark.parametrize(
    ("name", "code", "code_type", "field"),
    [
        ("Coventry", "E0800002", "LAD", "beneficiary_location_code"),
        ("Coventry", "X08000026", "LAD", "beneficiary_location_code"),
        ("Coventry", "E08000026", "local authority", "beneficiary_location_code_type"),
        ("=HYPERLINK(1)", "", "", "beneficiary_location_name"),
    ],
)
def test_a_bad_location_is_refused_naming_the_field_and_nothing_changes(
    client, officer, db, name, code, code_type, field
):
    fund = FundFactory()
    client.force_login(officer)
    response = client.post(
        reverse("grants:fund_publication", args=[fund.code]), location_form(fund, name, code, code_type)
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    fund.refresh_from_db()
    assert fund.beneficiary_location_name == "" and fund.beneficiary_location_code == ""


@pytest.mark.parametrize(
    ("name", "code", "code_type"),
    [("", "E08000026", "LAD"), ("Coventry", "E08000026", ""), ("Coventry", "", "LAD")],
)
def test_a_code_without_its_name_or_type_is_refused_by_the_service_and_the_database(
    db, name, code, code_type
):
    fund = FundFactory()
    with pytest.raises(ValidationError, match="needs its name and its geography type"):
        services.fund_publication_update(
            fund=fund,
            acting_user=None,
            beneficiary_location_name=name,
            beneficiary_location_code=code,
            beneficiary_location_code_type=code_type,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=fund.pk).update(
            beneficiary_location_name=name,
            beneficiary_location_code=code,
            beneficiary_location_code_type=code_type,
        )


def test_a_name_alone_is_exported_without_a_code(complete_fund, tmp_path):  # noqa: F811
    services.fund_publication_update(
        fund=complete_fund,
        acting_user=None,
        data_source_url=complete_fund.data_source_url,
        beneficiary_location_name="Coventry and Warwickshire",
    )
    path, _ = export(complete_fund, "json", tmp_path)
    grant = simplejson.loads(path.read_text(), use_decimal=True)["grants"][0]
    assert grant["beneficiaryLocation"][0]["name"] == "Coventry and Warwickshire"
    assert "geoCode" not in grant["beneficiaryLocation"][0]
