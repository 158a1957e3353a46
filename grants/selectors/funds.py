"""Reads for the fund pages, the fund list and the dashboard: stored figures, submissions, tables' rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import (
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from djmoney.money import Money

from grants import money
from grants.exports.three_sixty_giving import recipient_identifier
from grants.exports.three_sixty_giving_data import three_sixty_giving_problem
from grants.imports import ImportRefused
from grants.imports.reading import read_workbook
from grants.models import (
    Allocation,
    CategoryBudget,
    Fund,
    FundFigures,
    FundYear,
    GroupFigures,
    GroupYearFigures,
    ImportRecord,
    LedgerEntry,
    LineChange,
    Organisation,
    ReturnSubmission,
)
from grants.reconciliation import (
    FundReconciliation,
    Status,
    Subtotal,
    reconciliation_from_rows,
    status_for,
    stored_category_subtotals,
)
from grants.reconciliation.cash import CashPosition, fund_cash
from grants.reconciliation.years import YearReconciliation
from grants.selectors.approvals import pending_line_changes
from grants.selectors.profiles import FundProfile, fund_profile
from grants.years import FinancialYear


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
    awarded: Money  # approved awards and variations
    awarded_pending: Money  # awards and variations awaiting approval
    paid: Money  # to providers, recorded
    returned_by_providers: Money  # underspend providers sent back
    returned_to_funder: Money  # money the office sent back to the funder
    pending_entries: int

    @property
    def headroom(self) -> Money:
        """Control total less the approved allocations: what is left to allocate (negative when over)."""
        return money.difference(self.control_total, self.awarded)

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
        awarded=total("awarded"),
        awarded_pending=total("awarded_pending"),
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
    reading a few rows whatever the fund's size, as `grants.reconciliation` rows (`total`,
    `awarded_line_count`, `pending`, `pending_line_count` and the names) with the other figures."""
    rows = (
        GroupFigures.objects.filter(fund=fund, line_count__gt=0)
        .order_by()
        .values(
            "funding_category_id",
            "thematic_area_id",
            "awarded",
            "awarded_pending",
            "paid",
            "returned",
            "pending_entries",
            "awarded_line_count",
            "pending_line_count",
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
    cash: CashPosition
    names_changed: list[NameChange] = field(default_factory=list)

    @property
    def submission_in_force(self) -> ReturnSubmission | None:
        return next((submission for submission in self.submissions if submission.in_force), None)

    @cached_property  # one query, asked by the page's profile table
    def profile(self) -> FundProfile:
        return fund_profile(self.fund)


@dataclass(frozen=True)
class NameChange:
    """A line whose provider is named differently now from how the submitted return printed it."""

    allocation_id: int
    line_number: int
    submitted: str
    current: str


# {SHA-256: {line number: organisation as printed}}: a submission's bytes never change, so each is
# read once per process.
_SUBMITTED_NAMES: dict[str, dict[int, str]] = {}


def submitted_names(submission: ReturnSubmission) -> dict[int, str]:
    """{line number: organisation as printed} in the submitted return's bytes."""
    names = _SUBMITTED_NAMES.get(submission.sha256)
    if names is None:
        workbook = bytes(ReturnSubmission.objects.values_list("workbook", flat=True).get(pk=submission.pk))
        try:
            sheet = read_workbook(workbook, submission.file_name)
        except ImportRefused:
            return {}
        names = {line.line_number: line.organisation for line in sheet.lines}
        _SUBMITTED_NAMES[submission.sha256] = names
    return names


def names_changed_since(submission: ReturnSubmission) -> list[NameChange]:
    """Lines of the submission's fund whose provider has been renamed since the return was sent.
    Organisations stay editable on a submitted fund and its workbook is kept byte for byte, so the
    fund's page says where the two now differ."""
    submitted = submitted_names(submission)
    lines = (
        Allocation.objects.filter(fund=submission.fund_id, line_number__in=submitted)
        .order_by("line_number")
        .values_list("pk", "line_number", "organisation__name", "organisation__short_name")
    )
    changes = []
    for pk, number, name, short_name in lines:
        current = with_short_name(name, short_name)
        if current != submitted[number]:
            changes.append(NameChange(pk, number, submitted[number], current))
    return changes


def with_short_name(name: str, short_name: str) -> str:
    return f"{name} ({short_name})" if short_name else name


def fund_submissions(fund: Fund) -> list[ReturnSubmission]:
    """The fund's submitted returns, newest first, without their bytes."""
    return list(
        ReturnSubmission.objects.filter(fund=fund)
        .defer("workbook")
        .select_related("submitted_by", "reopened_by")
        .order_by("-version")
    )


def submission_in_force(fund: Fund | int | None) -> ReturnSubmission | None:
    """The fund's submitted return while it is in force (the fund is locked), or None. The one query
    the pages, the admin and the services' lock all ask."""
    fund_id = fund.pk if isinstance(fund, Fund) else fund
    if fund_id is None:
        return None
    return (
        ReturnSubmission.objects.in_force()
        .filter(fund_id=fund_id)
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
    """The fund's facts, its reconciliation and money (with the cash the office holds of it, in one
    query over its entries that move cash), its submitted returns and who lacks a registered number
    for open data.

    The reconciliation and money come from the stored figures (`grants.figures`): a few rows per
    fund however many lines it has. `reconcile(fund)` derives the same from the entries, for the
    MoJ return and the reconcile command; the test suite checks after every test that the two agree.
    """
    groups = fund_groups(fund)
    submissions = fund_submissions(fund)
    in_force = next((submission for submission in submissions if submission.in_force), None)
    return FundPage(
        fund=fund,
        # The page shows no breakdown by organisation; a region's fund has thousands of them.
        reconciliation=stored_reconciliation(fund, groups),
        money=fund_money(fund, groups),
        submissions=submissions,
        unregistered_recipients=unregistered_recipients(fund),
        open_data_ready=three_sixty_giving_problem() is None,
        pending_line_changes=list(pending_line_changes().filter(fund=fund)),
        cash=fund_cash(fund),
        names_changed=names_changed_since(in_force) if in_force else [],
    )


def allocation_rows() -> QuerySet[Allocation]:
    """Allocation lines with what a table shows of them, their money included (stored figures),
    in one query."""
    return (
        Allocation.objects.select_related("fund", "organisation", "thematic_area", "funding_category")
        .with_stored_figures()
        .with_pending_money()
        # Every line has its figures (a trigger adds them): an inner join, which lets the database
        # start from the figures' amount index when the table is sorted by amount.
        .filter(figures__isnull=False)
    )


def with_fund_lock(rows: QuerySet[Allocation]) -> QuerySet[Allocation]:
    """The lines, each saying whether its fund's submitted return is in force (`fund_locked`), in
    the same query: a table across funds then offers no change to a locked fund's lines."""
    in_force = ReturnSubmission.objects.in_force().filter(fund=OuterRef("fund"))
    return rows.annotate(fund_locked=Exists(in_force))


def year_allocation_rows(fund: Fund, year: FinancialYear) -> QuerySet[Allocation]:
    """The fund's lines with entries dated in `year`, each with that year's money from its stored
    figures for the year (`LineYearFigures`) under the names `allocation_rows()` gives the whole
    line's, so the same table, filter and footer show them; in one query."""
    in_year = FilteredRelation("year_figures", condition=Q(year_figures__year=year.start_year))
    return (
        Allocation.objects.select_related("fund", "organisation", "thematic_area", "funding_category")
        .alias(in_year=in_year)
        .annotate(
            awarded=F("in_year__awarded"),
            awarded_pending=F("in_year__awarded_pending"),
            paid=F("in_year__paid"),
            returned=F("in_year__returned"),
            paid_pending=F("in_year__paid_pending"),
            returned_pending=F("in_year__returned_pending"),
        )
        .annotate(
            net_funding=F("paid") - F("returned"),
            still_to_pay=F("awarded") - F("paid"),
            paid_approved=F("paid") - F("paid_pending"),
            returned_approved=F("returned") - F("returned_pending"),
        )
        # Said of the year's figures (an inner join): their (fund, year, amount) index gives the
        # first page of the year's lines by amount.
        .filter(in_year__fund=fund)
    )


def year_lines_total(lines: QuerySet[Allocation]) -> Money:
    """The approved amount in their year of the given `year_allocation_rows()`, summed in one query."""
    return money.from_aggregate(lines.order_by().aggregate(total=Sum("awarded"))["total"])


def group_year_totals(year: FinancialYear, **scope) -> tuple[int, Money]:
    """`group_totals()` for one financial year: how many lines have entries in the year and their
    approved amount in it, from the few stored group rows of the year (`GroupYearFigures`)."""
    totals = GroupYearFigures.objects.filter(year=year.start_year, **scope).aggregate(
        count=Sum("line_count"), total=Sum("awarded")
    )
    return totals["count"] or 0, money.from_aggregate(totals["total"])


def allocations_total(lines: QuerySet[Allocation]) -> Money:
    """The approved amount of the given (perhaps filtered) lines, summed by the database in one query
    from their stored figures."""
    return money.from_aggregate(lines.order_by().aggregate(total=Sum("figures__awarded"))["total"])


def group_totals(**scope) -> tuple[int, Money]:
    """How many lines a filter by fund, funding category and thematic area only selects, and their
    approved amount, in one query over the few stored group rows they fall in (`scope`: field
    lookups on `GroupFigures`, e.g. fund=..., funding_category=...)."""
    totals = GroupFigures.objects.filter(**scope).aggregate(count=Sum("line_count"), total=Sum("awarded"))
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
class YearDashboard:
    """Every fund's reconciliation for one financial year (`?year=2023-24` on the dashboard)."""

    year: FinancialYear
    summaries: list[YearReconciliation]
    funds: list[Fund]


def dashboard_for_year(year: FinancialYear) -> YearDashboard:
    """Every fund with its control total for `year` (its `FundYear` with the approved carry-forwards
    into and out of the year; none for a fund without a profile), the approved amount of its lines
    dated in the year, and so its variance and status, in one query over the stored figures by year
    (a few rows per fund and year) and the funds' own entries."""
    amount = DecimalField(max_digits=16, decimal_places=2)
    allocated = (
        GroupYearFigures.objects.filter(fund=OuterRef("pk"), year=year.start_year)
        .order_by()
        .values("fund")
        .annotate(total=Sum("awarded"), lines=Sum("awarded_line_count"))
    )
    profile = FundYear.objects.filter(fund=OuterRef("pk"))
    # The fund's approved carry-forwards of its control total dated in the year (in legs positive,
    # out legs negative): a few entries on the fund itself, read through its partial index.
    carried = (
        LedgerEntry.objects.filter(
            fund=OuterRef("pk"), allocation__isnull=True, kind=LedgerEntry.Kind.CARRIED_FORWARD
        )
        .approved()
        .filter(effective_date__gte=year.start, effective_date__lte=year.end)
        .order_by()
        .values("fund")
        .annotate(total=Sum("amount"))
    )
    funds = list(
        Fund.objects.select_related("funder").annotate(
            year_allocated=Subquery(allocated.values("total"), output_field=amount),
            year_lines=Subquery(allocated.values("lines")),
            year_control_total=Subquery(profile.filter(year=year.start_year).values("control_total")),
            year_carried=Subquery(carried.values("total"), output_field=amount),
            has_profile=Exists(profile),
        )
    )
    summaries = [
        YearReconciliation(
            year=year,
            control_total=(
                money.total(
                    [money.from_aggregate(fund.year_control_total), money.from_aggregate(fund.year_carried)]
                )
                if fund.has_profile
                else None
            ),
            carried_forward=money.from_aggregate(fund.year_carried),
            allocated=money.from_aggregate(fund.year_allocated),
            line_count=fund.year_lines or 0,
            fund_has_profile=fund.has_profile,
        )
        for fund in funds
    ]
    return YearDashboard(year=year, summaries=summaries, funds=funds)


def next_line_number(fund: Fund) -> int:
    highest = Allocation.objects.filter(fund=fund).aggregate(highest=Max("line_number"))["highest"]
    return (highest or 0) + 1


def import_records(fund: Fund) -> QuerySet[ImportRecord]:
    return ImportRecord.objects.filter(fund=fund).select_related("imported_by")


def unregistered_recipients(fund: Fund) -> list[Organisation]:
    """The fund's recipients whose 360Giving identifier would be made from the office's prefix.

    The database narrows them to those with no registered number or org-id (validated values hold no
    spaces), so a fund of thousands of registered recipients fetches none of them.
    """
    organisations = Organisation.objects.filter(
        Exists(Allocation.objects.filter(fund=fund, organisation=OuterRef("pk"))),
        org_identifier="",
        charity_number="",
        ni_charity_number="",
        company_number="",
    ).order_by("name")
    return [
        organisation
        for organisation in organisations
        if recipient_identifier(
            org_identifier=organisation.org_identifier,
            charity_number=organisation.charity_number,
            company_number=organisation.company_number,
            ni_charity_number=organisation.ni_charity_number,
            prefix="",
            internal_id=organisation.pk,
        )[1]
    ]
