"""The finance officers' pages: dashboard, tables, filters, CSV, organisation pages and entry forms."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test.html import parse_html
from django.urls import reverse

from grants import services
from grants.models import Allocation, FundingCategory, LedgerEntry, Organisation, ThematicArea
from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    UserFactory,
    approve_pending,
    write_around_the_formula_rule,
)
from tests.grants.test_tables import body_rows, elements, text, the

FUND = reverse("grants:fund_detail", args=["moj-ecf-2020"])


@pytest.fixture
def signed_in(client, staff_user):
    client.force_login(staff_user)
    return client


def page_text(response) -> str:
    return response.content.decode()


def table_rows(response) -> list[str]:
    """The body rows of the page's allocation table, as their text (parsed HTML)."""
    return [text(row) for row in body_rows(parse_html(page_text(response)))]


def footer_total(response) -> str:
    """The last amount in the allocation table's footer: the total of every line the filter selects."""
    table = the(parse_html(page_text(response)), "table", **{"class": "allocations"})
    return [text(cell) for cell in elements(the(table, "tfoot"), "td") if text(cell).startswith("£")][-1]


@pytest.mark.parametrize(
    "url",
    [
        reverse("grants:dashboard"),
        reverse("grants:fund_list"),
        FUND,
        reverse("grants:allocation_list"),
        reverse("grants:organisation_list"),
        reverse("grants:organisation_add"),
        reverse("grants:allocation_add", args=["moj-ecf-2020"]),
        reverse("password_change"),
    ],
)
def test_every_page_needs_a_login(client, seed_fund, url):
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}")


def test_dashboard_shows_each_fund_its_reconciliation_and_the_category_chart(signed_in, seed_fund):
    page = page_text(signed_in.get(reverse("grants:dashboard")))
    for shown in ["£738,810.53", "£738,810.82", "£0.29", "badge-over-allocated", "Across all funds"]:
        assert shown in page
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page
    assert "DA PCC commissioned: £425,350.63" in page  # the chart's text alternative
    assert '<th scope="row">Total</th><td></td><td class="num">£738,810.82</td>' in page


def test_dashboard_totals_follow_the_chosen_funds(signed_in, seed_fund):
    other = FundFactory(code="other-fund")
    AllocationFactory(
        fund=other, funding_category=FundingCategory.objects.get(code="sexual-violence"), amount="5.00"
    )
    everything = page_text(signed_in.get(reverse("grants:dashboard")))
    assert "£246,116.19" in everything  # Sexual Violence across both funds
    chosen = page_text(signed_in.get(reverse("grants:dashboard"), {"fund": "other-fund"}))
    assert "For 1 selected fund" in chosen
    assert '<th scope="row">Total</th><td></td><td class="num">£5.00</td>' in chosen


def test_fund_page_filters_to_a_category_with_its_database_total(signed_in, seed_fund):
    response = signed_in.get(FUND, {"funding_category": "da-pcc-non-commissioned"})
    rows = table_rows(response)
    assert len(rows) == 4
    assert rows[0].startswith("13 Aaina Hub")
    assert footer_total(response) == "£67,349.00"


def test_fund_page_filters_by_amount_range_and_text(signed_in, seed_fund):
    by_amount = signed_in.get(FUND, {"amount_min": "100000", "amount_max": "130000"})
    assert [row.split()[0] for row in table_rows(by_amount)] == ["4", "5"]
    assert footer_total(by_amount) == "£240,822.74"
    by_text = signed_in.get(FUND, {"q": "bcwa"})
    assert [row.split()[0] for row in table_rows(by_text)] == ["1", "4"]
    bcwa = Organisation.objects.get(short_name="BCWA")
    by_organisation = signed_in.get(FUND, {"organisation": bcwa.pk})
    assert footer_total(by_organisation) == "£195,347.39"


def test_fund_page_sorts_by_amount(signed_in, seed_fund):
    descending = table_rows(signed_in.get(FUND, {"sort": "-awarded"}))
    assert "£130,005.67" in descending[0] and "£1,265.00" in descending[-1]
    ascending = table_rows(signed_in.get(FUND, {"sort": "awarded"}))
    assert "£1,265.00" in ascending[0]


