"""The grant allocation ledger's data model.

Design overview
---------------
An office (the OPCC) receives a **Fund** from a **Funder** (the MoJ's Extraordinary Covid Fund, say).
The award paperwork states a *control total*; revisions of that figure are kept as
**ControlTotalRevision** rows. A fund may ring-fence part of its money per **FundingCategory**
(**CategoryBudget**).

The office shares the fund out in **Allocation** lines, one per provider service, numbered in the
order of the source table. An allocation names an **Organisation** (one organisation may hold several
lines), a **ThematicArea** and a **FundingCategory**.

Money on an allocation is never a bare editable number. It lives in **LedgerEntry** rows: an award,
then variations up or down. An allocation's amount is the sum of its entries and a fund's ledger
total the sum over its allocations; both are computed by the database (`with_awarded()`,
`grants.reconciliation`). Entries are append-only: a mistake is corrected by a new entry.

Invariants the database can hold are constraints with names that read as sentences: GBP only, two
decimal places, positive awards, non-zero variations, one award per allocation, unique line numbers
per fund. On PostgreSQL the money columns are declared `numeric` without a scale so that a third
decimal place reaches the CHECK constraint instead of being rounded away on the way in.

Names (organisations, funders, funds, thematic areas, funding categories) and services never begin
with what a spreadsheet reads as a formula (`FORMULA_STARTS`): a validator at entry and a CHECK in
the database, so that every export, the 360Giving CSV whose names must stay exact among them, is
safe to open in Excel.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Length, Lower, Round
from django.db.models.lookups import Exact
from django.utils import timezone
from djmoney.models.fields import MoneyField

from grants import money


class GBPMoneyField(MoneyField):
    """A `MoneyField` in pounds with two decimal places.

    On PostgreSQL `numeric(14, 2)` would round 1.005 to 1.01 before any constraint saw it, so the
    column is plain `numeric` and the two-places and size rules are CHECK constraints
    (`money_constraints()`), which hold on SQLite as well.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", money.MAX_DIGITS)
        kwargs.setdefault("decimal_places", money.DECIMAL_PLACES)
        kwargs.setdefault("default_currency", money.GBP)
        kwargs.setdefault("currency_choices", [(money.GBP, "Pound sterling")])
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "numeric"
        return super().db_type(connection)


def money_constraints(model: str, field: str) -> list[models.CheckConstraint]:
    """CHECK constraints every money column carries: GBP, two decimal places, within 14 digits."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}_currency": money.GBP}),
            name=f"{model}_{field}_is_in_gbp",
            violation_error_message="Amounts must be in pounds sterling (GBP).",
        ),
        models.CheckConstraint(
            condition=Q(**{field: Round(F(field), money.DECIMAL_PLACES)}),
            name=f"{model}_{field}_is_in_whole_pence",
            violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{field}__lt": money.LIMIT, f"{field}__gt": -money.LIMIT}),
            name=f"{model}_{field}_is_under_a_trillion",
            violation_error_message="Amounts must be less than £1,000,000,000,000.",
        ),
    ]


# What a spreadsheet (Excel, LibreOffice) reads as the start of a formula when a CSV or a typed cell
# begins with it (OWASP, "CSV injection"). Names and services may not begin with any of these, so
# that every export can carry them exactly, the 360Giving CSV included (grants.exports).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_STARTS_IN_WORDS = "=, +, -, @, a tab or a carriage return"


def starts_like_a_formula(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def formula_message(what: str) -> str:
    return (
        f"{what} cannot begin with {FORMULA_STARTS_IN_WORDS}: a spreadsheet opening an export would "
        "run it as a formula. Remove or reword the first character."
    )


def not_a_formula(value: str) -> None:
    """Validator for names and services: refuse text a spreadsheet would read as a formula."""
    if starts_like_a_formula(value):
        raise ValidationError(formula_message("This text"), code="formula")


def not_a_formula_constraint(model: str, field: str, what: str) -> models.CheckConstraint:
    """The database's copy of `not_a_formula` for one column, on both databases."""
    starts = Q()
    for start in FORMULA_STARTS:
        starts |= Q(**{f"{field}__startswith": start})
    return models.CheckConstraint(
        condition=~starts,
        name=f"{model}_{field}_does_not_begin_like_a_formula",
        violation_error_message=formula_message(what),
    )


