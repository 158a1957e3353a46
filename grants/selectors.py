"""Page-level reads, composed from the models' QuerySet methods."""

from __future__ import annotations

import datetime
import getpass
import importlib.metadata
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone
from djmoney.money import Money

from grants import money
from grants.exports.moj_return import MojReturnData, ReturnLine
from grants.exports.three_sixty_giving import (
    BeneficiaryLocation,
    Grant,
    Recipient,
    package_json,
    recipient_identifier,
)
from grants.imports import import_memo
from grants.imports.planning import ExistingLine, ImportPlan, LedgerSnapshot, build_plan
from grants.imports.reading import read_workbook
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    Fund,
    FundFigures,
    FundingCategory,
    GroupFigures,
    ImportRecord,
    LedgerEntry,
    LineChange,
    Organisation,
    ReturnSubmission,
    ThematicArea,
    awarded_sum,
    counted_line_count,
    has_approved_award,
)
from grants.reconciliation import (
    FundReconciliation,
    Status,
    Subtotal,
    reconcile,
    reconciliation_from_rows,
    status_for,
    stored_category_subtotals,
    subtotals,
)


@dataclass(frozen=True)
class FundSummary:
    fund: Fund
    ledger_total: Money

    @property
    def variance(self) -> Money:
        return money.difference(self.ledger_total, self.fund.control_total)

    @property
    def status(self) -> Status:
        return status_for(self.variance)


def fund_summaries() -> list[FundSummary]:
    """Every fund with its ledger total, in one query, from the stored figures of its few groups."""
    funds = Fund.objects.select_related("funder").with_ledger_total()
    return [FundSummary(fund=fund, ledger_total=money.from_aggregate(fund.ledger_total)) for fund in funds]


@dataclass(frozen=True)
class FundMoney:
    """Where a fund's money stands (README, "Financial controls")."""

    control_total: Money
    allocated: Money  # approved awards and variations
    allocated_pending: Money  # awards and variations awaiting approval
    paid: Money  # to providers, recorded
    returned_by_providers: Money  # underspend providers sent back
    returned_to_funder: Money  # money the office sent back to the funder
    pending_entries: int

    @property
    def headroom(self) -> Money:
        """Control total less the approved allocations: what is left to allocate (negative when over)."""
        return money.difference(self.control_total, self.allocated)

    @property
    def net_paid(self) -> Money:
        return money.difference(self.paid, self.returned_by_providers)


def fund_money(fund: Fund, groups: list[dict] | None = None) -> FundMoney:
    """The fund's money by kind of entry, from the stored figures of its groups (`fund_groups()`,
    read here unless given) and of the money it holds on no line: two queries at most."""
    groups = fund_groups(fund) if groups is None else groups
    held = FundFigures.objects.filter(fund=fund).values("returned_to_funder", "pending_entries").first() or {}

    def total(column: str) -> Money:
        return money.total(money.from_aggregate(group[column]) for group in groups)

    return FundMoney(
        control_total=money.from_aggregate(fund.control_total.amount),
        allocated=total("awarded"),
        allocated_pending=total("awarded_pending"),
        paid=total("paid"),
        returned_by_providers=total("returned"),
        returned_to_funder=money.from_aggregate(held.get("returned_to_funder")),
        pending_entries=sum(group["pending_entries"] for group in groups) + held.get("pending_entries", 0),
    )


GROUP_NAMES = {
    "category_code": F("funding_category__code"),
    "category_name": F("funding_category__name"),
    "category_sort_order": F("funding_category__sort_order"),
    "theme_code": F("thematic_area__code"),
    "theme_name": F("thematic_area__name"),
    "theme_sort_order": F("thematic_area__sort_order"),
}


def fund_groups(fund: Fund) -> list[dict]:
    """The stored figures of the fund's lines by funding category and thematic area, one query
    reading a few rows whatever the fund's size, as `grants.reconciliation` rows (`total`, `lines`,
    `pending`, `pending_lines` and the names) with the other figures beside them."""
    rows = (
        GroupFigures.objects.filter(fund=fund, allocations__gt=0)
        .order_by()
        .values(
            "funding_category_id",
            "thematic_area_id",
            "awarded",
            "awarded_pending",
            "paid",
            "returned",
            "pending_entries",
            "lines",
            "pending_lines",
            **GROUP_NAMES,
        )
    )
    return [{**row, "total": row["awarded"], "pending": row["awarded_pending"]} for row in rows]


