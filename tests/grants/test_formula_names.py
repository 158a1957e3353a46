"""Exports never carry a formula: names and services cannot begin with =, +, -, @, a tab or a carriage
return, refused at every way in (forms, admin, imports, the ORM, raw SQL) and by the database."""

import csv
import datetime
import importlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from grants.exports import three_sixty_giving
from grants.exports.downloads import spreadsheet_safe
from grants.exports.files import InvalidOpenData, build_three_sixty_giving_into
from grants.models import (
    FORMULA_STARTS,
    Allocation,
    Fund,
    Funder,
    FundingCategory,
    LineChange,
    Organisation,
    ThematicArea,
    not_a_formula,
)
from tests.factories import (
    AllocationFactory,
    FunderFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
)
from tests.grants.test_import_bad_input import line, refused
from tests.grants.workbooks import HEADER, table

BAD = ['=HYPERLINK("http://evil","x")', "+1", "-Foo", "@SUM(A1)", "\tTabbed", "\rReturned"]
FINE = ["Foo-Bar", "Roshni", "A = B", "1st Provider", "(Brackets) Ltd", "Women's Aid"]
MESSAGE = "cannot begin with =, +, -, @, a tab or a carriage return"

# Every column the rule covers: (model, field, a factory for a valid row).
COLUMNS = [
    (Organisation, "name"),
    (Funder, "name"),
    (Fund, "name"),
    (ThematicArea, "name"),
    (FundingCategory, "name"),
    (Allocation, "service"),
    (LineChange, "service"),
    (LineChange, "was_service"),
]


def test_the_rule_covers_every_start_a_spreadsheet_reads_as_a_formula():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}
    for text in BAD:
        with pytest.raises(ValidationError, match=re.escape(MESSAGE)):
            not_a_formula(text)
    for text in [*FINE, ""]:
        not_a_formula(text)


@pytest.mark.parametrize(("model", "field"), COLUMNS, ids=[f"{m.__name__}.{f}" for m, f in COLUMNS])
def test_each_column_validates_and_has_a_check_constraint(model, field):
    assert not_a_formula in model._meta.get_field(field).validators
    names = {constraint.name for constraint in model._meta.constraints}
    assert any(name.endswith(f"{field}_does_not_begin_like_a_formula") for name in names)


# The ORM and raw SQL


def a_row_of(model):
    if model is Organisation:
        return OrganisationFactory()
    if model is Funder:
        return FunderFactory()
    if model is Fund:
        return FundFactory()
    if model is ThematicArea:
        return ThematicAreaFactory()
    if model is FundingCategory:
        return FundingCategoryFactory()
    return AllocationFactory(approved=False)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("model", "field"), COLUMNS[:6], ids=[f"{m.__name__}.{f}" for m, f in COLUMNS[:6]])
def test_full_clean_refuses_and_the_database_refuses_a_raw_update(db, model, field, bad):
    row = a_row_of(model)
    setattr(row, field, bad)
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert MESSAGE in str(caught.value.message_dict[field])
    table = model._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {field} = %s WHERE id = %s", [bad, row.pk])
    row.refresh_from_db()
    assert getattr(row, field) != bad


def test_an_orm_create_is_refused_by_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="=cmd|' /C calc'!A0")
    with pytest.raises(IntegrityError), transaction.atomic():
        ThematicArea.objects.create(code="evil", name="@SUM(1+1)")
    assert not Organisation.objects.filter(name__startswith="=").exists()
    # A positive control: the same row with a plain name is accepted.
    Organisation.objects.create(name="cmd Ltd")