def decision_constraints(
    model: str, noun: str, author: str, outside_flag: str = ""
) -> list[models.CheckConstraint]:
    """CHECK constraints for a row that awaits a decision (an entry, a proposed change): it is
    approved by someone other than its `author`, with who and when (or, where `outside_flag` is
    given, approved before it reached the ledger, with no approver); rejected (or withdrawn) with
    who, when and why; and never both."""
    approved_by_someone = Q(approved_at__isnull=True) | Q(approved_by__isnull=False)
    if outside_flag:
        approved_by_someone |= Q(**{outside_flag: True, "approved_by__isnull": True})
    constraints = [
        models.CheckConstraint(
            condition=Q(approved_by__isnull=True) | Q(approved_at__isnull=False),
            name=f"{model}_approver_has_an_approval_time",
            violation_error_message="An approval needs its date and time.",
        ),
        models.CheckConstraint(
            condition=approved_by_someone,
            name=f"{model}_approval_names_its_approver",
            violation_error_message=f"{noun.capitalize()} is approved by a named person.",
        ),
        models.CheckConstraint(
            condition=Q(approved_by__isnull=True)
            | Q(**{f"{author}__isnull": True})
            | ~Q(approved_by=F(author)),
            name=f"{model}_is_approved_by_someone_else",
            violation_error_message=(
                f"{noun.capitalize()} must be approved by someone other than who recorded it."
            ),
        ),
        models.CheckConstraint(
            condition=Q(rejected_at__isnull=True, rejected_by__isnull=True, rejection_reason="")
            | (Q(rejected_at__isnull=False, rejected_by__isnull=False) & ~Q(rejection_reason="")),
            name=f"{model}_rejection_has_who_when_and_why",
            violation_error_message="A rejection or withdrawal needs who, when and why.",
        ),
        models.CheckConstraint(
            condition=Q(approved_at__isnull=True) | Q(rejected_at__isnull=True),
            name=f"{model}_is_not_both_approved_and_rejected",
            violation_error_message=f"{noun.capitalize()} is either approved or rejected, not both.",
        ),
    ]
    if outside_flag:
        constraints.append(
            models.CheckConstraint(
                condition=Q(**{outside_flag: False}) | Q(approved_at__isnull=False, approved_by__isnull=True),
                name=f"{model}_approved_outside_the_ledger_has_no_approver",
                violation_error_message="An entry approved before it reached the ledger names no approver.",
            )
        )
    return constraints


class Versioned(models.Model):
    """A row people edit in forms. `version` goes up by one with every saved change
    (`services.check_and_bump_version`), so a form opened before a colleague's save is refused
    instead of silently undoing it."""

    version = models.PositiveIntegerField(
        default=1,
        db_default=1,
        editable=False,
        help_text="Goes up by one with every saved change, so that a form opened before a colleague's "
        "change cannot overwrite it.",
    )

    class Meta:
        abstract = True


class CodedQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class ReferenceData(Versioned):
    """Reference data with a stable code that fixtures, imports and exports refer to."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable identifier; never reused.")
    name = models.CharField(max_length=100, unique=True, validators=[not_a_formula])
    description = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = CodedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["sort_order", "name"]
        constraints = [
            # Workbook formulas (SUMIFS) match names ignoring case, so the names must differ by more.
            models.UniqueConstraint(
                Lower("name"),
                name="%(class)s_name_is_unique_ignoring_case",
                violation_error_message="This name is taken (names must differ by more than capitals).",
            ),
            not_a_formula_constraint("%(class)s", "name", "A name"),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class ThematicArea(ReferenceData):
    """The area of need a line serves (Sexual Violence, Domestic Abuse)."""

    class Meta(ReferenceData.Meta):
        verbose_name = "thematic area"


class FundingCategory(ReferenceData):
    """The funder's category for a line (Sexual Violence, DA PCC commissioned, ...)."""

    class Meta(ReferenceData.Meta):
        verbose_name = "funding category"
        verbose_name_plural = "funding categories"