def test_fund_page_paginates_and_totals_every_filtered_line(signed_in, db):
    fund = FundFactory()
    for n in range(1, 61):
        AllocationFactory(fund=fund, line_number=n, amount="1.00")
    response = signed_in.get(reverse("grants:fund_detail", args=[fund.code]))
    assert len(table_rows(response)) == 50
    assert "Page 1 of 2 (60 lines)." in page_text(response)
    assert footer_total(response) == "£60.00"


def test_csv_export_holds_the_filtered_lines_as_exact_amounts(signed_in, seed_fund):
    response = signed_in.get(FUND, {"funding_category": "da-pcc-non-commissioned", "export": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # The file name says what was filtered (the unfiltered download is allocations_moj-ecf-2020.csv).
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="allocations_moj-ecf-2020_category-da-pcc-non-commissioned.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Fund",
        "No.",
        "Organisation",
        "Service",
        "Thematic area",
        "Funding category",
        "Amount (GBP)",
        "Awaiting approval (GBP)",
        "Paid (approved) (GBP)",
        "Still to pay (GBP)",
    ]
    assert [row[6] for row in rows[1:]] == ["9880.00", "34350.00", "4900.00", "18219.00"]


def test_csv_export_neutralises_a_formula_like_name_written_around_the_rule(signed_in, db):
    # Names cannot begin like a formula any more (tests/grants/test_formula_names.py); a row from
    # before the rule, or written around it, still reaches Excel as text.
    fund = FundFactory()
    line = AllocationFactory(fund=fund, service="Counselling")
    write_around_the_formula_rule(Allocation, "service", line.pk, "+1")
    response = signed_in.get(reverse("grants:fund_detail", args=[fund.code]), {"export": "csv"})
    (row,) = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]
    assert row[3] == "'+1"


def test_all_funds_page_filters_by_fund(signed_in, seed_fund):
    AllocationFactory(fund=FundFactory(code="other-fund"), amount="5.00")
    everything = signed_in.get(reverse("grants:allocation_list"))
    assert footer_total(everything) == "£738,815.82"
    one = signed_in.get(reverse("grants:allocation_list"), {"fund": "other-fund"})
    assert len(table_rows(one)) == 1 and footer_total(one) == "£5.00"


def test_organisation_page_lists_its_lines_across_funds_with_totals(signed_in, seed_fund):
    bcwa = Organisation.objects.get(short_name="BCWA")
    AllocationFactory(fund=FundFactory(code="other-fund"), organisation=bcwa, amount="10.00")
    response = signed_in.get(reverse("grants:organisation_detail", args=[bcwa.pk]))
    page = page_text(response)
    assert "Black Country Women&#x27;s Aid (BCWA)" in page
    assert "£195,357.39 (3 lines)" in page
    assert len(table_rows(response)) == 3
    listed = signed_in.get(reverse("grants:organisation_list")).context["organisations"].get(pk=bcwa.pk)
    assert (listed.line_count, listed.awarded) == (3, Decimal("195357.39"))


# Entry ---------------------------------------------------------------------------------------------


def add_form(seed_fund, **changes):
    data = {
        "line_number": "17",
        "organisation": Organisation.objects.get(name="Roshni").pk,
        "service": "Outreach",
        "thematic_area": ThematicArea.objects.get(code="domestic-abuse").pk,
        "funding_category": FundingCategory.objects.get(code="da-pcc-commissioned").pk,
        "amount": "100.00",
        "effective_date": "2020-09-01",
        "memo": "Top-up letter 1 September 2020",
    }
    return {**data, **changes}


