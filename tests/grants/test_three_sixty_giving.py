"""360Giving open data: the seed fund's grants, the standard's schemas, identifiers and the report."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import simplejson
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from grants.exports import three_sixty_giving
from grants.exports.files import write_three_sixty_giving
from grants.exports.three_sixty_giving import recipient_identifier
from grants.models import Organisation
from grants.reconciliation import reconcile
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory, UserFactory
from tests.grants.test_fixture import PRINTED_TABLE

SCHEMAS = Path(three_sixty_giving.__file__).parent / "schemas" / "threesixtygiving"


@pytest.fixture(autouse=True)
def open_data_settings(settings):
    settings.LEDGER_OFFICE_ORG_ID = "GB-GOR-PC39"
    settings.LEDGER_360GIVING_PREFIX = "360G-opccwm"
    settings.LEDGER_OFFICE_NAME = "Office of the Police and Crime Commissioner for the West Midlands"


def standard_validator() -> Draft202012Validator:
    """Built here from the shipped files, independently of the app's own validator."""
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    reference = package["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resource(reference, DRAFT202012.create_resource(grant))
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def export(fund, file_format, tmp_path):
    path = tmp_path / f"grants.{file_format}"
    result = write_three_sixty_giving(fund, file_format, path)
    return path, result


def test_the_seed_fund_is_sixteen_grants_to_the_penny_adding_up_to_its_ledger_total(seed_fund, tmp_path):
    path, _ = export(seed_fund, "json", tmp_path)
    package = simplejson.loads(path.read_text(), use_decimal=True)
    grants = package["grants"]
    assert len(grants) == 16
    assert [grant["amountAwarded"] for grant in grants] == [Decimal(row[3]) for row in PRINTED_TABLE]
    assert (
        sum((grant["amountAwarded"] for grant in grants), Decimal("0"))
        == reconcile(seed_fund).ledger_total.amount
    )
    assert sum((grant["amountAwarded"] for grant in grants), Decimal("0")) == Decimal("738810.82")
    first = grants[0]
    assert first["id"] == "360G-opccwm-moj-ecf-2020-1"
    assert first["currency"] == "GBP"
    assert first["awardDate"] == "2020-08-19"
    assert first["plannedDates"] == [{"startDate": "2020-03-23", "endDate": "2020-10-31"}]
    assert first["recipientOrganization"][0]["name"] == "Black Country Women's Aid"
    assert first["fundingOrganization"] == [
        {"id": "GB-GOR-PC39", "name": "Office of the Police and Crime Commissioner for the West Midlands"}
    ]
    assert first["grantProgramme"] == [
        {
            "code": "moj-ecf-2020",
            "title": "Extraordinary Covid Fund for domestic abuse and sexual violence services",
        }
    ]
    assert len({grant["id"] for grant in grants}) == 16


def test_the_json_package_validates_against_the_standards_schemas(seed_fund, tmp_path):
    path, _ = export(seed_fund, "json", tmp_path)
    package = json.loads(path.read_text())
    errors = list(standard_validator().iter_errors(package))
    assert errors == []
    assert package["version"] == "1.4"
    assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert package["publisher"] == {
        "name": "Office of the Police and Crime Commissioner for the West Midlands",
        "identifier": "GB-GOR-PC39",
    }


def test_the_validator_catches_a_grant_that_breaks_the_standard(seed_fund, tmp_path):
    path, _ = export(seed_fund, "json", tmp_path)
    package = json.loads(path.read_text())
    del package["grants"][3]["amountAwarded"]
    package["grants"][5]["awardDate"] = "19/08/2020"
    assert list(standard_validator().iter_errors(package)) != []
    errors = three_sixty_giving.schema_errors(package)
    assert len(errors) == 2
    assert errors[0].startswith("grants/3: ")
    assert errors[1].startswith("grants/5/awardDate: ")


def test_an_export_that_would_break_the_schema_is_refused(seed_fund, tmp_path, monkeypatch):
    from grants.exports import three_sixty_giving_data

    real = three_sixty_giving_data.package_json

    def without_a_currency(grants, **meta):
        package = real(grants, **meta)
        del package["grants"][0]["currency"]
        return package

    monkeypatch.setattr(three_sixty_giving_data, "package_json", without_a_currency)
    with pytest.raises(CommandError) as error:
        call_command("export_360giving", "moj-ecf-2020", "-o", str(tmp_path / "out.json"))
    assert error.value.returncode == 2
    assert str(error.value) == (
        "The data does not meet the 360Giving schema:\ngrants/0: 'currency' is a required property"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ({"charity_number": "1106046"}, ("GB-CHC-1106046", False)),
        ({"charity_number": " 1106 046 "}, ("GB-CHC-1106046", False)),
        ({"charity_number": "SC012345"}, ("GB-SC-SC012345", False)),
        ({"charity_number": "NIC100002"}, ("GB-NIC-100002", False)),
        ({"company_number": "01234567"}, ("GB-COH-01234567", False)),
        ({"company_number": "sc123456"}, ("GB-COH-SC123456", False)),
        ({"charity_number": "1106046", "company_number": "05268934"}, ("GB-CHC-1106046", False)),
        ({"org_identifier": "GB-EDU-123456", "charity_number": "1106046"}, ("GB-EDU-123456", False)),
        ({}, ("360G-opccwm-ORG-42", True)),
    ],
)
def test_recipient_identifiers_follow_the_org_id_scheme(numbers, expected):
    details = {"org_identifier": "", "charity_number": "", "company_number": "", **numbers}
    assert recipient_identifier(**details, prefix="360G-opccwm", internal_id=42) == expected


