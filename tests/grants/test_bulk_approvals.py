"""The Approvals page decides many entries at once, all or nothing, through the one decision service:
the ticked rows, or every entry of one import; never one's own, never a row the page did not show."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants import roles, services
from grants.models import LedgerEntry
from grants.templatetags.ledger import short_reason
from tests.factories import AllocationFactory, FundFactory, pay, submit_return, user_in_role
from tests.grants.test_carry_forward import carry_line, fund, line  # noqa: F401 (fixtures)
from tests.grants.workbooks import table

APPROVALS = reverse("grants:approval_list")


@pytest.fixture
def lines(db):
    bulk = FundFactory(code="bulk-fund")
    return [AllocationFactory(fund=bulk, amount=Decimal("100000.00")) for _ in range(5)]


def pay_many(lines, officer, count: int) -> list[LedgerEntry]:
    return [
        pay(lines[index % len(lines)], "1.00", officer, reference=f"BACS-{index}") for index in range(count)
    ]


def ticked(entries, *, decision="approve", reason="", shown=None) -> dict:
    """The form as the page sends it: the rows it listed, the ones ticked, and the button pressed."""
    shown = entries if shown is None else shown
    return {
        "decision": decision,
        "reason": reason,
        "shown_entry": [entry.pk for entry in shown],
        "entry": [entry.pk for entry in entries],
    }


def pending_count(entries) -> int:
    return LedgerEntry.objects.filter(pk__in=[entry.pk for entry in entries]).pending().count()


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_an_approver_approves_the_ticked_entries_together(client, lines, officer, approver):
    entries = pay_many(lines, officer, 3)
    client.force_login(approver)

    response = client.post(APPROVALS, ticked(entries[:2], shown=entries), follow=True)

    assert "2 items approved." in page_text(response)
    assert pending_count(entries[:2]) == 0
    assert pending_count(entries[2:]) == 1
    assert set(
        LedgerEntry.objects.filter(pk__in=[e.pk for e in entries[:2]]).values_list("approved_by", flat=True)
    ) == {approver.pk}


def test_one_s_own_entry_among_the_ticked_decides_none_and_is_named(client, lines, officer, approver):
    theirs = pay_many(lines, officer, 2)
    mine = pay(lines[0], "7.00", approver, reference="MINE")
    client.force_login(approver)

    response = client.post(APPROVALS, ticked([*theirs, mine]), follow=True)

    text = page_text(response)
    assert "Nothing was approved. Payment to provider of £7.00 on line " in text
    assert "You recorded this entry, so someone else must approve it (four-eyes rule)." in text
    assert pending_count([*theirs, mine]) == 3


def test_an_entry_decided_in_another_session_meanwhile_decides_none(client, lines, officer, approver):
    entries = pay_many(lines, officer, 3)
    client.force_login(approver)
    assert client.get(APPROVALS).status_code == 200
    # A second approver, in another session, rejects one of them after the page was shown.
    colleague = user_in_role(roles.APPROVER, "colleague")
    services.entry_reject(entry=entries[1], reason="Duplicate of BACS-0", acting_user=colleague)

    response = client.post(APPROVALS, ticked(entries), follow=True)

    text = page_text(response)
    assert "Nothing was approved. Payment to provider of £1.00 on line" in text
    assert "This entry was already rejected." in text
    assert pending_count([entries[0], entries[2]]) == 2


def test_a_forged_id_or_a_row_the_page_did_not_show_decides_none(client, lines, officer, approver):
    entries = pay_many(lines, officer, 2)
    other_fund_line = AllocationFactory(fund=FundFactory(code="other-fund"), amount=Decimal("50.00"))
    elsewhere = pay(other_fund_line, "5.00", officer, reference="ELSEWHERE")
    client.force_login(approver)

    form = ticked([*entries, elsewhere], shown=entries)
    form["entry"].append(999999)
    response = client.post(APPROVALS, form, follow=True)

    text = page_text(response)
    assert "Nothing was approved." in text
    assert "Entry 999999: this entry is not in the ledger." in text
    assert (
        f"Payment to provider of £5.00 on line {other_fund_line.line_number} of other-fund: "
        "this entry was not on the page you ticked it on."
    ) in text
    assert pending_count([*entries, elsewhere]) == 3


def test_a_carry_forward_out_leg_ticked_alone_is_refused(client, officer, approver, line):  # noqa: F811
    in_leg = carry_line(line, officer, amount="10.00")
    out_leg = LedgerEntry.objects.get(pk=in_leg.carried_from_id)
    client.force_login(approver)
    assert f'value="{out_leg.pk}"' not in client.get(APPROVALS).content.decode()

    response = client.post(APPROVALS, ticked([out_leg]), follow=True)

    assert "this is the out leg of a carry-forward; tick the pair&#x27;s row" in page_text(response)
    assert LedgerEntry.objects.filter(pk__in=[in_leg.pk, out_leg.pk]).pending().count() == 2

    approved = client.post(APPROVALS, ticked([in_leg]), follow=True)

    assert "1 item approved." in page_text(approved)
    assert LedgerEntry.objects.filter(pk__in=[in_leg.pk, out_leg.pk]).pending().count() == 0


def test_a_submitted_fund_decides_none_of_the_ticked(client, lines, officer, approver):
    entries = pay_many(lines, officer, 2)
    colleague = user_in_role(roles.APPROVER, "colleague")
    services.entry_approve(entry=entries[0], acting_user=colleague)
    submit_return(lines[0].fund, colleague)
    client.force_login(approver)

    response = client.post(APPROVALS, ticked(entries[1:]), follow=True)

    assert "Nothing was approved." in page_text(response)
    assert pending_count(entries[1:]) == 1


@pytest.mark.parametrize("role", [roles.VIEWER, roles.FINANCE_OFFICER])
def test_only_an_approver_may_post_the_decision(client, lines, officer, role):
    entries = pay_many(lines, officer, 2)
    client.force_login(user_in_role(role, f"someone-{role}"))

    response = client.post(APPROVALS, ticked(entries))

    assert response.status_code == 403
    assert pending_count(entries) == 2


def test_the_decision_needs_the_csrf_token(lines, officer, approver):
    entries = pay_many(lines, officer, 2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)

    response = client.post(APPROVALS, ticked(entries))

    assert response.status_code == 403
    assert pending_count(entries) == 2


def test_reject_in_bulk_keeps_the_one_reason_on_each(client, lines, officer, approver):
    entries = pay_many(lines, officer, 3)
    client.force_login(approver)

    refused = client.post(APPROVALS, ticked(entries, decision="reject"), follow=True)
    assert "Say why; the reason is kept with what you reject." in page_text(refused)
    assert pending_count(entries) == 3

    response = client.post(APPROVALS, ticked(entries, decision="reject", reason="Paid twice"), follow=True)

    assert "3 items rejected." in page_text(response)
    rejected = LedgerEntry.objects.filter(pk__in=[entry.pk for entry in entries])
    assert set(rejected.values_list("rejection_reason", "rejected_by")) == {("Paid twice", approver.pk)}


@pytest.fixture
def imported(seed_fund, officer):
    target = FundFactory(code="imported-fund")
    content = table(
        *[
            (number, f"Provider {number}", "Domestic Abuse", Decimal("10.00"), "DA PCC commissioned")
            for number in range(1, 4)
        ]
    )
    result = services.allocations_import(
        fund=target, file_name="lines.xlsx", content=content, acting_user=officer
    )
    return result.record


def import_form(record, pending, decision="approve", reason=""):
    return {"import": record.pk, "pending": pending, "decision": decision, "reason": reason}


def test_an_approver_approves_all_of_one_import(client, imported, approver):
    client.force_login(approver)
    page = page_text(client.get(APPROVALS))
    assert 'name="pending" value="3"' in page

    response = client.post(APPROVALS, import_form(imported, 3), follow=True)

    assert "3 items approved." in page_text(response)
    assert LedgerEntry.objects.filter(fund=imported.fund).pending().count() == 0
    assert LedgerEntry.objects.filter(fund=imported.fund, approved_by=approver).count() == 3


def test_an_import_changed_since_the_page_was_shown_is_refused(client, imported, approver):
    colleague = user_in_role(roles.APPROVER, "colleague")
    one = LedgerEntry.objects.filter(fund=imported.fund).order_by("pk").first()
    services.entry_approve(entry=one, acting_user=colleague)
    client.force_login(approver)

    response = client.post(APPROVALS, import_form(imported, 3), follow=True)

    assert (
        "Nothing was approved. The import lines.xlsx has changed since the page was shown: "
        "2 of its entries await approval now, not 3."
    ) in page_text(response)
    assert LedgerEntry.objects.filter(fund=imported.fund).pending().count() == 2


def test_no_one_approves_their_own_import(client, imported, officer):
    officer.groups.add(user_in_role(roles.APPROVER, "template-approver").groups.get())
    client.force_login(officer)

    response = client.post(APPROVALS, import_form(imported, 3), follow=True)

    assert "Nothing was approved." in page_text(response)
    assert "four-eyes rule" in page_text(response)
    assert LedgerEntry.objects.filter(fund=imported.fund).pending().count() == 3


def test_an_import_is_rejected_in_bulk_with_its_reason(client, imported, approver):
    client.force_login(approver)

    response = client.post(APPROVALS, import_form(imported, 3, "reject", "Wrong file"), follow=True)

    assert "3 items rejected." in page_text(response)
    assert set(LedgerEntry.objects.filter(fund=imported.fund).values_list("rejection_reason", flat=True)) == {
        "Wrong file"
    }


def test_the_reason_column_shows_a_short_hash_and_links_to_the_full_text(client, imported, approver):
    client.force_login(approver)
    page = client.get(APPROVALS).content.decode()
    sha = imported.sha256

    assert sha not in page
    assert f"Imported from lines.xlsx (SHA-256 {sha[:12]}…)" in page
    entry = LedgerEntry.objects.filter(fund=imported.fund).order_by("pk").first()
    link = f"{reverse('grants:allocation_detail', args=[entry.allocation_id])}#entry-{entry.pk}"
    assert f'href="{link}"' in page
    # The entry's page carries the whole reason.
    assert sha in client.get(link.split("#")[0]).content.decode()


def test_short_reason_cuts_only_whole_sha256_digests():
    digest = "ab" * 32
    assert (
        short_reason(f"Imported from a.xlsx (SHA-256 {digest})")
        == "Imported from a.xlsx (SHA-256 abababababab…)"
    )
    assert short_reason("Invoice 1234567890abcdef") == "Invoice 1234567890abcdef"
    assert short_reason(None) == ""


# Session and user (2), permissions (2); the view: the ticked entries with their funds and lines (1);
# the service, in a savepoint (2): the entries' lines and funds (2), each fund locked with its
# submissions (2 per fund: one fund here), the lines locked (1), the entries with their carry-forward
# pairs (1), the one UPDATE (1), the lines' limits checked (2); then the message stored in the
# session, saved in a savepoint (3). 19, whether 2 entries or 200. On PostgreSQL, 4 more: the audit
# context named for the request and for the service with set_config, and each cleared
# (audit/context.py); SQLite needs none.
BULK_APPROVAL_QUERIES = 19


def bulk_approval_queries() -> int:
    return BULK_APPROVAL_QUERIES + (4 if connection.vendor == "postgresql" else 0)


@pytest.mark.parametrize("count", [2, 200])
def test_bulk_approval_takes_the_same_number_of_queries_for_2_or_200_entries(
    client, lines, officer, approver, count
):
    entries = pay_many(lines, officer, count)
    client.force_login(approver)
    form = ticked(entries)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(APPROVALS, form)
    assert response.status_code == 302
    assert pending_count(entries) == 0
    assert len(queries) == bulk_approval_queries(), "\n".join(query["sql"][:120] for query in queries)


# "²" and "١" pass str.isdigit(), and int() refuses "²"; a number past 2**63 - 1 is no id and SQLite
# cannot be asked about it (OverflowError). Each was a 500; each is now refused, naming what was sent,
# and nothing is decided.
NOT_IDS = ["²", "99999999999999999999999"]


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_ticked_value_that_is_no_id_is_refused_not_a_500(client, lines, officer, approver, value):
    entries = pay_many(lines, officer, 2)
    client.force_login(approver)
    form = ticked(entries)
    form["entry"].append(value)
    form["shown_entry"].append(value)

    response = client.post(APPROVALS, form, follow=True)

    assert response.status_code == 200
    assert f"Nothing was approved. Entry {value[:20]}: this entry is not in the ledger." in page_text(
        response
    )
    assert pending_count(entries) == 2


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_shown_row_or_import_that_is_no_id_is_not_a_500(client, imported, lines, officer, approver, value):
    entries = pay_many(lines, officer, 1)
    client.force_login(approver)

    shown = client.post(APPROVALS, {"decision": "approve", "entry": [entries[0].pk], "shown_entry": [value]})
    assert shown.status_code == 302
    record = client.post(APPROVALS, {"decision": "approve", "import": value, "pending": "3"}, follow=True)
    assert record.status_code == 200
    assert f"Nothing was approved. Import {value[:20]}: there is no such import." in page_text(record)
    one = client.post(APPROVALS, {"approve_one": f"entry:{value}"}, follow=True)
    assert one.status_code == 200
    assert "Choose an entry or change to approve." in page_text(one)
    assert pending_count(entries) == 1
    assert LedgerEntry.objects.filter(fund=imported.fund).pending().count() == 3