def test_adding_an_allocation_records_its_award_and_returns_to_the_fund(signed_in, staff_user, seed_fund):
    form_page = page_text(signed_in.get(reverse("grants:allocation_add", args=["moj-ecf-2020"])))
    assert 'name="line_number" value="17"' in form_page  # the next free number
    response = signed_in.post(
        reverse("grants:allocation_add", args=["moj-ecf-2020"]), add_form(seed_fund), follow=True
    )
    assert response.redirect_chain == [(FUND, 302)]
    page = page_text(response)
    assert "Line 17 added: Roshni £100.00, awaiting approval." in page
    # The award waits for approval: the line is listed with nothing approved and £100.00 awaiting
    # approval, and the fund's approved total is as it was.
    assert "The allocations come to £0.29 more than the control total." in page
    assert table_rows(response)[-1].startswith(
        "17 Roshni Outreach Domestic Abuse DA PCC commissioned £0.00 £100.00 "
    )
    entry = LedgerEntry.objects.get(allocation__line_number=17)
    assert (entry.kind, str(entry.amount.amount), entry.recorded_by, entry.approved_at) == (
        "award",
        "100.00",
        staff_user,
        None,
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "12.345"}, "amount", "Ensure that there are no more than 2 decimal places."),
        ({"amount": "0"}, "amount", "Ensure this value is greater than or equal to 0.01."),
        ({"amount": "lots"}, "amount", "Enter a number."),
        ({"line_number": "4"}, "line_number", "Line 4 is already taken in this fund."),
        ({"memo": ""}, "memo", "This field is required."),
    ],
)
def test_bad_allocation_input_is_shown_beside_its_field_and_saves_nothing(
    signed_in, seed_fund, changes, field, message
):
    response = signed_in.post(
        reverse("grants:allocation_add", args=["moj-ecf-2020"]), add_form(seed_fund, **changes)
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert message in page_text(response)
    assert Allocation.objects.filter(fund=seed_fund).count() == 16


def test_a_line_typed_twice_is_refused_in_words(signed_in, seed_fund):
    bcwa = Organisation.objects.get(short_name="BCWA")
    data = add_form(seed_fund, organisation=bcwa.pk, service="Domestic Abuse Service")
    response = signed_in.post(reverse("grants:allocation_add", args=["moj-ecf-2020"]), data)
    assert response.context["form"].non_field_errors() == [
        "This fund already has a line for that organisation and service in that thematic area and "
        "funding category."
    ]
    assert Allocation.objects.filter(fund=seed_fund, organisation=bcwa).count() == 2


def test_the_same_organisation_and_service_in_another_funding_category_is_added(signed_in, seed_fund):
    bcwa = Organisation.objects.get(short_name="BCWA")
    other_category = FundingCategory.objects.get(code="da-pcc-non-commissioned")
    data = add_form(
        seed_fund, organisation=bcwa.pk, service="Domestic Abuse Service", funding_category=other_category.pk
    )
    response = signed_in.post(reverse("grants:allocation_add", args=["moj-ecf-2020"]), data)
    assert response.status_code == 302
    assert list(
        Allocation.objects.filter(fund=seed_fund, organisation=bcwa, service="Domestic Abuse Service")
        .order_by("line_number")
        .values_list("line_number", "funding_category__code")
    ) == [(4, "da-pcc-commissioned"), (17, "da-pcc-non-commissioned")]


def edit_form(line, **changes):
    data = {
        "organisation": line.organisation_id,
        "service": line.service,
        "thematic_area": line.thematic_area_id,
        "funding_category": line.funding_category_id,
        "notes": line.notes,
        "version": line.version,
        "reason": "Provider's letter of 3 May",
    }
    return {**data, **changes}


@pytest.mark.parametrize("approved", [False, True], ids=["corrected-directly", "proposed"])
def test_the_edit_form_refuses_to_make_a_line_a_copy_of_another(signed_in, seed_fund, approved):
    bcwa = Organisation.objects.get(short_name="BCWA")
    non_commissioned = FundingCategory.objects.get(code="da-pcc-non-commissioned")
    line = AllocationFactory(
        fund=seed_fund,
        line_number=17,
        organisation=bcwa,
        service="Domestic Abuse Service",
        thematic_area=ThematicArea.objects.get(code="domestic-abuse"),
        funding_category=non_commissioned,
        approved=approved,
    )
    commissioned = FundingCategory.objects.get(code="da-pcc-commissioned")

    response = signed_in.post(
        reverse("grants:allocation_edit", args=[line.pk]), edit_form(line, funding_category=commissioned.pk)
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This fund already has a line for that organisation and service in that thematic area and "
        "funding category."
    ]
    line.refresh_from_db()
    assert (line.funding_category, line.changes.count()) == (non_commissioned, 0)


def test_the_edit_form_moves_a_line_to_a_category_the_organisation_holds_no_line_in(signed_in, seed_fund):
    bcwa_domestic_abuse = Allocation.objects.get(fund=seed_fund, line_number=4)
    non_commissioned = FundingCategory.objects.get(code="da-pcc-non-commissioned")
    url = reverse("grants:allocation_edit", args=[bcwa_domestic_abuse.pk])

    response = signed_in.post(url, edit_form(bcwa_domestic_abuse, funding_category=non_commissioned.pk))

    assert response.status_code == 302
    # Line 4 has approved money: the move awaits someone else's approval, the line as it was till then.
    (change,) = bcwa_domestic_abuse.changes.all()
    assert (change.was_funding_category.code, change.funding_category) == (
        "da-pcc-commissioned",
        non_commissioned,
    )


def test_a_user_without_permission_cannot_add_or_change(client, seed_fund):
    client.force_login(UserFactory(username="viewer"))
    line = Allocation.objects.get(fund=seed_fund, line_number=1)
    assert client.get(reverse("grants:allocation_add", args=["moj-ecf-2020"])).status_code == 403
    assert client.get(reverse("grants:allocation_change_amount", args=[line.pk])).status_code == 403
    assert client.post(reverse("grants:organisation_add"), {"name": "X"}).status_code == 403
    assert "Change amount" not in page_text(client.get(FUND))


def test_a_user_given_the_permission_can_add(client, seed_fund):
    user = UserFactory(username="officer-with-rights")
    user.user_permissions.add(Permission.objects.get(codename="add_allocation"))
    client.force_login(user)
    assert client.get(reverse("grants:allocation_add", args=["moj-ecf-2020"])).status_code == 200


def test_changing_an_amount_records_a_variation_with_its_reason(signed_in, staff_user, seed_fund):
    line = Allocation.objects.get(fund=seed_fund, line_number=8)
    url = reverse("grants:allocation_change_amount", args=[line.pk])
    assert 'name="shown_amount" value="1265.00"' in page_text(signed_in.get(url))
    data = {
        "amount": "1265.50",
        "shown_amount": "1265.00",
        "effective_date": "2020-09-01",
        "memo": "Revised bid",
    }
    response = signed_in.post(url, data, follow=True)
    assert response.redirect_chain == [(FUND, 302)]
    assert "Line 8 changed by £0.50 to £1,265.50, awaiting approval." in page_text(response)
    variation = line.entries.get(kind="variation")
    assert (str(variation.amount.amount), variation.memo, variation.recorded_by, variation.approved_at) == (
        "0.50",
        "Revised bid",
        staff_user,
        None,
    )


def test_a_stale_change_is_refused_beside_the_amount(signed_in, seed_fund):
    line = Allocation.objects.get(fund=seed_fund, line_number=8)
    services.allocation_set_amount(allocation=line, amount="1300.00", memo="Colleague", acting_user=None)
    data = {"amount": "1265.50", "shown_amount": "1265.00", "effective_date": "2020-09-01", "memo": "Mine"}
    response = signed_in.post(reverse("grants:allocation_change_amount", args=[line.pk]), data)
    assert response.context["form"].errors == {
        "amount": [
            "Someone else has changed this line's amount to £1,300.00 since you opened it. "
            "Reload the page to see their change, then try again."
        ]
    }
    # The colleague's change was awaiting approval: the recorded amount is what a change starts from.
    approve_pending(allocation=line)
    assert services.allocation_awarded(line).amount == Decimal("1300.00")


def test_setting_the_same_amount_says_nothing_was_recorded(signed_in, seed_fund):
    line = Allocation.objects.get(fund=seed_fund, line_number=8)
    data = {"amount": "1265.00", "shown_amount": "1265.00", "effective_date": "2020-09-01", "memo": "Check"}
    response = signed_in.post(reverse("grants:allocation_change_amount", args=[line.pk]), data, follow=True)
    assert "The amount was already £1,265.00; nothing was recorded." in page_text(response)
    assert line.entries.count() == 1


def test_adding_an_organisation_returns_to_where_the_user_came_from(signed_in, seed_fund):
    back = reverse("grants:allocation_add", args=["moj-ecf-2020"])
    data = {"name": "Birmingham Crisis Centre", "company_number": "01234567", "next": back}
    response = signed_in.post(reverse("grants:organisation_add"), data, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert "Birmingham Crisis Centre added." in page_text(response)
    assert Organisation.objects.get(name="Birmingham Crisis Centre").company_number == "01234567"


def test_adding_an_organisation_ignores_a_next_address_on_another_host(signed_in, db):
    data = {"name": "Safe Haven", "next": "https://evil.example/"}
    response = signed_in.post(reverse("grants:organisation_add"), data)
    organisation = Organisation.objects.get(name="Safe Haven")
    assert response["Location"] == reverse("grants:organisation_detail", args=[organisation.pk])


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "roshni"}, "name", "Roshni is already in the ledger."),
        ({"name": "New", "company_number": "1234567"}, "company_number", "A company number has 8 characters"),
    ],
)
def test_bad_organisation_input_is_shown_beside_its_field(signed_in, seed_fund, data, field, message):
    response = signed_in.post(reverse("grants:organisation_add"), data)
    assert list(response.context["form"].errors) == [field]
    assert response.context["form"].errors[field][0].startswith(message)
    assert Organisation.objects.count() == 15


