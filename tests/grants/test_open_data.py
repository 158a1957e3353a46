"""Open data 360Giving's own checks rate clean (issue 19): organisations' registered numbers and
places, a fund's publication facts, and what the Data Quality Tool says of the export."""

import csv
import datetime
import json
from decimal import Decimal

import openpyxl
import pytest
import simplejson
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from grants import selectors, services
from grants.exports.three_sixty_giving import recipient_identifier, short_title
from grants.models import Organisation
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory
from tests.grants.dataquality import CHECKS, warnings
from tests.grants.test_three_sixty_giving import export, standard_validator

FORCE_AREA = ("West Midlands", "E23000014", "PFA")


@pytest.fixture(autouse=True)
def open_data_settings(settings):
    settings.LEDGER_OFFICE_ORG_ID = "GB-GOR-PC39"
    settings.LEDGER_360GIVING_PREFIX = "360G-opccwm"
    settings.LEDGER_OFFICE_NAME = "Office of the Police and Crime Commissioner for the West Midlands"
    settings.LEDGER_BENEFICIARY_LOCATION_NAME = FORCE_AREA[0]
    settings.LEDGER_BENEFICIARY_LOCATION_CODE = FORCE_AREA[1]
    settings.LEDGER_BENEFICIARY_LOCATION_CODE_TYPE = FORCE_AREA[2]
    settings.LEDGER_DATA_SOURCE_DEFAULT = "https://www.example-pcc.gov.uk/grants"


@pytest.fixture
def complete_fund(db):
    """A fund whose recipients have their numbers and places, one of each kind of register."""
    fund = FundFactory(
        code="complete-2024",
        name="Victims' services fund",
        data_source_url="https://www.example-pcc.gov.uk/board/2024-08-19-report.pdf",
    )
    organisations = [
        OrganisationFactory(
            name="Refuge of England",
            charity_number="1106046",
            charity_subsidiary_number="1",
            postcode="B1 1AA",
        ),
        OrganisationFactory(name="Scottish Helpline", charity_number="SC012345", location_code="S12000036"),
        OrganisationFactory(name="Ulster Advice", ni_charity_number="NIC100002", postcode="BT1 1AA"),
        OrganisationFactory(name="Safe Homes Ltd", company_number="05268934", postcode="CV1 2AB"),
        OrganisationFactory(
            name="University Clinic",
            org_identifier="GB-EDU-133795",
            company_number="RC000658",
            postcode="B15 2TT",
        ),
    ]
    for number, organisation in enumerate(organisations, start=1):
        AllocationFactory(fund=fund, line_number=number, organisation=organisation, amount=Decimal("1000.00"))
    return fund


def test_a_complete_funds_export_is_valid_and_raises_no_data_quality_warning(complete_fund, tmp_path):
    path, _ = export(complete_fund, "json", tmp_path)
    package = simplejson.loads(path.read_text(), use_decimal=True)
    assert list(standard_validator().iter_errors(json.loads(path.read_text()))) == []
    assert warnings(package) == {}
    recipients = {
        grant["recipientOrganization"][0]["name"]: grant["recipientOrganization"][0]
        for grant in package["grants"]
    }
    assert recipients["Refuge of England"] == {
        "id": "GB-CHC-1106046",
        "name": "Refuge of England",
        "charityNumber": "1106046",
        "postalCode": "B1 1AA",
    }
    assert recipients["Scottish Helpline"]["id"] == "GB-SC-SC012345"
    assert recipients["Scottish Helpline"]["location"] == [{"geoCode": "S12000036", "countryCode": "GB"}]
    assert recipients["Ulster Advice"]["id"] == "GB-NIC-100002"
    assert recipients["Ulster Advice"]["charityNumber"] == "100002"
    assert recipients["Safe Homes Ltd"]["id"] == "GB-COH-05268934"
    assert recipients["University Clinic"]["id"] == "GB-EDU-133795"
    first = package["grants"][0]
    assert first["dataSource"] == "https://www.example-pcc.gov.uk/board/2024-08-19-report.pdf"
    assert first["beneficiaryLocation"] == [
        {"name": "West Midlands", "countryCode": "GB", "geoCode": "E23000014", "geoCodeType": "PFA"}
    ]
    assert [c["vocabulary"] for c in first["classifications"]] == [
        "360G-opccwm-thematic-area",
        "360G-opccwm-funding-category",
    ]


def test_every_check_fires_on_the_seed_fund_whose_recipients_have_no_numbers(seed_fund, tmp_path, settings):
    """The positive control: the same checks do warn, naming the gaps the seed data has."""
    settings.LEDGER_DATA_SOURCE_DEFAULT = ""
    path, _ = export(seed_fund, "json", tmp_path)
    failed = warnings(simplejson.loads(path.read_text(), use_decimal=True))
    for check in (
        "RecipientOrg360GPrefix",
        "NoRecipientOrgCompanyCharityNumber",
        "IncompleteRecipientOrg",
        "BeneficiaryButNotRecipientGeoData",
        "NoDataSource",
    ):
        assert len(failed[check]) == 16, check
    assert "ClassificationNotPresent" not in failed
    assert "TitleLength" not in failed


