"""The seed fixture holds paragraph 27's table exactly as printed."""

from decimal import Decimal

from grants import money
from grants.models import Allocation, Fund, LedgerEntry, Organisation
from grants.reconciliation import reconcile

# (No., organisation cell as printed, thematic area, amount, funding category) from the source.
PRINTED_TABLE = [
    (1, "Black Country Women's Aid (BCWA) Sexual Violence Service", "Sexual Violence", "80528.42", "Sexual Violence"),
    (2, "The Rape and Sexual Violence Project (RSVP)", "Sexual Violence", "130005.67", "Sexual Violence"),
    (3, "Coventry Rape and Sexual Abuse Centre (CRASAC)", "Sexual Violence", "35577.10", "Sexual Violence"),
    (4, "Black Country Women's Aid (BCWA) Domestic Abuse Service", "Domestic Abuse", "114818.97", "DA PCC commissioned"),
    (5, "Birmingham & Solihull Women's Aid (BSWA)", "Domestic Abuse", "126003.77", "DA PCC commissioned"),
    (6, "Coventry Haven", "Domestic Abuse", "43216.00", "DA PCC commissioned"),
    (7, "Wolverhampton Haven", "Domestic Abuse", "73930.00", "DA PCC commissioned"),
    (8, "Wolverhampton Domestic Violence Forum", "Domestic Abuse", "1265.00", "DA PCC commissioned"),
    (9, "Sikh Women's Action Network (SWAN)", "Domestic Abuse", "9758.60", "DA PCC commissioned"),
    (10, "Roshni", "Domestic Abuse", "22538.09", "DA PCC commissioned"),
    (11, "Panahghar", "Domestic Abuse", "19326.00", "DA PCC commissioned"),
    (12, "Forced Marriage Helpine (Forced Marriage consortia)", "Domestic Abuse", "14494.20", "DA PCC commissioned"),
    (13, "Aaina Hub", "Domestic Abuse", "9880.00", "DA PCC non-commissioned"),
    (14, "Churches Housing Association OF Dudley & District (CHADD)", "Domestic Abuse", "34350.00", "DA PCC non-commissioned"),
    (15, "Muslim Women's Network UK (MWNUK)", "Domestic Abuse", "4900.00", "DA PCC non-commissioned"),
    (16, "WE:ARE (Women's Empowement and Recovery Educators Ltd)", "Domestic Abuse", "18219.00", "DA PCC non-commissioned"),
]  # fmt: skip


def test_fixture_holds_the_fund_as_stated_in_the_report(seed_fund):
    fund = Fund.objects.select_related("funder").get(code="moj-ecf-2020")
    assert fund.name == "Extraordinary Covid Fund for domestic abuse and sexual violence services"
    assert (fund.funder.name, fund.funder.short_name) == ("Ministry of Justice", "MoJ")
    assert fund.funder.org_identifier == "GB-GOR-D18"
    assert (fund.spend_start.isoformat(), fund.spend_end.isoformat()) == ("2020-03-23", "2020-10-31")
    assert fund.control_total.amount == Decimal("738810.53")
    assert str(fund.control_total.currency) == "GBP"


def test_fixture_holds_the_sixteen_lines_as_printed_in_table_order(seed_fund):
    lines = (
        Allocation.objects.for_fund(seed_fund)
        .with_awarded()
        .select_related("thematic_area", "funding_category")
        .order_by("line_number")
    )
    assert [
        (
            line.line_number,
            line.source_text,
            line.thematic_area.name,
            money.as_string(money.from_aggregate(line.awarded)),
            line.funding_category.name,
        )
        for line in lines
    ] == PRINTED_TABLE


def test_each_line_is_one_award_entry_of_the_printed_amount(seed_fund):
    entries = LedgerEntry.objects.filter(allocation__fund=seed_fund).order_by("allocation__line_number")
    assert [(entry.kind, str(entry.amount.amount)) for entry in entries] == [
        ("award", amount) for _, _, _, amount, _ in PRINTED_TABLE
    ]
    assert {str(entry.amount.currency) for entry in entries} == {"GBP"}


def test_black_country_womens_aid_is_one_organisation_holding_two_lines(seed_fund):
    bcwa = Organisation.objects.get(name="Black Country Women's Aid")
    assert bcwa.short_name == "BCWA"
    assert list(bcwa.allocations.order_by("line_number").values_list("line_number", "service")) == [
        (1, "Sexual Violence Service"),
        (4, "Domestic Abuse Service"),
    ]
    assert Organisation.objects.count() == 15


def test_names_are_kept_as_printed_including_their_typos(seed_fund):
    names = set(Organisation.objects.values_list("name", flat=True))
    assert "Forced Marriage Helpine (Forced Marriage consortia)" in names
    assert "Women's Empowement and Recovery Educators Ltd" in names
    assert "Churches Housing Association OF Dudley & District" in names
    assert Organisation.objects.get(short_name="WE:ARE").name == (
        "Women's Empowement and Recovery Educators Ltd"
    )


def test_category_and_thematic_subtotals_of_the_seed_table(seed_fund):
    result = reconcile(seed_fund)
    assert [(row.name, str(row.amount.amount), row.line_count) for row in result.by_category] == [
        ("Sexual Violence", "246111.19", 3),
        ("DA PCC commissioned", "425350.63", 9),
        ("DA PCC non-commissioned", "67349.00", 4),
    ]
    assert [(row.name, str(row.amount.amount), row.line_count) for row in result.by_thematic_area] == [
        ("Sexual Violence", "246111.19", 3),
        ("Domestic Abuse", "492699.63", 13),
    ]


def test_loading_the_unchanged_fixture_again_changes_nothing(seed_fund):
    from django.core.management import call_command

    before = list(LedgerEntry.objects.order_by("pk").values_list("pk", "uuid", "amount", "recorded_at"))
    call_command("loaddata", "moj_extraordinary_covid_fund_2020", verbosity=0)
    after = list(LedgerEntry.objects.order_by("pk").values_list("pk", "uuid", "amount", "recorded_at"))
    assert after == before
    assert Allocation.objects.count() == 16