# Performance and assets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_for",
    [
        lambda fund, organisation: reverse("grants:dashboard"),
        lambda fund, organisation: reverse("grants:fund_detail", args=[fund.code]),
        lambda fund, organisation: reverse("grants:allocation_list"),
        lambda fund, organisation: reverse("grants:organisation_list"),
        lambda fund, organisation: reverse("grants:organisation_detail", args=[organisation.pk]),
    ],
    ids=["dashboard", "fund", "allocations", "organisations", "organisation"],
)
def test_pages_take_the_same_queries_for_1_line_and_300(
    signed_in, db, django_assert_max_num_queries, url_for
):
    fund = FundFactory()
    organisation = OrganisationFactory()
    lines = [AllocationFactory(fund=fund, organisation=organisation, line_number=1, service="Service 1")]
    url = url_for(fund, organisation)
    with django_assert_max_num_queries(30) as one:
        signed_in.get(url)
    others = OrganisationFactory.create_batch(20)
    themes = [lines[0].thematic_area, ThematicAreaFactory(), ThematicAreaFactory()]
    categories = [lines[0].funding_category, FundingCategoryFactory(), FundingCategoryFactory()]
    # Written in bulk (the services would take a minute for 300 lines); the award of each line too.
    Allocation.objects.bulk_create(
        Allocation(
            fund=fund,
            organisation=others[n % 20] if n % 2 else organisation,
            line_number=n,
            service=f"Service {n}",
            thematic_area=themes[n % 3],
            funding_category=categories[n % 3],
        )
        for n in range(2, 301)
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            fund=fund,
            allocation=line,
            kind="award",
            amount=Decimal("1.00"),
            effective_date="2020-08-19",
            memo="Award",
        )
        for line in Allocation.objects.filter(fund=fund, line_number__gt=1)
    )
    assert approve_pending(fund=fund) == 299
    assert Allocation.objects.filter(fund=fund).count() == 300
    with django_assert_max_num_queries(30) as many:
        response = signed_in.get(url)
    assert response.status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_pages_load_nothing_from_another_host(signed_in, seed_fund):
    for url in [reverse("grants:dashboard"), FUND, reverse("grants:allocation_list")]:
        page = page_text(signed_in.get(url))
        assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []
        assert 'href="/static/css/ledger.css"' in page
        # Without an icon named, a browser asks for /favicon.ico and logs its 404 as a console error.
        assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page