def test_the_seed_fund_still_lists_exactly_the_recipients_that_lack_numbers(seed_fund):
    names = [organisation.name for organisation in selectors.unregistered_recipients(seed_fund)]
    assert names == sorted(
        Organisation.objects.filter(allocations__fund=seed_fund).distinct().values_list("name", flat=True)
    )
    assert len(names) == 15  # Black Country Women's Aid holds two lines of the 16


def test_the_tools_number_rules_flag_the_forms_the_ledger_no_longer_accepts():
    def grant(**recipient):
        return {"recipientOrganization": [{"id": "GB-CHC-1106046", **recipient}]}

    assert CHECKS["RecipientOrgCharityNumber"](grant(charityNumber="1106046-1"))
    assert CHECKS["RecipientOrgCharityNumber"](grant(charityNumber="11060461"))
    assert CHECKS["RecipientOrgCharityNumber"](grant(charityNumber="NIC100002"))
    assert not CHECKS["RecipientOrgCharityNumber"](grant(charityNumber="SC012345"))
    assert not CHECKS["RecipientOrgCharityNumber"](grant(charityNumber="100002"))
    for number in ("1106046-1", "11060461", "NIC100002"):
        with pytest.raises(ValidationError):
            Organisation(name="Provider", charity_number=number).clean_fields()


def test_csv_and_xlsx_carry_the_new_columns_and_the_xlsx_its_meta_sheet(complete_fund, tmp_path):
    csv_path, _ = export(complete_fund, "csv", tmp_path)
    rows = list(csv.DictReader(csv_path.open()))
    assert rows[0]["Recipient Org:Postal Code"] == "B1 1AA"
    assert rows[0]["Data Source"] == "https://www.example-pcc.gov.uk/board/2024-08-19-report.pdf"
    xlsx_path, result = export(complete_fund, "xlsx", tmp_path)
    book = openpyxl.load_workbook(xlsx_path)
    meta = {row[0]: row[1] for row in book["Meta"].iter_rows(values_only=True)}
    assert meta == {
        "Version": "1.4",
        "Title": "Office of the Police and Crime Commissioner for the West Midlands: Victims' services fund "
        "(complete-2024)",
        "Issued": result.package["issued"],
        "Publisher:Identifier": "GB-GOR-PC39",
        "Publisher:Name": "Office of the Police and Crime Commissioner for the West Midlands",
        "License": "https://creativecommons.org/licenses/by/4.0/",
    }
    sheet = book["grants"]
    titles = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, titles.index("Award Date") + 1).value == "2020-08-19"
    assert sheet.cell(2, titles.index("Planned Dates:End Date") + 1).value == "2020-10-31"


def test_flattentools_conversion_of_the_xlsx_gives_the_jsons_grants_and_package(complete_fund, tmp_path):
    # A dev dependency (pyproject.toml); skipped only in an environment installed before it was added.
    flattentool = pytest.importorskip("flattentool")
    from grants.exports.three_sixty_giving import SCHEMA_FOLDER

    xlsx_path, result = export(complete_fund, "xlsx", tmp_path)
    output = tmp_path / "converted.json"
    # The package schema names the grant schema by its web address; point it at the shipped copy so
    # nothing is fetched.
    package_schema = json.loads((SCHEMA_FOLDER / "360-giving-package-schema.json").read_text())
    package_schema["properties"]["grants"]["items"]["$ref"] = (
        SCHEMA_FOLDER / "360-giving-schema.json"
    ).as_uri()
    local_package_schema = tmp_path / "package-schema.json"
    local_package_schema.write_text(json.dumps(package_schema))
    flattentool.unflatten(
        str(xlsx_path),
        output_name=str(output),
        input_format="xlsx",
        schema=str(SCHEMA_FOLDER / "360-giving-schema.json"),
        root_list_path="grants",
        root_id="",
        convert_titles=True,
        metatab_name="Meta",
        metatab_vertical_orientation=True,
        metatab_schema=str(local_package_schema),
    )
    converted = json.loads(output.read_text())
    expected = json.loads(json.dumps(result.package, default=str))
    for field in ("version", "title", "issued", "publisher", "license"):
        assert converted[field] == expected[field], field
    assert len(converted["grants"]) == len(expected["grants"]) == 5
    for ours, theirs in zip(expected["grants"], converted["grants"], strict=True):
        assert theirs["id"] == ours["id"]
        assert Decimal(str(theirs["amountAwarded"])) == Decimal(ours["amountAwarded"])
        assert theirs["awardDate"] == ours["awardDate"]
        assert theirs["plannedDates"] == ours["plannedDates"]
        assert theirs["dateModified"] == ours["dateModified"]
        assert theirs["recipientOrganization"][0]["id"] == ours["recipientOrganization"][0]["id"]
        assert theirs.get("dataSource") == ours["dataSource"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Short title", "Short title"),
        ("x" * 140, "x" * 140),
        ("word " * 40, ("word " * 27).strip() + "…"),
    ],
)
def test_titles_are_cut_at_a_word_within_140_characters(text, expected):
    assert short_title(text) == expected
    assert len(short_title(text)) <= 140