class Funder(Versioned):
    """A body the office receives grants from, e.g. the Ministry of Justice."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, unique=True, validators=[not_a_formula])
    short_name = models.CharField(max_length=50, blank=True, help_text="e.g. MoJ")
    org_identifier = models.CharField(
        "organisation identifier",
        max_length=100,
        blank=True,
        help_text="An org-id.guide identifier, e.g. GB-GOR-D18 for the Ministry of Justice.",
    )

    objects = CodedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [not_a_formula_constraint("funder", "name", "A funder's name")]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class FundQuerySet(CodedQuerySet):
    def with_ledger_total(self):
        """Annotate `ledger_total` (a Decimal, zero when the fund has no entries) in one query: the
        approved awards and variations, added up from the stored figures of the fund's few groups
        of lines (grants/figures.py) rather than from its entries."""
        groups = (
            GroupFigures.objects.filter(fund=models.OuterRef("pk"))
            .order_by()
            .values("fund")
            .annotate(total=Sum("awarded"))
            .values("total")
        )
        return self.annotate(
            ledger_total=Coalesce(
                models.Subquery(groups),
                Value(money.zero().amount),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            )
        )


class Fund(Versioned):
    """A grant the office receives from a funder, with the control total on its award paperwork."""

    code = models.SlugField(max_length=50, unique=True, help_text="Short stable code, e.g. moj-ecf-2020.")
    name = models.CharField(max_length=300, validators=[not_a_formula])
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="funds")
    spend_start = models.DateField("spend period start")
    spend_end = models.DateField("spend period end")
    control_total = GBPMoneyField(
        help_text="The amount on the funder's award paperwork. Changes are kept in the fund's history."
    )
    notes = models.TextField(blank=True)

    objects = FundQuerySet.as_manager()

    class Meta:
        ordering = ["-spend_start", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(spend_start__lte=F("spend_end")),
                name="fund_spend_period_starts_on_or_before_it_ends",
                violation_error_message="The spend period must start on or before the day it ends.",
            ),
            models.CheckConstraint(
                condition=Q(control_total__gt=0),
                name="fund_control_total_is_positive",
                violation_error_message="The control total must be more than £0.00.",
            ),
            *money_constraints("fund", "control_total"),
            not_a_formula_constraint("fund", "name", "A fund's name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def natural_key(self):
        return (self.code,)


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that record history: they are added, never updated or deleted through the ORM."""

    def _refuse(self):
        name = str(self.model._meta.verbose_name_plural)
        raise ValidationError(f"{name[0].upper()}{name[1:]} are append-only.")

    def update(self, **kwargs):
        self._refuse()

    def delete(self):
        self._refuse()


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(
                f"A {self._meta.verbose_name} cannot be changed once recorded; record a new one."
            )
        # An INSERT, never an UPDATE, even when a caller has set the primary key of an existing row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(
            f"A {self._meta.verbose_name} cannot be deleted; record a correcting entry instead."
        )


class ControlTotalRevision(AppendOnlyModel):
    """A change to a fund's control total, e.g. after a revised award letter."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="control_total_revisions")
    previous_amount = GBPMoneyField()
    new_amount = GBPMoneyField()
    memo = models.TextField(help_text="Why it changed, e.g. the revised award letter's date.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "recorded_at", "pk"]
        constraints = [
            *money_constraints("control_total_revision", "previous_amount"),
            *money_constraints("control_total_revision", "new_amount"),
        ]

    def __str__(self):
        return (
            f"{self.fund.code}: {money.format_gbp(self.previous_amount)} to "
            f"{money.format_gbp(self.new_amount)}"
        )


class CategoryBudget(Versioned):
    """Part of a fund ring-fenced for one funding category."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="category_budgets")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    amount = GBPMoneyField()

    class Meta:
        ordering = ["fund", "funding_category__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "funding_category"],
                name="category_budget_is_set_once_per_fund_and_category",
                violation_error_message="This fund already has a budget for that category.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="category_budget_amount_is_positive",
                violation_error_message="A category budget must be more than £0.00.",
            ),
            *money_constraints("category_budget", "amount"),
        ]

    def __str__(self):
        return f"{self.fund.code} {self.funding_category}: {money.format_gbp(self.amount)}"