def test_registered_numbers_reach_the_data_and_only_unregistered_recipients_are_reported(
    seed_fund, tmp_path, capsys
):
    Organisation.objects.filter(name="Roshni").update(charity_number="1106046")
    Organisation.objects.filter(name="Panahghar").update(company_number="05268934")
    call_command("export_360giving", "moj-ecf-2020", "--format", "csv", "-o", str(tmp_path / "g.csv"))
    out = capsys.readouterr().out
    assert "13 recipient(s) have no charity or company number in the ledger" in out
    assert "Roshni" not in out and "Panahghar" not in out
    aaina = Organisation.objects.get(name="Aaina Hub")
    assert f"  360G-opccwm-ORG-{aaina.pk}  Aaina Hub\n" in out

    rows = {row["Recipient Org:Name"]: row for row in csv.DictReader((tmp_path / "g.csv").open())}
    assert rows["Roshni"]["Recipient Org:Identifier"] == "GB-CHC-1106046"
    assert rows["Roshni"]["Recipient Org:Charity Number"] == "1106046"
    assert rows["Panahghar"]["Recipient Org:Identifier"] == "GB-COH-05268934"
    assert rows["Panahghar"]["Recipient Org:Company Number"] == "05268934"
    assert rows["Aaina Hub"]["Recipient Org:Identifier"] == f"360G-opccwm-ORG-{aaina.pk}"


def test_spreadsheet_columns_are_the_standards_titles_in_the_standards_order(seed_fund, tmp_path):
    standard = (SCHEMAS / "grants-sheet-column-titles.txt").read_text().splitlines()
    ours = [title for title, _ in three_sixty_giving.COLUMNS]
    # Besides the template's titles, the schema's titles for the recipient's location and the
    # classifications, which flattentool reads (tests/grants/test_open_data.py converts them).
    templated = [title for title in ours if title not in three_sixty_giving.EXTRA_COLUMNS]
    assert set(templated) <= set(standard)
    assert templated == sorted(templated, key=standard.index)
    csv_path, _ = export(seed_fund, "csv", tmp_path)
    assert next(csv.reader(csv_path.open())) == ours
    xlsx_path, _ = export(seed_fund, "xlsx", tmp_path)
    sheet = openpyxl.load_workbook(xlsx_path)["grants"]
    assert [cell.value for cell in sheet[1]] == ours
    assert sheet["E2"].data_type == "n" and Decimal(repr(sheet["E2"].value)) == Decimal("80528.42")
    assert sheet["F2"].value == "2020-08-19"


def test_csv_amounts_are_exact_text_and_company_numbers_keep_leading_zeros(db, tmp_path):
    fund = FundFactory()
    AllocationFactory(
        fund=fund, organisation=OrganisationFactory(company_number="00012345"), amount=Decimal("43216")
    )
    path, _ = export(fund, "csv", tmp_path)
    (row,) = csv.DictReader(path.open())
    assert row["Amount Awarded"] == "43216.00"
    assert row["Recipient Org:Company Number"] == "00012345"
    assert row["Recipient Org:Identifier"] == "GB-COH-00012345"


def test_shipped_schemas_carry_their_attribution():
    notice = (SCHEMAS / "NOTICE.md").read_text()
    assert "CC BY 4.0" in notice and "360Giving" in notice
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    assert grant["$id"].endswith("/1.4.3/schema/360-giving-schema.json")


# The command line and the download -----------------------------------------------------------------


def test_export_command_writes_the_default_file_name(seed_fund, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call_command("export_360giving", "moj-ecf-2020", "--format", "json")
    expected = tmp_path / f"360Giving_moj-ecf-2020_{timezone.localdate().isoformat()}.json"
    assert len(json.loads(expected.read_text())["grants"]) == 16


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "No fund has the code 'nope'. Known codes: moj-ecf-2020."),
        (["moj-ecf-2020", "-o", "/no/such/folder/g.json"], "Cannot write /no/such/folder/g.json: "),
    ],
)
def test_export_command_exits_2_with_a_clear_message(seed_fund, arguments, message):
    with pytest.raises(CommandError) as error:
        call_command("export_360giving", *arguments)
    assert error.value.returncode == 2
    assert str(error.value).startswith(message)