def test_a_long_name_never_makes_a_title_over_140_characters(db, tmp_path):
    fund = FundFactory(
        name="Extraordinary Funding for Domestic Abuse and Sexual Violence Support Services 2020"
    )
    AllocationFactory(
        fund=fund,
        organisation=OrganisationFactory(name="A provider with a long name " * 3),
        service="Outreach",
    )
    path, _ = export(fund, "json", tmp_path)
    title = json.loads(path.read_text())["grants"][0]["title"]
    assert len(title) <= 140 and title.endswith("…")


def test_a_northern_irish_number_gives_a_gb_nic_identifier():
    assert recipient_identifier(
        org_identifier="",
        charity_number="",
        company_number="",
        ni_charity_number="NIC100002",
        prefix="360G-x",
        internal_id=1,
    ) == ("GB-NIC-100002", False)


def test_postcodes_are_written_as_on_an_envelope_and_bad_ones_refused_naming_the_field(db):
    organisation = services.organisation_create(name="Safe Homes", postcode=" b15  2tt ", acting_user=None)
    assert organisation.postcode == "B15 2TT"
    with pytest.raises(ValidationError) as error:
        services.organisation_create(name="Other Homes", postcode="B15", acting_user=None)
    assert error.value.message_dict["postcode"][0].startswith("A postcode is written like SW1A 1AA")
    assert not Organisation.objects.filter(name="Other Homes").exists()


def test_the_migration_moves_suffixes_and_northern_irish_numbers_to_their_fields(db):
    import importlib

    migration = importlib.import_module("grants.migrations.0033_open_data_and_grants_register")
    subsidiary = OrganisationFactory(charity_number="1106046-1")
    northern = OrganisationFactory(charity_number="NIC100002")
    eight = OrganisationFactory(charity_number="11060461")
    migration.split_charity_numbers(apps, None)
    for organisation in (subsidiary, northern, eight):
        organisation.refresh_from_db()
    assert (subsidiary.charity_number, subsidiary.charity_subsidiary_number) == ("1106046", "1")
    assert (northern.charity_number, northern.ni_charity_number) == ("", "NIC100002")
    assert eight.charity_number == "11060461"  # left for a person: the page names it


def test_the_organisation_page_lists_what_is_missing_for_open_data(client, officer, db):
    bare = OrganisationFactory(name="Bare Provider")
    complete = OrganisationFactory(name="Complete Provider", charity_number="1106046", postcode="B1 1AA")
    client.force_login(officer)
    page = client.get(reverse("grants:organisation_detail", args=[bare.pk])).content.decode()
    assert 'id="open-data-gaps"' in page
    assert "A registered number: its charity number" in page
    assert "Its postcode (or the ONS code" in page
    page = client.get(reverse("grants:organisation_detail", args=[complete.pk])).content.decode()
    assert 'id="open-data-gaps"' not in page
    assert "B1 1AA" in page


