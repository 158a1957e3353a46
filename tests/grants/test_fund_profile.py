"""A fund's profile by financial year (issue 16): the funder's control total for each year of the
spend period, whose sum is the fund's control total; each change kept with the figure it replaced and
the reason. Through the service, `fund_save`, the profile page, the fund page, the admin and the
database; and the seed fund, which has one figure, unchanged."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from djmoney.money import Money
from pytest_django.asserts import assertContains, assertNotContains

from audit.models import AuditEvent
from grants import roles, selectors, services
from grants.models import ControlTotalRevision, Fund, FundYear, RefusedAttempt
from grants.reconciliation import reconcile
from grants.years import FinancialYear
from tests.factories import AllocationFactory, FundFactory, StaffUserFactory, submit_return, user_in_role
from tests.grants.test_admin import change_url, changeform_data
from tests.grants.test_constraints import insert_with_sql, refused_by
from tests.grants.test_roles_and_concurrency import hold_then, in_thread

Y2023, Y2024, Y2025 = FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)
MEMO = "MoJ grant agreement of 14 March 2023"


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def fund(db):
    """A three-year fund, 1 April 2023 to 31 March 2026, with one figure so far."""
    return FundFactory(
        code="moj-vs-2023",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2026, 3, 31),
        control_total=gbp("100000.00"),
    )


def profile_of(fund) -> list[tuple[int, Decimal]]:
    return list(FundYear.objects.filter(fund=fund).order_by("year").values_list("year", "control_total"))


def revisions_of(fund) -> list[tuple]:
    return list(
        ControlTotalRevision.objects.filter(fund=fund)
        .order_by("pk")
        .values_list("year", "previous_amount", "new_amount", "memo", "recorded_by__username")
    )


def profiled(fund, user=None) -> list[FundYear]:
    return services.fund_profile_set(
        fund=fund,
        figures={Y2023: "40000.00", Y2024: Decimal("42000.50"), Y2025: gbp("18000.25")},
        memo=MEMO,
        acting_user=user,
    )


def nothing_written(fund) -> None:
    assert profile_of(fund) == []
    assert revisions_of(fund) == []
    assert Fund.objects.values_list("control_total", "version").get(pk=fund.pk) == (Decimal("100000.00"), 1)


# ---- The service ----------------------------------------------------------------------------------


def test_fund_profile_set_records_each_year_and_makes_the_total_their_sum(fund, officer):
    rows = profiled(fund, officer)

    assert [(row.financial_year.label, row.control_total) for row in rows] == [
        ("2023-24", gbp("40000.00")),
        ("2024-25", gbp("42000.50")),
        ("2025-26", gbp("18000.25")),
    ]
    assert profile_of(fund) == [
        (2023, Decimal("40000.00")),
        (2024, Decimal("42000.50")),
        (2025, Decimal("18000.25")),
    ]
    assert sum(amount for _, amount in profile_of(fund)) == Decimal("100000.75")
    assert Fund.objects.values_list("control_total", "version").get(pk=fund.pk) == (Decimal("100000.75"), 2)
    assert revisions_of(fund) == [
        (2023, Decimal("0.00"), Decimal("40000.00"), MEMO, "officer"),
        (2024, Decimal("0.00"), Decimal("42000.50"), MEMO, "officer"),
        (2025, Decimal("0.00"), Decimal("18000.25"), MEMO, "officer"),
        (None, Decimal("100000.00"), Decimal("100000.75"), MEMO, "officer"),
    ]


def test_each_year_written_is_in_the_audit_trail_with_who_and_why(fund, officer):
    profiled(fund, officer)

    events = AuditEvent.objects.filter(table_name="grants_fundyear").order_by("pk")
    assert [(event.action, event.fund_id, event.actor_username, event.reason) for event in events] == [
        ("insert", fund.pk, "officer", MEMO)
    ] * 3
    assert [event.after["year"] for event in events] == [2023, 2024, 2025]


def test_a_changed_year_keeps_the_old_figure_and_the_reason_and_a_year_left_out_keeps_its_own(fund):
    profiled(fund)

    services.fund_profile_set(
        fund=fund, figures={Y2024: "41000.00"}, memo="Revised letter, 2 May 2024", acting_user=None
    )

    assert profile_of(fund) == [
        (2023, Decimal("40000.00")),
        (2024, Decimal("41000.00")),
        (2025, Decimal("18000.25")),
    ]
    assert revisions_of(fund)[4:] == [
        (2024, Decimal("42000.50"), Decimal("41000.00"), "Revised letter, 2 May 2024", None),
        (None, Decimal("100000.75"), Decimal("99000.25"), "Revised letter, 2 May 2024", None),
    ]
    assert Fund.objects.values_list("control_total", "version").get(pk=fund.pk) == (Decimal("99000.25"), 3)
    profile = selectors.fund_profile(Fund.objects.get(pk=fund.pk))
    assert [(row.year.label, row.revision_count) for row in profile.years] == [
        ("2023-24", 1),
        ("2024-25", 2),
        ("2025-26", 1),
    ]
    assert profile.total == gbp("99000.25")


def test_moving_money_between_years_records_no_revision_of_the_total(fund):
    profiled(fund)

    services.fund_profile_set(
        fund=fund, figures={Y2023: "30000.00", Y2024: "52000.50"}, memo="Reprofiled", acting_user=None
    )

    assert Fund.objects.get(pk=fund.pk).control_total == gbp("100000.75")
    assert [row[:3] for row in revisions_of(fund)[4:]] == [
        (2023, Decimal("40000.00"), Decimal("30000.00")),
        (2024, Decimal("42000.50"), Decimal("52000.50")),
    ]


def test_a_year_is_taken_out_by_setting_it_to_zero(fund):
    profiled(fund)

    services.fund_profile_set(fund=fund, figures={Y2025: "0.00"}, memo="Year withdrawn", acting_user=None)

    assert profile_of(fund)[2] == (2025, Decimal("0.00"))
    assert Fund.objects.get(pk=fund.pk).control_total == gbp("82000.50")


def test_saving_the_same_figures_again_writes_nothing(fund):
    profiled(fund)

    services.fund_profile_set(fund=fund, figures={Y2023: "40000.00"}, memo="", acting_user=None)

    assert len(revisions_of(fund)) == 4
    assert Fund.objects.get(pk=fund.pk).version == 2


@pytest.mark.parametrize(
    ("figures", "memo", "errors"),
    [
        (
            {FinancialYear(2022): "10.00", Y2023: "10.00"},
            MEMO,
            {
                "year_2022": [
                    "2022-23 is not a financial year of the fund's spend period (1 April 2023 to "
                    "31 March 2026: 2023-24, 2024-25, 2025-26)."
                ]
            },
        ),
        (
            {Y2023: "10.00", Y2024: "-5.00"},
            MEMO,
            {"year_2024": ["2024-25: a year's control total cannot be less than £0.00."]},
        ),
        (
            {Y2023: "40000.005"},
            MEMO,
            {
                "year_2023": [
                    "2023-24: 40000.005 is not an amount in pounds and pence (at most 2 decimal places)."
                ]
            },
        ),
        (
            {Y2023: "0.00", Y2024: "0.00"},
            MEMO,
            {
                "__all__": [
                    "The years' figures add up to £0.00; a fund's control total must be more than £0.00."
                ]
            },
        ),
        (
            {Y2023: "40000.00"},
            "  ",
            {
                "memo": [
                    "Say why the figures changed (for example, the award letter's date); the reason is "
                    "kept with each year's revision."
                ]
            },
        ),
    ],
    ids=["year outside the spend period", "negative", "three decimal places", "sum zero", "no memo"],
)
def test_fund_profile_set_refuses_naming_the_year_and_writes_nothing(fund, officer, figures, memo, errors):
    with pytest.raises(services.ValidationError) as refused:
        services.fund_profile_set(fund=fund, figures=figures, memo=memo, acting_user=officer)

    assert refused.value.message_dict == errors
    nothing_written(fund)
    assert RefusedAttempt.objects.filter(action="fund_profile_set", fund_id=fund.pk).count() == 1


def test_a_change_that_empties_every_year_of_a_profile_is_refused(fund):
    profiled(fund)

    with pytest.raises(services.ValidationError, match="add up to £0.00"):
        services.fund_profile_set(
            fund=fund, figures={Y2023: "0", Y2024: "0", Y2025: "0"}, memo="All gone", acting_user=None
        )

    assert sum(amount for _, amount in profile_of(fund)) == Decimal("100000.75")


def test_a_submitted_funds_profile_is_refused_with_the_submissions_message(fund, approver):
    AllocationFactory(fund=fund, amount=Decimal("100.00"))
    submission = submit_return(fund, approver)

    with pytest.raises(services.ValidationError) as refused:
        profiled(fund)

    assert refused.value.messages == [services.locked_message(submission)]
    nothing_written(fund)


def test_a_stale_expected_version_is_refused_and_the_colleagues_figures_stay(fund):
    services.fund_profile_set(
        fund=fund, figures={Y2023: "100000.00"}, memo=MEMO, acting_user=None, expected_version=1
    )

    with pytest.raises(services.ValidationError) as refused:
        services.fund_profile_set(
            fund=fund, figures={Y2023: "60000.00"}, memo="Stale", acting_user=None, expected_version=1
        )

    assert refused.value.messages == [services.changed_since_opened_message(Fund.objects.get(pk=fund.pk))]
    assert profile_of(fund) == [(2023, Decimal("100000.00"))]
    assert Fund.objects.get(pk=fund.pk).version == 2


# ---- fund_save ------------------------------------------------------------------------------------


def test_fund_save_refuses_a_direct_change_of_a_profiled_funds_control_total(fund):
    profiled(fund)
    fund = Fund.objects.get(pk=fund.pk)
    fund.control_total = gbp("120000.00")

    with pytest.raises(services.ValidationError) as refused:
        services.fund_save(fund=fund, acting_user=None, memo="New letter")

    assert refused.value.message_dict == {"control_total": [services.CONTROL_TOTAL_IS_THE_PROFILES]}
    assert Fund.objects.get(pk=fund.pk).control_total == gbp("100000.75")


def test_fund_save_still_changes_the_control_total_of_a_fund_without_a_profile(fund):
    fund.control_total = gbp("120000.00")

    services.fund_save(fund=fund, acting_user=None, memo="New letter")

    assert Fund.objects.get(pk=fund.pk).control_total == gbp("120000.00")
    assert revisions_of(fund) == [(None, Decimal("100000.00"), Decimal("120000.00"), "New letter", None)]


def test_fund_save_refuses_a_spend_period_that_leaves_a_year_with_money_outside_it(fund):
    profiled(fund)
    fund = Fund.objects.get(pk=fund.pk)
    fund.spend_end = datetime.date(2025, 3, 31)

    with pytest.raises(services.ValidationError) as refused:
        services.fund_save(fund=fund, acting_user=None)

    assert refused.value.message_dict == {
        "spend_end": [
            "A spend period of 1 April 2023 to 31 March 2025 would leave 2025-26 (£18,000.25) outside it; "
            "set that year's figure to £0.00 on the fund's profile page first."
        ]
    }
    assert Fund.objects.get(pk=fund.pk).spend_end == datetime.date(2026, 3, 31)


def test_fund_save_shortens_the_spend_period_past_a_year_set_to_zero(fund):
    profiled(fund)
    services.fund_profile_set(fund=fund, figures={Y2025: "0.00"}, memo="Year withdrawn", acting_user=None)
    fund = Fund.objects.get(pk=fund.pk)
    fund.spend_end = datetime.date(2025, 3, 31)
    fund.name = "Victims' services 2023-25"

    services.fund_save(fund=fund, acting_user=None)

    assert Fund.objects.values_list("spend_end", "control_total").get(pk=fund.pk) == (
        datetime.date(2025, 3, 31),
        Decimal("82000.50"),
    )


# ---- The seed fund: one figure, as before ---------------------------------------------------------


def test_the_seed_fund_has_no_profile_and_reconciles_as_before(seed_fund, client, officer):
    assert FundYear.objects.filter(fund=seed_fund).count() == 0
    assert not selectors.fund_profile(seed_fund)
    result = reconcile(seed_fund)
    assert (result.control_total, result.ledger_total) == (gbp("738810.53"), gbp("738810.82"))

    client.force_login(officer)
    response = client.get(f"/funds/{seed_fund.code}/")

    assertNotContains(response, "Control total by financial year")
    assertContains(response, "Profile by financial year")


def test_the_seed_funds_profile_page_offers_its_two_years_at_zero(seed_fund, client, officer):
    client.force_login(officer)

    form = client.get(f"/funds/{seed_fund.code}/profile/").context["form"]

    assert [form[name].label for name in ("year_2019", "year_2020")] == [
        "2019-20 (1 April 2019 to 31 March 2020) (£)",
        "2020-21 (1 April 2020 to 31 March 2021) (£)",
    ]
    assert (form.initial["year_2019"], form.initial["year_2020"]) == (Decimal("0.00"), Decimal("0.00"))


# ---- The pages ------------------------------------------------------------------------------------


def profile_url(fund) -> str:
    return f"/funds/{fund.code}/profile/"


def test_the_profile_page_shows_one_labelled_prefilled_input_per_year_and_the_version(fund, client, officer):
    profiled(fund)
    client.force_login(officer)

    response = client.get(profile_url(fund))

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields) == ["year_2023", "year_2024", "year_2025", "memo", "version"]
    assertContains(
        response, '<label for="id_year_2023">2023-24 (1 April 2023 to 31 March 2024) (£):</label>', html=True
    )
    assertContains(response, 'name="year_2024" value="42000.50"')
    assertContains(response, '<input type="hidden" name="version" value="2" id="id_version">', html=True)


def test_the_profile_page_saves_the_figures_to_the_penny(fund, client, officer):
    client.force_login(officer)
    data = {
        "year_2023": "40000.01",
        "year_2024": "42000.02",
        "year_2025": "0.00",
        "memo": MEMO,
        "version": "1",
    }

    response = client.post(profile_url(fund), data)

    assert response.status_code == 302
    assert response["Location"] == f"/funds/{fund.code}/"
    assert profile_of(fund) == [(2023, Decimal("40000.01")), (2024, Decimal("42000.02"))]
    assert Fund.objects.get(pk=fund.pk).control_total == gbp("82000.03")
    page = client.get(response["Location"])
    assertContains(page, "Saved the fund&#x27;s profile: its control total is now £82,000.03.")
    assertContains(page, '<td class="num" id="fund-profile-total">£82,000.03</td>', html=True)
    assertContains(
        page,
        '<tr><th scope="row">2024-25</th><td class="num">£42,000.02</td><td class="num">1</td></tr>',
        html=True,
    )


@pytest.mark.parametrize(
    ("figures", "field", "message"),
    [
        ({"year_2024": "-1.00"}, "year_2024", "Ensure this value is greater than or equal to 0.00."),
        ({"year_2023": "1.005"}, "year_2023", "Ensure that there are no more than 2 decimal places."),
        (
            {"year_2023": "0", "year_2024": "0", "year_2025": "0"},
            "__all__",
            "The years&#x27; figures add up to £0.00; a fund&#x27;s control total must be more than £0.00.",
        ),
    ],
)
def test_the_profile_page_shows_errors_beside_the_fields_and_writes_nothing(
    fund, client, officer, figures, field, message
):
    client.force_login(officer)
    data = {
        "year_2023": "40000.00",
        "year_2024": "60000.00",
        "year_2025": "0.00",
        "memo": MEMO,
        "version": "1",
    }

    response = client.post(profile_url(fund), {**data, **figures})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assertContains(response, message)
    assertContains(
        response, 'value="40000.00"' if "year_2023" not in figures else f'value="{figures["year_2023"]}"'
    )
    nothing_written(fund)


def test_two_officers_on_the_profile_page_the_second_stale_save_is_refused(fund, db):
    first, second = Client(), Client()
    first.force_login(user_in_role(roles.FINANCE_OFFICER, "ann"))
    second.force_login(user_in_role(roles.FINANCE_OFFICER, "bob"))
    opened = [
        session.get(profile_url(fund)).context["form"].initial["version"] for session in (first, second)
    ]
    blank = {"year_2023": "0.00", "year_2024": "0.00", "year_2025": "0.00"}

    mine = {**blank, "year_2023": "100000.00", "memo": "ann's letter", "version": opened[0]}
    assert first.post(profile_url(fund), mine).status_code == 302
    theirs = {**blank, "year_2024": "55555.55", "memo": "typed by bob", "version": opened[1]}
    response = second.post(profile_url(fund), theirs)

    assert response.status_code == 200
    assertContains(response, "Someone else saved a change to this fund since you opened it.")
    assertContains(response, "typed by bob")
    assertContains(response, 'value="55555.55"')
    assert profile_of(fund) == [(2023, Decimal("100000.00"))]
    assert Fund.objects.values_list("control_total", "version").get(pk=fund.pk) == (Decimal("100000.00"), 2)


def test_a_viewer_may_not_open_or_post_the_profile_page(fund, client, viewer):
    client.force_login(viewer)

    assert client.get(profile_url(fund)).status_code == 403
    response = client.post(profile_url(fund), {"year_2023": "1.00", "memo": "x", "version": "1"})

    assert response.status_code == 403
    nothing_written(fund)
    assertNotContains(client.get(f"/funds/{fund.code}/"), "Profile by financial year")


def test_a_submitted_funds_page_hides_the_profile_link_and_says_why(fund, client, officer, approver):
    profiled(fund)
    AllocationFactory(fund=fund, amount=Decimal("100.00"))
    submit_return(fund, approver)
    client.force_login(officer)

    page = client.get(f"/funds/{fund.code}/")
    assertNotContains(page, f'href="{profile_url(fund)}"')
    assertContains(
        page, "The profile by financial year cannot change while the submitted return is in force."
    )
    assertContains(page, "Control total by financial year")
    form_page = client.get(profile_url(fund))
    assertContains(form_page, 'id="lock-notice"')
    assertNotContains(form_page, "Save the profile")
    response = client.post(
        profile_url(fund),
        {"year_2023": "1.00", "year_2024": "0", "year_2025": "0", "memo": "x", "version": "2"},
    )
    assert response.status_code == 200
    assert sum(amount for _, amount in profile_of(fund)) == Decimal("100000.75")


# ---- The admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(StaffUserFactory(username="head-of-finance"))
    return client


def test_the_admin_shows_the_profile_read_only(admin_client, fund):
    profiled(fund)

    response = admin_client.get(change_url(fund))

    inline = next(
        formset for formset in response.context["inline_admin_formsets"] if formset.formset.model is FundYear
    )
    assert (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission) == (
        False,
        False,
        False,
    )
    assert [form.instance.year for form in inline.formset.forms] == [2023, 2024, 2025]
    # Only the hidden keys every inline row has: no figure can be typed.
    assert {name for form in inline.formset.forms for name in form.fields} == {"id", "fund"}
    assertNotContains(response, 'name="years-0-DELETE"')
    assertNotContains(response, 'name="years-0-control_total_0"')
    assertContains(response, "2024-25")
    assertContains(response, "£42,000.50")


def test_the_admin_refuses_a_profiled_funds_control_total_beside_the_field(admin_client, fund):
    profiled(fund)
    data = changeform_data(admin_client.get(change_url(fund)))
    data.update({"control_total_0": "120000.00", "control_total_memo": "New letter"})

    response = admin_client.post(change_url(fund), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "control_total": [services.CONTROL_TOTAL_IS_THE_PROFILES]
    }
    assert Fund.objects.values_list("control_total", "version").get(pk=fund.pk) == (Decimal("100000.75"), 2)


def test_the_admin_refuses_a_spend_period_stranding_a_year_beside_the_field(admin_client, fund):
    profiled(fund)
    data = changeform_data(admin_client.get(change_url(fund)))
    data.update({"spend_start": "2024-04-01"})

    response = admin_client.post(change_url(fund), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "spend_start": [
            "A spend period of 1 April 2024 to 31 March 2026 would leave 2023-24 (£40,000.00) outside it; "
            "set that year's figure to £0.00 on the fund's profile page first."
        ]
    }
    assert Fund.objects.get(pk=fund.pk).spend_start == datetime.date(2023, 4, 1)


def test_the_admin_still_saves_a_profiled_funds_name(admin_client, fund):
    profiled(fund)
    data = changeform_data(admin_client.get(change_url(fund)))
    data["name"] = "Victims' services 2023-26"

    assert admin_client.post(change_url(fund), data).status_code == 302
    assert Fund.objects.values_list("name", "control_total").get(pk=fund.pk) == (
        "Victims' services 2023-26",
        Decimal("100000.75"),
    )


# ---- The database ---------------------------------------------------------------------------------


def test_the_database_refuses_a_second_figure_for_a_funds_year(fund):
    profiled(fund)

    with refused_by(FundYear, "fund_year_is_unique_within_its_fund"):
        insert_with_sql(FundYear(fund=fund, year=2024, control_total=gbp("1.00")))

    assert profile_of(fund)[1] == (2024, Decimal("42000.50"))


def test_the_database_refuses_a_negative_figure(fund):
    with refused_by(FundYear, "fund_year_control_total_is_not_negative"):
        insert_with_sql(FundYear(fund=fund, year=2023, control_total=gbp("-0.01")))

    # The positive control: the fund's one year, its whole control total (which PostgreSQL checks).
    insert_with_sql(FundYear(fund=fund, year=2023, control_total=gbp("100000.00")))
    assert profile_of(fund) == [(2023, Decimal("100000.00"))]


def test_the_database_refuses_a_year_before_2000(fund):
    with refused_by(FundYear, "fund_year_is_a_year_the_ledger_holds"):
        insert_with_sql(FundYear(fund=fund, year=1999, control_total=gbp("1.00")))

    assert profile_of(fund) == []


def test_the_admins_control_total_history_says_which_figure_changed(admin_client, fund):
    profiled(fund)

    history = admin_client.get(change_url(fund)).context["inline_admin_formsets"]
    revisions = next(formset for formset in history if formset.formset.model is ControlTotalRevision)
    changelist = admin_client.get("/admin/grants/controltotalrevision/")

    assert [revisions.opts.year_display(form.instance) for form in revisions.formset.forms] == [
        "2023-24",
        "2024-25",
        "2025-26",
        "the fund's total",
    ]
    assertContains(changelist, "2025-26")
    assertContains(changelist, "the fund&#x27;s total")


# ---- Two real connections (PostgreSQL) ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_profiles_of_one_version_on_two_connections_only_the_first_lands():
    """The second waits for the first's lock on the fund, then finds the version moved on: refused,
    and the first's figures and revisions are all there are."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two real concurrent connections with row locks (PostgreSQL)")
    fund = FundFactory(
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2026, 3, 31),
        control_total=gbp("10.00"),
    )

    def profile(amount, memo):
        return lambda: services.fund_profile_set(
            fund=fund, figures={Y2023: amount}, memo=memo, acting_user=None, expected_version=1
        )

    holding, release = threading.Event(), threading.Event()
    first, first_box = in_thread(hold_then(profile("40000.00", "First"), holding, release))
    assert holding.wait(10)
    second, second_box = in_thread(profile("50000.00", "Second"))
    second.join(1)
    assert second.is_alive(), "the second should wait for the first one's lock on the fund"
    release.set()
    first.join(10)
    second.join(10)

    assert [row.control_total for row in first_box["result"]] == [gbp("40000.00")]
    assert "Someone else saved a change to this fund" in str(second_box.get("error"))
    assert profile_of(fund) == [(2023, Decimal("40000.00"))]
    assert [row[:4] for row in revisions_of(fund)] == [
        (2023, Decimal("0.00"), Decimal("40000.00"), "First"),
        (None, Decimal("10.00"), Decimal("40000.00"), "First"),
    ]