def test_export_refuses_to_invent_the_offices_identifiers(seed_fund, settings, tmp_path):
    settings.LEDGER_OFFICE_ORG_ID = ""
    settings.LEDGER_360GIVING_PREFIX = ""
    with pytest.raises(CommandError) as error:
        call_command("export_360giving", "moj-ecf-2020", "-o", str(tmp_path / "g.json"))
    assert error.value.returncode == 2
    # Said for a finance officer: what to ask an administrator for, not a file in the repository.
    assert str(error.value) == (
        "360Giving files cannot be made yet: ask an administrator to set the office's 360Giving "
        "publisher prefix (360Giving issues it, like 360G-abc) and the office's org-id (its identifier "
        "from org-id.guide) in the ledger's settings (LEDGER_360GIVING_PREFIX and LEDGER_OFFICE_ORG_ID). "
        "360Giving data names the publisher by its own identifiers, and the ledger does not make them up."
    )
    assert ".env" not in str(error.value)


def test_download_needs_a_login(client, seed_fund):
    url = reverse("grants:fund_360giving", args=["moj-ecf-2020", "json"])
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("file_format", "content_type"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json"),
    ],
)
def test_fund_page_downloads_each_format(client, officer, seed_fund, file_format, content_type):
    client.force_login(officer)
    page = client.get(reverse("grants:fund_detail", args=["moj-ecf-2020"])).content.decode()
    url = reverse("grants:fund_360giving", args=["moj-ecf-2020", file_format])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, content_type)
    name = f"360Giving_moj-ecf-2020_{timezone.localdate().isoformat()}.{file_format}"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    body = b"".join(response.streaming_content)
    if file_format == "json":
        assert len(json.loads(body)["grants"]) == 16
    elif file_format == "csv":
        assert len(list(csv.reader(io.StringIO(body.decode())))) == 17


def test_unknown_format_is_not_found(client, officer, seed_fund):
    client.force_login(officer)
    assert client.get(reverse("grants:fund_360giving", args=["moj-ecf-2020", "pdf"])).status_code == 404


def test_fund_page_lists_recipients_without_registered_numbers(client, officer, seed_fund):
    Organisation.objects.filter(name="Roshni").update(charity_number="1106046")
    client.force_login(officer)
    page = client.get(reverse("grants:fund_detail", args=["moj-ecf-2020"])).content.decode()
    # Each links to the page where a finance officer adds its numbers, in the app.
    aaina = Organisation.objects.get(name="Aaina Hub")
    assert f'<li><a href="/organisations/{aaina.pk}/edit/">Aaina Hub</a></li>' in page
    assert ">Roshni</a></li>" not in page


def test_without_settings_the_download_explains_what_to_set(client, officer, seed_fund, settings):
    settings.LEDGER_OFFICE_ORG_ID = ""
    client.force_login(officer)
    response = client.get(reverse("grants:fund_360giving", args=["moj-ecf-2020", "json"]), follow=True)
    assert response.redirect_chain == [(reverse("grants:fund_detail", args=["moj-ecf-2020"]), 302)]
    page = response.content.decode()
    # The message names only what is missing, as what to ask an administrator for.
    assert (
        "360Giving files cannot be made yet: ask an administrator to set the office&#x27;s org-id "
        "(its identifier from org-id.guide) in the ledger&#x27;s settings (LEDGER_OFFICE_ORG_ID)."
    ) in page
    assert "To publish them, ask an administrator to set the office's" in page
    assert ".env.example" not in page


def test_beneficiary_location_is_published_when_set(seed_fund, tmp_path, settings):
    settings.LEDGER_BENEFICIARY_LOCATION_NAME = "West Midlands"
    settings.LEDGER_BENEFICIARY_LOCATION_CODE = "E23000014"
    settings.LEDGER_BENEFICIARY_LOCATION_CODE_TYPE = "PFA"
    json_path, _ = export(seed_fund, "json", tmp_path)
    package = json.loads(json_path.read_text())
    assert list(standard_validator().iter_errors(package)) == []
    assert package["grants"][0]["beneficiaryLocation"] == [
        {"name": "West Midlands", "countryCode": "GB", "geoCode": "E23000014", "geoCodeType": "PFA"}
    ]
    csv_path, _ = export(seed_fund, "csv", tmp_path)
    row = next(csv.DictReader(csv_path.open()))
    assert (row["Beneficiary Location:Name"], row["Beneficiary Location:Geographic Code Type"]) == (
        "West Midlands",
        "PFA",
    )