def test_the_organisation_form_takes_the_open_data_fields(client, officer, db):
    client.force_login(officer)
    response = client.post(
        reverse("grants:organisation_add"),
        {
            "name": "Ulster Advice",
            "ni_charity_number": "nic100002",
            "postcode": "bt11aa",
            "location_code": "n09000003",
            "registered_address": "1 High Street\nBelfast",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Ulster Advice")
    assert (organisation.ni_charity_number, organisation.postcode, organisation.location_code) == (
        "NIC100002",
        "BT1 1AA",
        "N09000003",
    )
    response = client.post(
        reverse("grants:organisation_add"), {"name": "Bad Numbers", "charity_subsidiary_number": "123"}
    )
    assert response.status_code == 200
    assert "A subsidiary number is the 1 or 2 digits" in response.content.decode()
    assert not Organisation.objects.filter(name="Bad Numbers").exists()


def test_a_subsidiary_number_without_its_main_number_is_refused_by_the_database(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="Orphan", charity_subsidiary_number="1")


def test_publication_facts_are_one_officers_word_kept_in_the_funds_history(client, officer, viewer, db):
    fund = FundFactory()
    client.force_login(viewer)
    assert client.get(reverse("grants:fund_publication", args=[fund.code])).status_code == 403
    client.force_login(officer)
    response = client.post(
        reverse("grants:fund_publication", args=[fund.code]),
        {
            "data_source_url": "https://www.example-pcc.gov.uk/board",
            "register_purpose": "Support for victims",
            "register_conditions": "Quarterly returns",
            "register_crime_reduction": "Victims supported are less likely to be harmed again",
            "is_published": "on",
            "version": fund.version,
        },
    )
    assert response.status_code == 302
    fund.refresh_from_db()
    assert fund.is_published and fund.register_purpose == "Support for victims"
    event = AuditEvent.objects.filter(table_name="grants_fund", row_id=fund.pk, action="update").latest("pk")
    assert event.before["is_published"] in (False, 0) and event.after["is_published"] in (True, 1)
    assert event.actor_username == officer.username
    # A text beginning like a formula is refused, naming the field, and nothing changes.
    response = client.post(
        reverse("grants:fund_publication", args=[fund.code]),
        {"register_purpose": "=HYPERLINK(1)", "version": fund.version},
    )
    assert response.status_code == 200
    fund.refresh_from_db()
    assert fund.register_purpose == "Support for victims"


def test_datetimes_keep_their_zone_in_the_export(complete_fund, tmp_path):
    path, result = export(complete_fund, "json", tmp_path)
    modified = json.loads(path.read_text())["grants"][0]["dateModified"]
    assert datetime.datetime.fromisoformat(modified).tzinfo is not None


def test_the_admin_adds_an_organisation_with_its_open_data_fields(staff_client, db):
    response = staff_client.post(
        reverse("admin:grants_organisation_add"),
        {
            "name": "Scottish Helpline",
            "charity_number": "SC012345",
            "postcode": "EH1 1AA",
            "location_code": "S12000036",
            "registered_address": "1 Royal Mile\\nEdinburgh",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    organisation = Organisation.objects.get(name="Scottish Helpline")
    assert (organisation.charity_number, organisation.postcode, organisation.location_code) == (
        "SC012345",
        "EH1 1AA",
        "S12000036",
    )
    response = staff_client.post(
        reverse("admin:grants_organisation_add"),
        {"name": "Subsidiary Only", "charity_subsidiary_number": "1"},
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="Subsidiary Only").exists()


def test_the_organisation_page_names_a_number_left_in_a_form_the_tool_flags(client, officer, db):
    """The migration leaves an 8-digit charity number for a person to correct and says the page names
    it: the page must, or the export keeps publishing a number the Data Quality Tool flags."""
    organisation = OrganisationFactory(charity_number="11060461", postcode="B1 1AA")
    client.force_login(officer)
    page = client.get(reverse("grants:organisation_detail", args=[organisation.pk])).content.decode()
    assert 'id="open-data-gaps"' in page
    assert "11060461" in page.split('id="open-data-gaps"')[1]


def _flattentool_json(xlsx_path, tmp_path):
    flattentool = pytest.importorskip("flattentool")
    from grants.exports.three_sixty_giving import SCHEMA_FOLDER

    output = tmp_path / "converted.json"
    package_schema = json.loads((SCHEMA_FOLDER / "360-giving-package-schema.json").read_text())
    package_schema["properties"]["grants"]["items"]["$ref"] = (
        SCHEMA_FOLDER / "360-giving-schema.json"
    ).as_uri()
    local_package_schema = tmp_path / "package-schema.json"
    local_package_schema.write_text(json.dumps(package_schema))
    flattentool.unflatten(
        str(xlsx_path),
        output_name=str(output),
        input_format="xlsx",
        schema=str(SCHEMA_FOLDER / "360-giving-schema.json"),
        root_list_path="grants",
        root_id="",
        convert_titles=True,
        metatab_name="Meta",
        metatab_vertical_orientation=True,
        metatab_schema=str(local_package_schema),
    )
    return json.loads(output.read_text())


def test_the_xlsx_as_flattentool_reads_it_raises_no_warning_either(complete_fund, tmp_path):
    """Issue 19's "done when": the JSON, CSV and xlsx of a complete fund raise no warning. 360Giving
    reads a spreadsheet through flattentool, so the checks must pass on what it makes of the xlsx:
    a recipient known by its location code only, and the classifications, must survive."""
    xlsx_path, _ = export(complete_fund, "xlsx", tmp_path)
    converted = _flattentool_json(xlsx_path, tmp_path)
    assert warnings(converted) == {}
    scottish = next(
        grant
        for grant in converted["grants"]
        if grant["recipientOrganization"][0]["name"] == "Scottish Helpline"
    )
    assert scottish["recipientOrganization"][0]["location"][0]["geoCode"] == "S12000036"