@dataclass(frozen=True)
class FundPage:
    fund: Fund
    reconciliation: FundReconciliation
    money: FundMoney
    submissions: list[ReturnSubmission]
    unregistered_recipients: list[Organisation]
    open_data_ready: bool
    pending_line_changes: list[LineChange]

    @property
    def submission_in_force(self) -> ReturnSubmission | None:
        return next((submission for submission in self.submissions if submission.in_force), None)


def fund_submissions(fund: Fund) -> list[ReturnSubmission]:
    """The fund's submitted returns, newest first, without their bytes."""
    return list(
        ReturnSubmission.objects.filter(fund=fund)
        .defer("workbook")
        .select_related("submitted_by", "reopened_by")
        .order_by("-version")
    )


def submission_in_force(fund: Fund) -> ReturnSubmission | None:
    return (
        ReturnSubmission.objects.in_force()
        .filter(fund=fund)
        .defer("workbook")
        .select_related("submitted_by")
        .first()
    )


def stored_reconciliation(fund: Fund, groups: list[dict] | None = None) -> FundReconciliation:
    """The fund's reconciliation from its stored figures (`grants.figures`), in two queries (its
    groups, read here unless given, and its budgets) whatever its size;
    `reconcile(fund, by_organisation=False)` derives the same from the entries."""
    groups = fund_groups(fund) if groups is None else groups
    return reconciliation_from_rows(fund, groups, CategoryBudget.objects.filter(fund=fund))


def fund_page(fund: Fund) -> FundPage:
    """The fund's facts, its reconciliation and money, its submitted returns and who lacks a
    registered number for open data.

    The reconciliation and money come from the stored figures (`grants.figures`): a few rows per
    fund however many lines it has. `reconcile(fund)` derives the same from the entries, for the
    MoJ return and the reconcile command; the test suite checks after every test that the two agree.
    """
    groups = fund_groups(fund)
    return FundPage(
        fund=fund,
        # The page shows no breakdown by organisation; a region's fund has thousands of them.
        reconciliation=stored_reconciliation(fund, groups),
        money=fund_money(fund, groups),
        submissions=fund_submissions(fund),
        unregistered_recipients=unregistered_recipients(fund),
        open_data_ready=three_sixty_giving_problem() is None,
        pending_line_changes=list(pending_line_changes().filter(fund=fund)),
    )


def pending_entries() -> QuerySet[LedgerEntry]:
    """Entries awaiting approval, oldest first, with what the approvals page shows of them."""
    return (
        LedgerEntry.objects.pending()
        .select_related("fund", "allocation__organisation", "recorded_by", "reverses")
        .order_by("recorded_at", "pk")
    )


LINE_CHANGE_RELATIONS = (
    "fund",
    "allocation__organisation",
    "organisation",
    "was_organisation",
    "thematic_area",
    "was_thematic_area",
    "funding_category",
    "was_funding_category",
    "proposed_by",
    "approved_by",
    "rejected_by",
)


def pending_line_changes() -> QuerySet[LineChange]:
    """Proposed changes to lines awaiting approval, oldest first, with what their pages show."""
    return LineChange.objects.pending().select_related(*LINE_CHANGE_RELATIONS).order_by("proposed_at", "pk")


def line_changes(allocation: Allocation) -> list[LineChange]:
    """Every change proposed to the line, newest first: awaiting approval, approved, rejected or
    withdrawn."""
    return list(allocation.changes.select_related(*LINE_CHANGE_RELATIONS).order_by("-proposed_at", "-pk"))


@dataclass(frozen=True)
class PendingImport:
    """An import whose entries await approval: approved or rejected together."""

    record: ImportRecord
    pending: int