CHARITY_NUMBER = RegexValidator(
    r"^(\d{6,8}(-\d{1,2})?|SC\d{6}|NIC\d{6})$",
    "A charity number is 6 to 8 digits (e.g. 1106046), SC and 6 digits in Scotland (SC012345) "
    "or NIC and 6 digits in Northern Ireland (NIC100002).",
)
COMPANY_NUMBER = RegexValidator(
    r"^(\d{8}|[A-Z]{2}\d{6})$",
    "A company number has 8 characters as Companies House writes it, leading zeros included "
    "(e.g. 01234567 or SC123456).",
)
ORG_IDENTIFIER = RegexValidator(
    r"^[A-Z]{2}-[A-Z0-9]+-\S+$",
    "An organisation identifier is a list code and an id as on org-id.guide, e.g. GB-EDU-123456.",
)


class OrganisationQuerySet(models.QuerySet):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class Organisation(Versioned):
    """A provider that receives allocations."""

    name = models.CharField(max_length=300, validators=[not_a_formula])
    short_name = models.CharField(max_length=50, blank=True, help_text="Acronym, e.g. BCWA.")
    charity_number = models.CharField(max_length=20, blank=True, validators=[CHARITY_NUMBER])
    company_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[COMPANY_NUMBER],
        help_text="As Companies House writes it: 8 characters, leading zeros included.",
    )
    org_identifier = models.CharField(
        "organisation identifier",
        max_length=100,
        blank=True,
        validators=[ORG_IDENTIFIER],
        help_text=(
            "An org-id.guide identifier (e.g. GB-EDU-123456) to use in open data instead of one made "
            "from the charity or company number."
        ),
    )
    notes = models.TextField(blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organisation_name_is_unique_ignoring_case",
                violation_error_message="An organisation with this name already exists.",
            ),
            not_a_formula_constraint("organisation", "name", "An organisation's name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def natural_key(self):
        return (self.name,)


class LedgerEntryQuerySet(AppendOnlyQuerySet):
    def get_by_natural_key(self, entry_uuid):
        return self.get(uuid=entry_uuid)

    def awarded(self):
        """Entries that make up the amount awarded: the award and its variations."""
        return self.filter(kind__in=LedgerEntry.Kind.awarded_kinds())

    def approved(self):
        return self.filter(approved_at__isnull=False)

    def pending(self):
        """Awaiting a decision: neither approved nor rejected (or withdrawn)."""
        return self.filter(approved_at__isnull=True, rejected_at__isnull=True)

    def counted(self):
        """Approved or awaiting approval: every entry except those rejected or withdrawn."""
        return self.filter(rejected_at__isnull=True)


class Approval(StrEnum):
    """Which entries a sum counts: approved ones (what the totals and the MoJ return show), those
    awaiting approval, or both (every recorded entry except those rejected or withdrawn, which
    never count)."""

    APPROVED = "approved"
    PENDING = "pending"
    RECORDED = "recorded"


def kind_sum(kinds: list[str], entries: str = "entries", approval: Approval = Approval.APPROVED) -> Sum:
    """The database sum of the entries of `kinds` reached through `entries` (a relation path from
    the queried model; "" for LedgerEntry itself), counting approved, pending or all entries."""
    prefix = f"{entries}__" if entries else ""
    condition = Q(**{f"{prefix}kind__in": kinds}) & approval_condition(prefix, approval)
    return Sum(f"{prefix}amount", filter=condition)


def approval_condition(prefix: str, approval: Approval) -> Q:
    """The entries (reached through `prefix`, "" or ending in "__") that `approval` counts."""
    if approval is Approval.APPROVED:
        return Q(**{f"{prefix}approved_at__isnull": False})
    condition = Q(**{f"{prefix}rejected_at__isnull": True})
    if approval is Approval.PENDING:
        condition &= Q(**{f"{prefix}approved_at__isnull": True})
    return condition


def awarded_sum(entries: str = "entries", approval: Approval = Approval.APPROVED) -> Sum:
    """The amount awarded: the sum of the award and variation entries reached through `entries`."""
    return kind_sum(LedgerEntry.Kind.awarded_kinds(), entries, approval)


def counted_line_count(
    lines: str = "id", entries: str = "entries", approval: Approval = Approval.APPROVED
) -> Count:
    """How many lines have an approved award or variation: the lines the totals and the return count
    (or, with `approval`, lines with such entries awaiting approval, or recorded at all). `lines` is
    the path to the allocation's id and `entries` to its entries, from the queried model."""
    condition = Q(**{f"{entries}__kind__in": LedgerEntry.Kind.awarded_kinds()})
    condition &= approval_condition(f"{entries}__", approval)
    return Count(lines, distinct=True, filter=condition)


def has_approved_award(allocation_ref="pk"):
    """Exists() for an allocation (an OuterRef path) with an approved award or variation."""
    return models.Exists(
        LedgerEntry.objects.filter(allocation=models.OuterRef(allocation_ref)).awarded().approved()
    )


class AllocationQuerySet(models.QuerySet):
    def get_by_natural_key(self, fund_code, line_number):
        return self.get(fund__code=fund_code, line_number=line_number)

    def for_fund(self, fund):
        return self.filter(fund=fund)

    def with_awarded(self, approval: Approval = Approval.APPROVED):
        """Annotate `awarded` (Decimal): the sum of the approved award and its approved variations
        (or of those awaiting approval, or of all recorded)."""
        return self.annotate(awarded=_decimal_or_zero(awarded_sum(approval=approval)))

    def with_stored_figures(self):
        """The same annotations as `with_figures()`, read from each line's stored figures
        (`grants.figures`) instead of summed from its entries: what the pages sort, filter and page
        through without touching the entries."""
        return self.annotate(
            awarded=F("figures__awarded"),
            awarded_pending=F("figures__awarded_pending"),
            paid=F("figures__paid"),
            returned=F("figures__returned"),
        ).annotate(
            net_funding=F("paid") - F("returned"),
            still_to_pay=F("awarded") - F("paid"),
        )

    def with_figures(self):
        """Annotate each line's money, in the one query that fetches the lines (README, "Figures"):

        - `awarded`: approved award and variations; `awarded_pending`: those awaiting approval;
        - `paid`: payments to the provider; `returned`: underspend the provider sent back;
        - `net_funding` = paid - returned; `still_to_pay` = awarded - paid.

        Payments and returns count once recorded, approved or not (unless rejected or withdrawn),
        so that money already on its way is never paid twice.
        """
        kinds = LedgerEntry.Kind
        return self.annotate(
            awarded=_decimal_or_zero(awarded_sum()),
            awarded_pending=_decimal_or_zero(awarded_sum(approval=Approval.PENDING)),
            paid=_decimal_or_zero(kind_sum([kinds.PAYMENT], approval=Approval.RECORDED)),
            returned=_decimal_or_zero(kind_sum([kinds.UNDERSPEND_RETURNED], approval=Approval.RECORDED)),
        ).annotate(
            net_funding=F("paid") - F("returned"),
            still_to_pay=F("awarded") - F("paid"),
        )


def _decimal_or_zero(expression):
    return Coalesce(
        expression,
        Value(money.zero().amount),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
    )


class Allocation(Versioned):
    """One line of a fund's allocation table. Its amount is the sum of its ledger entries."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="allocations")
    line_number = models.PositiveIntegerField(help_text="The line's number in the source table.")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocations")
    service = models.CharField(
        max_length=200,
        blank=True,
        validators=[not_a_formula],
        help_text='Optional, e.g. "Sexual Violence Service".',
    )
    thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    source_text = models.CharField(
        "as printed in the source",
        max_length=400,
        blank=True,
        help_text="The organisation cell exactly as the source document printed it.",
    )
    notes = models.TextField(blank=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "line_number"]
        indexes = [
            # The fund page's table filtered by category, and its count, read only the fund's lines.
            models.Index(fields=["fund", "funding_category"], name="allocation_fund_category"),
            # The all-allocations table in its default order (line number, then fund): each number
            # is shared by a few hundred funds at most, so the first page is read from here.
            models.Index(fields=["line_number"], name="allocation_line_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "line_number"],
                name="allocation_line_number_is_unique_within_its_fund",
                violation_error_message="This fund already has a line with that number.",
            ),
            models.UniqueConstraint(
                fields=["fund", "organisation", "service"],
                name="allocation_organisation_service_is_unique_within_its_fund",
                violation_error_message=("This fund already has a line for that organisation and service."),
            ),
            models.CheckConstraint(
                condition=Q(line_number__gt=0),
                name="allocation_line_number_is_positive",
                violation_error_message="Line numbers start at 1.",
            ),
            not_a_formula_constraint("allocation", "service", "A service"),
        ]

    def __str__(self):
        label = f"{self.organisation.name} {self.service}".strip()
        return f"{self.fund.code} line {self.line_number}: {label}"

    def natural_key(self):
        return (self.fund.code, self.line_number)

    natural_key.dependencies = ["grants.fund", "grants.organisation"]


class LedgerEntry(AppendOnlyModel):
    """Money recorded against an allocation (or, for a return to the funder, against the fund).

    Never edited or deleted: a mistake is undone by a reversing entry (same kind, opposite amount,
    linked through `reverses`), and both stay visible. The one change a row ever takes is its
    approval, once, by someone other than who recorded it (the database refuses anything else).
    """

    class Kind(models.TextChoices):
        AWARD = "award", "Award"
        VARIATION = "variation", "Variation"
        PAYMENT = "payment", "Payment to provider"
        UNDERSPEND_RETURNED = "underspend_returned", "Underspend returned by provider"
        RETURNED_TO_FUNDER = "returned_to_funder", "Returned to funder"

        @classmethod
        def awarded_kinds(cls) -> list[str]:
            return [cls.AWARD, cls.VARIATION]

        @classmethod
        def referenced_kinds(cls) -> list[str]:
            """Kinds that move money and so carry a payment or remittance reference."""
            return [cls.PAYMENT, cls.UNDERSPEND_RETURNED, cls.RETURNED_TO_FUNDER]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    allocation = models.ForeignKey(
        Allocation,
        on_delete=models.PROTECT,
        related_name="entries",
        null=True,
        blank=True,
        help_text="Empty only for money the office returns to the funder.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = GBPMoneyField()
    effective_date = models.DateField(help_text="The date the award, change or payment took effect.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="Payment or remittance reference, e.g. BACS-2020-0142."
    )
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        help_text="The mistaken entry this one cancels.",
    )
    memo = models.TextField(help_text="Why this entry was recorded.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for entries loaded from a source document.",
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty while awaiting approval, and for decisions approved before they were loaded.",
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_outside_ledger = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Approved before it reached the ledger: a decision in the source document, or an "
        "entry that stood before approvals existed. Only a data load sets it.",
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who rejected it, or its recorder if they withdrew it.",
    )
    rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = models.TextField(blank=True, db_default="", editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "allocation", "recorded_at", "pk"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        permissions = [("approve_ledgerentry", "Can approve ledger entries recorded by someone else")]
        indexes = [
            # Every line's amount is a sum of its award and variations, approved or not: this index
            # answers it for a page of lines (and, on PostgreSQL, from the index alone).
            models.Index(
                fields=["allocation", "kind", "approved_at"],
                include=["amount"],
                name="entry_line_kind_approval",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["award", "variation", "payment", "underspend_returned", "returned_to_funder"]
                ),
                name="ledger_entry_kind_is_a_known_kind",
                violation_error_message="Unknown kind of ledger entry.",
            ),
            models.CheckConstraint(
                condition=Q(kind="returned_to_funder", allocation__isnull=True)
                | (~Q(kind="returned_to_funder") & Q(allocation__isnull=False)),
                name="ledger_entry_is_on_an_allocation_unless_returned_to_funder",
                violation_error_message="Only a return to the funder is recorded against the fund itself.",
            ),
            models.CheckConstraint(
                condition=Q(kind="variation")
                | Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0),
                name="ledger_entry_is_positive_unless_a_reversal_or_variation",
                violation_error_message="The amount must be more than £0.00.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="variation") | ~Q(amount=0),
                name="ledger_entry_variation_is_not_zero",
                violation_error_message="A variation of £0.00 changes nothing.",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "underspend_returned", "returned_to_funder"])
                | ~Q(reference=""),
                name="ledger_entry_money_movement_has_a_reference",
                violation_error_message="Give the payment or remittance reference.",
            ),
            models.UniqueConstraint(
                fields=["allocation"],
                condition=Q(kind="award", reverses__isnull=True),
                name="ledger_entry_allocation_has_one_award",
                violation_error_message="This allocation already has its award; record a variation.",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(rejected_at__isnull=True),
                name="ledger_entry_is_reversed_at_most_once",
                violation_error_message="This entry has already been reversed.",
            ),
            *decision_constraints("ledger_entry", "an entry", "recorded_by", "approved_outside_ledger"),
            *money_constraints("ledger_entry", "amount"),
        ]

    def __str__(self):
        target = f"line {self.allocation_id}" if self.allocation_id else f"fund {self.fund_id}"
        return f"{self.get_kind_display()} {money.format_gbp(self.amount)} on {target}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def is_rejected(self) -> bool:
        return self.rejected_at is not None

    @property
    def is_withdrawn(self) -> bool:
        """Rejected by its own recorder: withdrawn."""
        return self.rejected_at is not None and self.rejected_by_id == self.recorded_by_id

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.rejected_at is None

    def natural_key(self):
        return (str(self.uuid),)

    natural_key.dependencies = ["grants.fund", "grants.allocation"]


class LineChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(approved_at__isnull=True, rejected_at__isnull=True)


class LineChange(models.Model):
    """A change of a line's provider, service, funding category or thematic area, proposed on a
    line that already has approved money. It takes effect only when someone other than its
    proposer approves it; until then the line, and every figure and export, shows the line as it
    was. Rejected or withdrawn (rejected by its proposer), it stays on record and changes nothing.

    Rows are never deleted, and once written change only once: approved, or rejected.
    """

    CONTROLLED_FIELDS = ("organisation", "service", "thematic_area", "funding_category")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="changes")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="line_changes")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=200, blank=True, validators=[not_a_formula])
    thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    was_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    was_service = models.CharField(max_length=200, blank=True, validators=[not_a_formula])
    was_thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    was_funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(help_text="Why the line should change, e.g. the provider's letter of 3 May.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who rejected it, or its proposer if they withdrew it.",
    )
    rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = models.TextField(blank=True, db_default="", editable=False)

    objects = LineChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = "proposed change to a line"
        verbose_name_plural = "proposed changes to lines"
        permissions = [
            ("approve_linechange", "Can approve or reject changes to lines proposed by someone else")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation"],
                condition=Q(approved_at__isnull=True, rejected_at__isnull=True),
                name="line_change_one_awaits_approval_per_line",
                violation_error_message="A change to this line already awaits approval.",
            ),
            models.CheckConstraint(
                condition=~Q(
                    organisation=F("was_organisation"),
                    service=F("was_service"),
                    thematic_area=F("was_thematic_area"),
                    funding_category=F("was_funding_category"),
                ),
                name="line_change_changes_something",
                violation_error_message="The proposed change leaves the line as it is.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="line_change_gives_a_reason",
                violation_error_message="Say why the line should change.",
            ),
            *decision_constraints("line_change", "a proposed change", "proposed_by"),
            not_a_formula_constraint("line_change", "service", "A service"),
            not_a_formula_constraint("line_change", "was_service", "A service"),
        ]

    def __str__(self):
        return f"Change to line {self.allocation_id} proposed {self.proposed_at:%Y-%m-%d}"

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.rejected_at is None

    @property
    def is_withdrawn(self) -> bool:
        return self.rejected_at is not None and self.rejected_by_id == self.proposed_by_id

    @property
    def changes_payee(self) -> bool:
        return self.organisation_id != self.was_organisation_id

    def differences(self) -> list[tuple[str, object, object]]:
        """(field's label, as the line was, as proposed) for each field the change alters."""
        return [
            (Allocation._meta.get_field(name).verbose_name, getattr(self, f"was_{name}"), getattr(self, name))
            for name in self.CONTROLLED_FIELDS
            if getattr(self, f"was_{name}") != getattr(self, name)
        ]


class ReturnSubmissionQuerySet(models.QuerySet):
    def in_force(self):
        """Submissions that lock their fund: not reopened."""
        return self.filter(reopened_at__isnull=True)


class ReturnSubmission(models.Model):
    """A fund's MoJ return as sent: the exact workbook, its SHA-256, who sent it and when.

    While a submission is in force its fund's allocations and entries are locked. An approver may
    reopen the fund with a reason; the next submission is a new version, and every version's bytes
    stay downloadable. Rows are never deleted, and the database lets a row change only once: from
    in force to reopened.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="submissions")
    version = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200)
    workbook = models.BinaryField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now, editable=False)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopen_reason = models.TextField(blank=True)

    objects = ReturnSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "-version"]
        permissions = [("reopen_returnsubmission", "Can reopen a fund whose return was submitted")]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "version"],
                name="return_submission_version_is_unique_per_fund",
                violation_error_message="This fund already has a submission with that version.",
            ),
            models.UniqueConstraint(
                fields=["fund"],
                condition=Q(reopened_at__isnull=True),
                name="return_submission_one_in_force_per_fund",
                violation_error_message="This fund's return is already submitted; reopen it first.",
            ),
            models.CheckConstraint(
                condition=Q(version__gt=0),
                name="return_submission_version_is_positive",
                violation_error_message="Versions start at 1.",
            ),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True, reopened_by__isnull=True, reopen_reason="")
                | (Q(reopened_at__isnull=False, reopened_by__isnull=False) & ~Q(reopen_reason="")),
                name="return_submission_reopening_has_who_when_and_why",
                violation_error_message="Reopening a fund needs who, when and why.",
            ),
        ]

    def __str__(self):
        return f"{self.fund.code} return, version {self.version}"

    @property
    def in_force(self) -> bool:
        return self.reopened_at is None


class ImportRecord(AppendOnlyModel):
    """A spreadsheet applied to a fund: which file (its name and SHA-256), who, when, what it changed.

    Written in the same transaction as the lines it added and the variations it recorded. An import
    that would change nothing (the same file again) writes nothing, this record included.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, help_text="Of the file's bytes, in hex.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for an import run from the command line without --user.",
    )
    imported_at = models.DateTimeField(default=timezone.now, editable=False)
    lines_added = models.PositiveIntegerField()
    amounts_changed = models.PositiveIntegerField()
    lines_unchanged = models.PositiveIntegerField()
    organisations_created = models.PositiveIntegerField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "-imported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64),
                name="import_record_sha256_is_64_characters",
                violation_error_message="A SHA-256 is 64 hexadecimal digits.",
            ),
        ]

    def __str__(self):
        return f"{self.file_name} into {self.fund.code} at {self.imported_at:%Y-%m-%d %H:%M}"