def test_a_proposed_change_cannot_carry_a_formula_service_at_the_database(db, django_user_model):
    line = AllocationFactory(service="Counselling")
    proposer = django_user_model.objects.create(username="proposer")
    fields = {
        "allocation": line,
        "fund": line.fund,
        "organisation": line.organisation,
        "thematic_area": line.thematic_area,
        "funding_category": line.funding_category,
        "was_organisation": line.organisation,
        "was_thematic_area": line.thematic_area,
        "was_funding_category": line.funding_category,
        "reason": "Letter of 3 May",
        "proposed_by": proposer,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        LineChange.objects.create(service="=1+1", was_service="Counselling", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        LineChange.objects.create(service="Counselling 2", was_service="-x", **fields)
    LineChange.objects.create(service="Counselling 2", was_service="Counselling", **fields)


# Web forms


@pytest.fixture
def signed_in(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_organisation_form_refuses_a_formula_name_beside_the_field(signed_in, db):
    response = signed_in.post(reverse("grants:organisation_add"), {"name": "-Foo"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["name"]
    assert MESSAGE in response.context["form"].errors["name"][0]
    assert not Organisation.objects.filter(name="-Foo").exists()


def test_the_new_line_form_refuses_a_formula_service(signed_in, db):
    fund = FundFactory()
    data = {
        "line_number": 1,
        "organisation": OrganisationFactory().pk,
        "service": "=HYPERLINK(1)",
        "thematic_area": ThematicAreaFactory().pk,
        "funding_category": FundingCategoryFactory().pk,
        "amount": "100.00",
        "effective_date": "2020-08-19",
        "memo": "Award letter",
    }
    response = signed_in.post(reverse("grants:allocation_add", args=[fund.code]), data)
    assert response.status_code == 200
    assert MESSAGE in response.context["form"].errors["service"][0]
    assert not Allocation.objects.filter(fund=fund).exists()


@pytest.mark.parametrize("approved", [False, True], ids=["corrected-directly", "proposed"])
def test_the_line_edit_form_refuses_a_formula_service(signed_in, db, approved):
    allocation = AllocationFactory(service="Counselling", approved=approved)
    data = {
        "organisation": allocation.organisation_id,
        "service": "@SUM(A1:A9)",
        "thematic_area": allocation.thematic_area_id,
        "funding_category": allocation.funding_category_id,
        "notes": "",
        "version": allocation.version,
        "reason": "Provider's letter",
    }
    response = signed_in.post(reverse("grants:allocation_edit", args=[allocation.pk]), data)
    assert response.status_code == 200
    assert MESSAGE in response.context["form"].errors["service"][0]
    allocation.refresh_from_db()
    assert allocation.service == "Counselling"
    assert not LineChange.objects.exists()


# The admin


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("admin:grants_organisation_add", {"name": "=1+1"}),
        ("admin:grants_funder_add", {"code": "evil", "name": "+44 Funder"}),
        ("admin:grants_thematicarea_add", {"code": "evil", "name": "-Evil", "sort_order": 0}),
        ("admin:grants_fundingcategory_add", {"code": "evil", "name": "@Evil", "sort_order": 0}),
    ],
)
def test_the_admin_refuses_a_formula_name(signed_in, db, url, data):
    model = {
        "admin:grants_organisation_add": Organisation,
        "admin:grants_funder_add": Funder,
        "admin:grants_thematicarea_add": ThematicArea,
        "admin:grants_fundingcategory_add": FundingCategory,
    }[url]
    before = model.objects.count()
    response = signed_in.post(reverse(url), data)
    assert response.status_code == 200
    assert MESSAGE in str(response.context["adminform"].form.errors["name"])
    assert model.objects.count() == before


def test_the_admin_refuses_renaming_an_organisation_to_a_formula(signed_in, db):
    organisation = OrganisationFactory(name="Roshni")
    response = signed_in.post(
        reverse("admin:grants_organisation_change", args=[organisation.pk]), {"name": "\t=Roshni"}
    )
    # The admin strips the tab; what is left begins with "=".
    assert response.status_code == 200
    assert MESSAGE in str(response.context["adminform"].form.errors["name"])
    organisation.refresh_from_db()
    assert organisation.name == "Roshni"


# Imports


def text_table(*rows, header=HEADER) -> bytes:
    """A table whose cells are all stored as text, so "=..." is a string, not a formula: what a
    sheet typed with a leading apostrophe, or written by a program, holds."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (header, *rows):
        sheet.append(list(row))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_an_import_with_a_formula_stored_as_text_is_refused(seed_fund):
    [problem] = refused(seed_fund, text_table(line(organisation='=HYPERLINK("http://evil","x")')))
    assert (problem.row, problem.column) == (2, "B (Organisation)")
    assert problem.message.startswith("'=HYPERLINK(\"http://evil\",\"x\")' begins with '='")


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"organisation": "@HYPERLINK"}, "B (Organisation)"),
        ({"organisation": "-Foo"}, "B (Organisation)"),
        ({"theme": "@Domestic Abuse"}, "C (Thematic area)"),
        ({"category": "+DA PCC commissioned"}, "E (Funding category)"),
    ],
)
def test_an_import_with_a_formula_name_is_refused_with_row_field_and_problem(seed_fund, cells, column):
    [problem] = refused(seed_fund, table(line(**cells)))
    assert (problem.row, problem.column) == (2, column)
    assert "names and services cannot begin with =, +, -, @, a tab or a carriage return" in problem.message
    assert problem.message.endswith("(nothing has been imported).")


def test_an_import_refuses_a_formula_service(seed_fund):
    header = ("No.", "Organisation", "Service", "Thematic area", "Amount", "Funding category")
    row = (17, "New Provider", "=1+1", "Domestic Abuse", Decimal("250.00"), "DA PCC commissioned")
    [problem] = refused(seed_fund, text_table(row, header=header))
    assert (problem.row, problem.column) == (2, "C (Service)")
    assert "'=1+1' begins with '='" in problem.message


def test_a_negative_amount_is_not_a_name(seed_fund):
    # "-5" in the amount column is refused as an amount, not as a formula-like name.
    [problem] = refused(seed_fund, table(line(amount=Decimal("-5.00"))))
    assert "negative" in problem.message
    assert "formula" not in problem.message


# Exports


def test_the_allocations_csv_still_neutralises_a_formula_start():
    for text in BAD:
        assert spreadsheet_safe(text) == f"'{text}"
    for text in FINE:
        assert spreadsheet_safe(text) == text


def grant(**changes) -> three_sixty_giving.Grant:
    recipient = three_sixty_giving.Recipient("GB-CHC-1", "Roshni", "1", "", False)
    fields = {
        "identifier": "360G-test-1",
        "title": "Fund: Roshni",
        "description": "A grant",
        "amount_awarded": Decimal("100.00"),
        "award_date": datetime.date(2020, 8, 19),
        "planned_start": datetime.date(2020, 8, 1),
        "planned_end": datetime.date(2021, 3, 31),
        "recipient": recipient,
        "funder_identifier": "GB-GOR-D18",
        "funder_name": "Ministry of Justice",
        "programme_code": "moj-ecf-2020",
        "programme_title": "Extraordinary Covid Fund",
        "last_modified": datetime.datetime(2020, 8, 19, 12, tzinfo=datetime.UTC),
    }
    fields.update(changes)
    return three_sixty_giving.Grant(**fields)


def test_the_360giving_csv_writes_names_exactly():
    stream = io.StringIO()
    three_sixty_giving.write_csv([grant(title="Fund: A = B")], stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows[1][1] == "Fund: A = B"


@pytest.mark.parametrize("bad", BAD)
def test_the_360giving_csv_refuses_rather_than_write_a_formula(bad):
    recipient = three_sixty_giving.Recipient("GB-CHC-1", bad, "1", "", False)
    with pytest.raises(three_sixty_giving.FormulaInCell, match="Recipient Org:Name"):
        three_sixty_giving.write_csv([grant(recipient=recipient)], io.StringIO())
    with pytest.raises(three_sixty_giving.FormulaInCell, match="Funding Org:Name"):
        three_sixty_giving.write_csv([grant(funder_name=bad)], io.StringIO())


def test_a_360giving_csv_download_with_a_formula_is_refused_in_words(seed_fund, monkeypatch, settings):
    settings.LEDGER_OFFICE_ORG_ID = "GB-GOR-PC39"
    settings.LEDGER_360GIVING_PREFIX = "360G-opccwm"
    real = three_sixty_giving.write_csv

    def with_a_formula(grants, stream):
        # A row written around the rule (before it, or by hand with the constraint dropped).
        return real([grant(funder_name="=evil()")], stream)

    monkeypatch.setattr(three_sixty_giving, "write_csv", with_a_formula)
    with pytest.raises(InvalidOpenData, match="begins like a spreadsheet formula"):
        build_three_sixty_giving_into(seed_fund, "csv", io.BytesIO())


# The data we ship


def test_the_fixtures_hold_no_formula_like_name():
    names = []
    for path in Path(settings.BASE_DIR, "fixtures").glob("*.json"):
        for row in json.loads(path.read_text()):
            fields = row.get("fields", {})
            names += [fields[key] for key in ("name", "service", "was_service") if key in fields]
    assert len(names) > 20
    assert [name for name in names if name.startswith(FORMULA_STARTS)] == []


def test_the_migration_refuses_to_run_over_formula_like_names_and_lists_them(db, monkeypatch):
    migration = importlib.import_module("grants.migrations.0018_export_safe_names_audit_who")
    OrganisationFactory(name="Acme Ltd")
    migration.refuse_formula_like_names(global_apps, None)  # nothing begins like a formula
    # Stand in "A" for a formula start, since the database no longer takes a real one.
    monkeypatch.setattr(migration, "FORMULA_STARTS", ("A",))
    with pytest.raises(RuntimeError) as caught:
        migration.refuse_formula_like_names(global_apps, None)
    acme = Organisation.objects.get(name="Acme Ltd")
    assert str(caught.value).endswith(f"organisation {acme.pk}, name: 'Acme Ltd'")