def test_without_a_beneficiary_location_none_is_published(seed_fund, tmp_path):
    json_path, _ = export(seed_fund, "json", tmp_path)
    assert "beneficiaryLocation" not in json.loads(json_path.read_text())["grants"][0]


def test_a_prefix_that_is_not_a_360giving_prefix_is_refused(seed_fund, settings, tmp_path):
    settings.LEDGER_360GIVING_PREFIX = "opccwm"
    with pytest.raises(CommandError) as error:
        call_command("export_360giving", "moj-ecf-2020", "-o", str(tmp_path / "g.json"))
    assert str(error.value) == (
        "360Giving files cannot be made yet: the office's 360Giving publisher prefix is set to 'opccwm', "
        "but a prefix looks like 360G-abc, as 360Giving issued it. Ask an administrator to correct "
        "LEDGER_360GIVING_PREFIX in the ledger's settings."
    )


def test_spreadsheet_times_are_iso_text_with_their_offset_so_no_tool_guesses_the_zone(db, tmp_path):
    import datetime

    from grants.models import LedgerEntry

    fund = FundFactory()
    line = AllocationFactory(fund=fund)
    # A change recorded at 09:30 UTC on a summer's day, 10:30 in London: the line's last change.
    summer = datetime.datetime(2099, 7, 1, 9, 30, tzinfo=datetime.UTC)
    LedgerEntry.objects.create(
        fund=fund,
        allocation=line,
        kind="variation",
        amount=Decimal("1.00"),
        effective_date=datetime.date(2099, 7, 1),
        memo="Summer change",
        recorded_at=summer,
        approved_at=summer,  # approved as it was recorded, so it is in the published amount
        approved_by=UserFactory(username="summer-approver"),
    )
    path, result = export(fund, "xlsx", tmp_path)
    assert result.grants[0].last_modified.utcoffset() == datetime.timedelta(hours=1)
    sheet = openpyxl.load_workbook(path)["grants"]
    column = [cell.value for cell in sheet[1]].index("Last Modified")
    # Text, as the standard's template holds dates: a date cell would reach flattentool as a timestamp
    # with no zone.
    assert sheet.cell(2, column + 1).value == "2099-07-01T10:30:00+01:00"
    assert datetime.datetime.fromisoformat(sheet.cell(2, column + 1).value) == summer


def test_the_xlsx_download_holds_the_grants(client, officer, seed_fund):
    client.force_login(officer)
    response = client.get(reverse("grants:fund_360giving", args=["moj-ecf-2020", "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["grants"]
    assert sheet.max_row == 17
    assert sheet["A2"].value == "360G-opccwm-moj-ecf-2020-1"


def test_a_fund_without_lines_explains_instead_of_failing(client, officer, db):
    fund = FundFactory(code="empty-fund")
    client.force_login(officer)
    page = client.get(reverse("grants:fund_detail", args=["empty-fund"])).content.decode()
    assert "Once the fund has allocations they can be published" in page
    response = client.get(reverse("grants:fund_360giving", args=[fund.code, "json"]), follow=True)
    assert response.redirect_chain == [(reverse("grants:fund_detail", args=["empty-fund"]), 302)]
    assert "grants: [] should be non-empty" in response.content.decode()


def test_export_takes_the_same_number_of_queries_whatever_the_fund_size(
    db, tmp_path, django_assert_max_num_queries
):
    counts = []
    for size in (2, 20):
        fund = FundFactory()
        for n in range(1, size + 1):
            AllocationFactory(fund=fund, line_number=n)
        with django_assert_max_num_queries(5) as captured:
            write_three_sixty_giving(fund, "json", tmp_path / f"{size}.json")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company_number", "1234567", "A company number has 8 characters as Companies House writes it"),
        ("charity_number", "NI100002", "A charity number is the main number of 6 or 7 digits"),
        # Forms 360Giving's Data Quality Tool flags in the charity number column.
        ("charity_number", "11060461", "A charity number is the main number of 6 or 7 digits"),
        ("charity_number", "1106046-1", "A charity number is the main number of 6 or 7 digits"),
        ("charity_number", "NIC100002", "A charity number is the main number of 6 or 7 digits"),
        ("charity_subsidiary_number", "123", "A subsidiary number is the 1 or 2 digits"),
        ("ni_charity_number", "100002", "A Northern Irish charity number is NIC and 6 digits"),
        ("postcode", "SW1A1AA", "A postcode is written like SW1A 1AA"),
        ("postcode", "12345", "A postcode is written like SW1A 1AA"),
        ("location_code", "Hartlepool", "A location code is an ONS GSS code"),
        ("org_identifier", "gb-chc-123", "An organisation identifier is a list code and an id"),
    ],
)
def test_badly_formed_registered_numbers_are_refused(db, field, value, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        Organisation(name="Provider", **{field: value}).full_clean()
    assert error.value.message_dict[field][0].startswith(message)