def import_entries(record: ImportRecord) -> QuerySet[LedgerEntry]:
    """The entries an import recorded (its memo names the file and its SHA-256)."""
    return LedgerEntry.objects.filter(fund=record.fund_id, memo=import_memo(record.file_name, record.sha256))


def imports_awaiting_approval() -> list[PendingImport]:
    """Imports with entries awaiting approval, oldest first, with how many (one query)."""
    memo = Concat(Value("Imported from "), "file_name", Value(" (SHA-256 "), "sha256", Value(")"))
    waiting = (
        LedgerEntry.objects.pending()
        .filter(fund=OuterRef("fund"), memo=OuterRef("memo"))
        .order_by()
        .values("fund")
        .annotate(count=Count("pk"))
        .values("count")
    )
    records = (
        ImportRecord.objects.annotate(memo=memo, pending=Subquery(waiting))
        .filter(pending__gt=0)
        .select_related("fund", "imported_by")
        .order_by("imported_at", "pk")
    )
    return [PendingImport(record=record, pending=record.pending) for record in records]


def allocation_entries(allocation: Allocation) -> QuerySet[LedgerEntry]:
    return with_reversal_state(
        allocation.entries.select_related("recorded_by", "approved_by", "rejected_by", "reverses")
    ).order_by("recorded_at", "pk")