def test_pages_have_a_skip_link_and_scoped_table_headers(signed_in, seed_fund):
    page = page_text(signed_in.get(FUND))
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page
    assert '<main id="main">' in page
    table = page[
        page.index('<table class="allocations"') : page.index(
            "</thead>", page.index('<table class="allocations"')
        )
    ]
    # No., organisation ... amount, awaiting approval, paid, still to pay, and the change links
    assert table.count('<th scope="col"') == 10
    assert '<label for="id_funding_category">Funding category</label>' in page


def test_password_change_page_is_offered(signed_in):
    response = signed_in.get(reverse("password_change"))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page_text(response)


def test_an_invalid_filter_shows_and_exports_no_lines_rather_than_all(signed_in, seed_fund):
    query = {"funding_category": "da-pcc-non-commissioned", "amount_min": "abc"}
    response = signed_in.get(FUND, query)
    assert table_rows(response) == ["No allocations match."]
    assert footer_total(response) == "£0.00"
    assert "Enter a number." in page_text(response)
    export = signed_in.get(FUND, {**query, "export": "csv"})
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").splitlines()) == 1


def test_the_amount_range_includes_its_ends_after_variations_on_both_databases(signed_in, db):
    fund = FundFactory()
    line = AllocationFactory(fund=fund, amount="0.10")
    services.allocation_set_amount(allocation=line, amount="0.30", memo="Varied", acting_user=None)
    approve_pending(allocation=line)
    url = reverse("grants:fund_detail", args=[fund.code])
    assert len(table_rows(signed_in.get(url, {"amount_min": "0.30", "amount_max": "0.30"}))) == 1
    assert table_rows(signed_in.get(url, {"amount_max": "0.29"})) == ["No allocations match."]