class PendingImport(models.Model):
    """An uploaded file waiting for its preview to be confirmed; not ledger data.

    The web preview cannot hand a file back to the browser without JavaScript, so the bytes wait here,
    visible only to who uploaded them, and are re-read and re-checked against the ledger on confirming.
    Removed when applied, and a day after upload.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.file_name} for {self.fund_id}, waiting"


class RefusedAttempt(AppendOnlyModel):
    """A change a service refused: who tried what, on which row, and why it was refused.

    Written after the refused change is rolled back, in a transaction of its own, so the audit trail
    (which records this row like any other) names who tried even though nothing changed.
    """

    attempted_at = models.DateTimeField(default=timezone.now, editable=False)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a command run without --user.",
    )
    action = models.CharField(max_length=100, help_text="The service that refused, e.g. payment_record.")
    target = models.CharField(max_length=200, blank=True, help_text="What it was asked to change.")
    # Plain ids, as in the audit trail: the record outlives the rows it names.
    fund_id = models.BigIntegerField(null=True, blank=True)
    allocation_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["fund_id"], name="refused_attempt_fund_idx")]

    def __str__(self):
        return f"{self.action} refused at {self.attempted_at:%Y-%m-%d %H:%M}"


from grants.figures import FundFigures, GroupFigures, LineFigures  # noqa: E402,F401