def with_reversal_state(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Annotate `is_reversed`: a reversal of the entry is recorded (approved or awaiting approval)."""
    return entries.annotate(is_reversed=Exists(LedgerEntry.objects.filter(reverses=OuterRef("pk")).counted()))


def unregistered_recipients(fund: Fund) -> list[Organisation]:
    """The fund's recipients whose 360Giving identifier would be made from the office's prefix.

    The database narrows them to those with no registered number or org-id (validated values hold no
    spaces), so a fund of thousands of registered recipients fetches none of them.
    """
    organisations = Organisation.objects.filter(
        Exists(Allocation.objects.filter(fund=fund, organisation=OuterRef("pk"))),
        org_identifier="",
        charity_number="",
        company_number="",
    ).order_by("name")
    return [
        organisation
        for organisation in organisations
        if recipient_identifier(
            org_identifier=organisation.org_identifier,
            charity_number=organisation.charity_number,
            company_number=organisation.company_number,
            prefix="",
            internal_id=organisation.pk,
        )[1]
    ]


def _with_short_name(name: str, short_name: str) -> str:
    return f"{name} ({short_name})" if short_name else name


def _prepared_by(user) -> str:
    if user is None:
        return f"command line ({getpass.getuser()})"
    return user.get_full_name() or user.get_username()


def moj_return_data(fund: Fund, *, user=None) -> MojReturnData:
    """The MoJ return's data: the fund's facts, its reconciliation and its lines as an iterator.

    The lines are read with `.iterator()` as plain values, so a large fund streams through the
    builder. Read them in the same transaction as the reconciliation (`consistent_snapshot()`).
    """
    # Read again inside the caller's snapshot, so the control total and the lines are of one moment.
    fund = Fund.objects.select_related("funder").get(pk=fund.pk)
    # Each line's approved award and variations, summed from the (allocation, kind, approved_at)
    # index in line-number order: no GROUP BY over the fund's entries, no sort, and no pass over the
    # whole ledger to find which lines have something approved.
    approved = (
        LedgerEntry.objects.filter(allocation=OuterRef("pk"))
        .awarded()
        .approved()
        .order_by()
        .values("allocation")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    lines = (
        Allocation.objects.for_fund(fund)
        .annotate(awarded=Subquery(approved))
        .order_by("line_number")
        .values_list(
            "line_number",
            "organisation__name",
            "organisation__short_name",
            "service",
            "thematic_area__name",
            "funding_category__name",
            "awarded",
        )
    )
    return MojReturnData(
        funder=_with_short_name(fund.funder.name, fund.funder.short_name),
        fund_name=fund.name,
        fund_code=fund.code,
        spend_start=fund.spend_start,
        spend_end=fund.spend_end,
        recipient=settings.LEDGER_OFFICE_NAME,
        prepared_by=_prepared_by(user),
        prepared_at=timezone.localtime(),
        product_version=product_version(),
        # From the stored figures (a few rows, not every entry of the ledger again): the builder
        # adds up the lines it writes, which are summed from the entries, and refuses a return
        # whose lines do not give these totals by category, by thematic area and in all.
        reconciliation=stored_reconciliation(fund),
        lines=(
            ReturnLine(
                number,
                _with_short_name(name, short_name),
                service,
                theme,
                category,
                money.amount_from_aggregate(amount),
            )
            for number, name, short_name, service, theme, category, amount in lines.iterator(chunk_size=2000)
            # A line with nothing approved yet sums to NULL, and is not on the return (README,
            # "Financial controls").
            if amount is not None
        ),
    )


def product_version() -> str:
    try:
        return importlib.metadata.version("grant-ledger")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


@contextmanager
def consistent_snapshot():
    """Reads that concurrent writes cannot change half-way through, where the database allows it.

    On PostgreSQL a REPEATABLE READ, READ ONLY transaction. On SQLite a transaction would take the
    write lock (transaction_mode IMMEDIATE) and hold every writer off for the whole export, so reads
    go without one; the MoJ return's builder checks that the lines it wrote add up to the
    reconciliation it was given and refuses a return that mixes two moments. Inside an outer
    transaction (tests, say) the outer one decides.
    """
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                # The export's queries are index probes per line, which the planner costs high
                # enough to compile with JIT: 130 ms of compiling for a 460 ms query of a
                # 100,000-line fund, and nothing gained (docs/performance.md).
                cursor.execute("SET LOCAL jit = off")
        yield


class ThreeSixtyGivingNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class ThreeSixtyGivingExport:
    grants: list[Grant]
    package: dict

    @property
    def generated_identifiers(self) -> list[Recipient]:
        """Recipients with no charity, company or org-id: their identifier was made from our prefix."""
        unique = {grant.recipient.identifier: grant.recipient for grant in self.grants}
        return sorted(
            (recipient for recipient in unique.values() if recipient.identifier_is_generated),
            key=lambda recipient: recipient.name,
        )


def three_sixty_giving_problem() -> str | None:
    """What stops a 360Giving export under the current settings, or None when it can run."""
    prefix = settings.LEDGER_360GIVING_PREFIX.strip()
    office_id = settings.LEDGER_OFFICE_ORG_ID.strip()
    missing = [
        name
        for name, value in (("LEDGER_360GIVING_PREFIX", prefix), ("LEDGER_OFFICE_ORG_ID", office_id))
        if not value
    ]
    if missing:
        return (
            f"Set {' and '.join(missing)} (see .env.example): 360Giving data names the publisher by its "
            "own identifiers, and the ledger does not make them up."
        )
    if not re.fullmatch(r"360G-[A-Za-z0-9_-]+", prefix):
        return (
            f"LEDGER_360GIVING_PREFIX is {prefix!r}; a 360Giving prefix looks like 360G-abc, as "
            "360Giving issued it."
        )
    return None


def three_sixty_giving_settings() -> tuple[str, str]:
    problem = three_sixty_giving_problem()
    if problem is not None:
        raise ThreeSixtyGivingNotConfigured(problem)
    return settings.LEDGER_360GIVING_PREFIX.strip(), settings.LEDGER_OFFICE_ORG_ID.strip()


def beneficiary_location() -> BeneficiaryLocation | None:
    name = settings.LEDGER_BENEFICIARY_LOCATION_NAME.strip()
    if not name:
        return None
    return BeneficiaryLocation(
        name=name,
        geo_code=settings.LEDGER_BENEFICIARY_LOCATION_CODE.strip(),
        geo_code_type=settings.LEDGER_BENEFICIARY_LOCATION_CODE_TYPE.strip(),
    )


def three_sixty_giving_export(fund: Fund) -> ThreeSixtyGivingExport:
    """The fund's allocations as 360Giving grants, in line order, with the package they make. Only
    approved amounts are published; a line with nothing approved yet is left out."""
    prefix, office_id = three_sixty_giving_settings()
    fund = Fund.objects.select_related("funder").get(pk=fund.pk)
    award = Q(entries__kind=LedgerEntry.Kind.AWARD)
    lines = (
        Allocation.objects.for_fund(fund)
        .filter(has_approved_award())
        .with_awarded()
        .annotate(
            award_date=Min("entries__effective_date", filter=award),
            # What is published is the approved amount, so it last changed when an entry was approved.
            last_modified=Max(
                "entries__approved_at", filter=Q(entries__kind__in=LedgerEntry.Kind.awarded_kinds())
            ),
        )
        .select_related("organisation", "thematic_area", "funding_category")
        .order_by("line_number")
    )
    period = f"{long_date(fund.spend_start)} to {long_date(fund.spend_end)}"
    location = beneficiary_location()
    grants = []
    for line in lines:
        if line.award_date is None:
            raise ThreeSixtyGivingNotConfigured(
                f"Line {line.line_number} of {fund.code} has no award entry, so it has no award date; "
                "record its award before publishing."
            )
        organisation = line.organisation
        identifier, generated = recipient_identifier(
            org_identifier=organisation.org_identifier,
            charity_number=organisation.charity_number,
            company_number=organisation.company_number,
            prefix=prefix,
            internal_id=organisation.pk,
        )
        grants.append(
            Grant(
                identifier=f"{prefix}-{fund.code}-{line.line_number}",
                title=f"{fund.name}: {_with_service(organisation.name, line.service)}",
                description=(
                    f"{line.funding_category.name} allocation ({line.thematic_area.name}) from the "
                    f"{fund.funder.name}'s {fund.name}, spend period {period}; line {line.line_number} "
                    "of the fund's allocation table."
                ),
                amount_awarded=money.from_aggregate(line.awarded).amount,
                award_date=line.award_date,
                planned_start=fund.spend_start,
                planned_end=fund.spend_end,
                recipient=Recipient(
                    identifier=identifier,
                    name=organisation.name,
                    charity_number=organisation.charity_number,
                    company_number=organisation.company_number,
                    identifier_is_generated=generated,
                ),
                funder_identifier=office_id,
                funder_name=settings.LEDGER_OFFICE_NAME,
                programme_code=fund.code,
                programme_title=fund.name,
                last_modified=timezone.localtime(line.last_modified),
                beneficiary_location=location,
            )
        )
    package = package_json(
        grants,
        title=f"{settings.LEDGER_OFFICE_NAME}: {fund.name} ({fund.code})",
        publisher_name=settings.LEDGER_OFFICE_NAME,
        publisher_id=office_id,
        issued=timezone.localdate(),
    )
    return ThreeSixtyGivingExport(grants=grants, package=package)


def _with_service(name: str, service: str) -> str:
    return f"{name}, {service}" if service else name


def allocation_rows() -> QuerySet[Allocation]:
    """Allocation lines with what a table shows of them, their money included (stored figures),
    in one query."""
    return (
        Allocation.objects.select_related("fund", "organisation", "thematic_area", "funding_category")
        .with_stored_figures()
        # Every line has its figures (a trigger adds them): an inner join, which lets the database
        # start from the figures' amount index when the table is sorted by amount.
        .filter(figures__isnull=False)
    )


def allocations_total(lines: QuerySet[Allocation]) -> Money:
    """The approved amount of the given (perhaps filtered) lines, summed by the database in one query
    from their stored figures."""
    return money.from_aggregate(lines.order_by().aggregate(total=Sum("figures__awarded"))["total"])


def group_totals(**scope) -> tuple[int, Money]:
    """How many lines a filter by fund, funding category and thematic area only selects, and their
    approved amount, in one query over the few stored group rows they fall in (`scope`: field
    lookups on `GroupFigures`, e.g. fund=..., funding_category=...)."""
    totals = GroupFigures.objects.filter(**scope).aggregate(count=Sum("allocations"), total=Sum("awarded"))
    return totals["count"] or 0, money.from_aggregate(totals["total"])


@dataclass(frozen=True)
class Dashboard:
    summaries: list[FundSummary]
    selected: list[Fund]
    by_category: list[Subtotal]
    chosen: bool  # False: no known fund was ticked, so the totals are across every fund

    @cached_property  # asked once per fund on the dashboard
    def selected_codes(self) -> set[str]:
        return {fund.code for fund in self.selected}

    @property
    def ticked_codes(self) -> set[str]:
        """The funds whose box shows ticked: none when the totals are across every fund."""
        return self.selected_codes if self.chosen else set()

    @property
    def category_total(self) -> Money:
        return money.total(row.amount for row in self.by_category)


def dashboard(fund_codes: list[str]) -> Dashboard:
    """Every fund with its reconciliation, and category totals across the chosen funds (all when
    none is chosen), in three queries over the stored figures (a few rows per fund)."""
    summaries = fund_summaries()
    chosen = [summary.fund for summary in summaries if summary.fund.code in fund_codes]
    selected = chosen or [summary.fund for summary in summaries]
    groups, budgets = GroupFigures.objects.all(), CategoryBudget.objects.all()
    if chosen:  # else every fund: no list of hundreds of ids to send
        groups, budgets = groups.filter(fund__in=chosen), budgets.filter(fund__in=chosen)
    by_category = stored_category_subtotals(groups, budgets)
    return Dashboard(summaries=summaries, selected=selected, by_category=by_category, chosen=bool(chosen))


@dataclass(frozen=True)
class OrganisationPage:
    organisation: Organisation
    lines: QuerySet[Allocation]
    by_fund: list[Subtotal]

    @property
    def total(self) -> Money:
        return money.total(row.amount for row in self.by_fund)

    @property
    def line_count(self) -> int:
        return sum(row.line_count for row in self.by_fund)


def organisation_page(organisation: Organisation) -> OrganisationPage:
    return OrganisationPage(
        organisation=organisation,
        lines=allocation_rows().filter(organisation=organisation),
        by_fund=subtotals(
            Allocation.objects.filter(organisation=organisation), "fund__code", "fund__name", ["fund__code"]
        ),
    )


def organisation_summaries() -> QuerySet[Organisation]:
    """Every organisation with its number of lines and amount across funds, in one query."""
    return Organisation.objects.annotate(
        line_count=counted_line_count("allocations__id", "allocations__entries"),
        awarded=awarded_sum("allocations__entries"),
    ).order_by("name")


def next_line_number(fund: Fund) -> int:
    highest = Allocation.objects.filter(fund=fund).aggregate(highest=Max("line_number"))["highest"]
    return (highest or 0) + 1


def long_date(day: datetime.date) -> str:
    """23 March 2020 (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"


def import_snapshot(fund: Fund) -> LedgerSnapshot:
    """What an import of a file into `fund` is checked against: every organisation, the reference data,
    the fund's lines with their amounts and its reconciliation, in a fixed number of queries.

    Amounts are as recorded, approved or awaiting approval: an import's variations, like a form's,
    bring a line's recorded amount to the figure in the file, and its entries await approval too.
    """
    lines = (
        Allocation.objects.for_fund(fund)
        .with_awarded(Approval.RECORDED)
        .order_by("line_number")
        .values_list(
            "pk",
            "line_number",
            "organisation_id",
            "service",
            "thematic_area_id",
            "funding_category_id",
            "awarded",
        )
    )
    return LedgerSnapshot(
        organisations=list(Organisation.objects.order_by("name")),
        thematic_areas=list(ThematicArea.objects.all()),
        funding_categories=list(FundingCategory.objects.all()),
        lines=[
            ExistingLine(*values[:-1], awarded=money.from_aggregate(values[-1]).amount) for values in lines
        ],
        reconciliation=reconcile(fund, Approval.RECORDED),
    )


def import_preview(fund: Fund, *, file_name: str, content: bytes) -> ImportPlan:
    """What importing `content` into `fund` would do, written nowhere. Raises ImportRefused when the
    file cannot be read at all; otherwise problems are on the plan."""
    sheet = read_workbook(content, file_name)
    return build_plan(fund, sheet, import_snapshot(fund))


def import_records(fund: Fund) -> QuerySet[ImportRecord]:
    return ImportRecord.objects.filter(fund=fund).select_related("imported_by")