def test_an_unknown_fund_code_on_the_dashboard_totals_every_fund_and_says_so(signed_in, seed_fund):
    page = page_text(signed_in.get(reverse("grants:dashboard"), {"fund": "no-such-fund"}))
    assert "Across all funds." in page
    assert " checked" not in page


def test_a_signed_out_visitor_cannot_tell_which_funds_exist(client, seed_fund):
    for code in ["moj-ecf-2020", "no-such-fund"]:
        response = client.get(reverse("grants:fund_detail", args=[code]))
        assert response.status_code == 302


def test_the_add_form_asks_for_a_reason_rather_than_supplying_one(signed_in, seed_fund):
    form = signed_in.get(reverse("grants:allocation_add", args=["moj-ecf-2020"])).context["form"]
    assert form["memo"].value() in (None, "")


def test_organisations_added_in_the_admin_go_through_the_service(signed_in, db):
    response = signed_in.post(
        reverse("admin:grants_organisation_add"), {"name": "  Safe Haven  ", "short_name": " SH "}
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Safe Haven")
    assert organisation.short_name == "SH"


def test_an_organisation_added_with_a_contact_email_shows_it_and_a_bad_one_is_refused(signed_in, db):
    bad = signed_in.post(
        reverse("grants:organisation_add"), {"name": "Safe Homes", "contact_email": "grants@"}
    )
    assert "Enter a valid email address." in page_text(bad)
    assert not Organisation.objects.filter(name="Safe Homes").exists()
    signed_in.post(
        reverse("grants:organisation_add"), {"name": "Safe Homes", "contact_email": " grants@safe.example "}
    )
    organisation = Organisation.objects.get(name="Safe Homes")
    assert organisation.contact_email == "grants@safe.example"
    page = page_text(signed_in.get(reverse("grants:organisation_detail", args=[organisation.pk])))
    assert '<a href="mailto:grants@safe.example">grants@safe.example</a>' in page
