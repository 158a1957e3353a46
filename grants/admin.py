"""Administrators' entry and correction of the ledger.

Every write goes through the services (grants/services/), as the web app's do, so the same rules
hold here: a fund whose MoJ return is submitted refuses changes to its facts, budgets and lines;
and every change form and inline carries the version its row was opened at (`VersionedForm`), so a
save after a colleague's is refused with what was typed still in the form.

Money is never edited in place: the allocation forms show an "Amount (£)" as recorded (approved or
awaiting approval) and saving a new figure records a variation entry for the difference through
`services.allocation_set_amount()`, which starts from that same recorded figure. Ledger
entries and control-total revisions are read-only here. Every money column is shown as £1,234.56.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from grants import audit_admin, money, services
from grants.exports.downloads import moj_return_response, moj_returns_zip_response
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    Funder,
    FundingCategory,
    ImportRecord,
    LedgerEntry,
    LineChange,
    Organisation,
    ReturnSubmission,
    ThematicArea,
)
from grants.selectors import FundSummary


def with_recorded_amount(allocations):
    """Annotate `recorded_amount`: the award and variations as recorded, approved or not, the figure
    `services.allocation_set_amount()` changes; from the lines' stored figures (grants/figures.py),
    so a changelist of a million lines neither joins nor groups their entries."""
    return allocations.annotate(recorded_amount=F("figures__awarded") + F("figures__awarded_pending"))


def locked_fund_message(fund_id: int | None) -> str | None:
    """What the services say for a fund whose submitted return is in force, or None. Said in the
    form so the page shows it; the services check again under the fund's lock."""
    submission = services.submission_in_force(fund_id)
    return None if submission is None else services.locked_message(submission)


class OpenedVersionField(forms.IntegerField):
    """The version a row had when its form was opened, posted back in a hidden input. It is never a
    change the user made, so a form with nothing else changed still counts as unchanged."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        return False


class VersionedForm(forms.ModelForm):
    """A change form (or inline row) for a `Versioned` model: it carries the version its row had
    when the page was built, and a changed row whose version has moved on since is refused with the
    services' message, the typed values kept. The services check again as they write
    (`services.check_and_bump_version`), so a save racing this check is refused too."""

    opened_version = OpenedVersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["opened_version"].initial = self.instance.version

    def opened_at(self) -> int | None:
        """The posted version, or None for a new row (the services then check nothing)."""
        if self.instance.pk is None:
            return None
        return self.cleaned_data.get("opened_version")

    def stale_message(self) -> str | None:
        """The services' refusal if this existing row was saved by someone since the form opened."""
        if self.instance.pk is None:
            return None
        posted = self.cleaned_data.get("opened_version")
        model = type(self.instance)
        current = model._base_manager.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if posted is not None and posted == current:
            return None
        return services.changed_since_opened_message(self.instance)

    def clean(self):
        cleaned = super().clean()
        if self.has_changed():
            stale = self.stale_message()
            if stale:
                self.add_error(None, stale)
        return cleaned


class VersionedInlineFormSet(BaseInlineFormSet):
    """Inline rows of a `VersionedForm`. A row ticked for deletion is not cleaned as a change (the
    formset ignores its errors), so its version, and its fund's lock, are checked here."""

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk is None:
                continue
            stale = form.stale_message()
            locked = locked_fund_message(getattr(form.instance, "fund_id", None))
            if stale or locked:
                raise ValidationError(stale or locked)


class ServiceAdmin(admin.ModelAdmin):
    """A model admin whose saves and deletes go through the services. The forms say beforehand what
    the services would refuse; a refusal only the services see (a colleague's save landing between
    the form's check and the write) rolls everything back and is shown as a message."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, f"Nothing was saved. {' '.join(error.messages)}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    # Django's bulk delete, replaced by this class's own (below) wherever the user may delete.
    actions = ["delete_selected"]

    def delete_model(self, request, obj):
        services.unused_rows_delete(rows=[obj], acting_user=request.user)

    def delete_queryset(self, request, queryset):
        services.unused_rows_delete(rows=list(queryset), acting_user=request.user)

    def delete_refusal(self, objects) -> str | None:
        """Why the services would refuse to delete `objects`, said before Django's confirmation page
        (which would otherwise only list what the rows still hold)."""
        return None

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        try:
            refusal = self.delete_refusal([obj]) if obj is not None else None
            if refusal:
                raise ValidationError(refusal)
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, f"Nothing was deleted. {' '.join(error.messages)}", messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, queryset):
        """Django's confirmation page and deletion, through `delete_queryset` (the services): all or
        nothing, and a refusal is said instead of a success."""
        try:
            refusal = self.delete_refusal(list(queryset))
            if refusal:
                raise ValidationError(refusal)
            with transaction.atomic():
                return django_delete_selected(self, request, queryset)
        except ValidationError as error:
            self.message_user(request, f"Nothing was deleted. {' '.join(error.messages)}", messages.ERROR)
            return None


def gbp_column(field: str, description: str):
    """A changelist column showing `field` (a Money attribute or a Decimal annotation) as £1,234.56."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return money.format_gbp(getattr(obj, field))

    return column


class KnownLabelAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that renders the selected option from a label its form already holds.

    The stock widget looks the selected organisation up again for every row; on a fund's inline
    lines the organisations come with the rows (select_related), so the page's queries stay the
    same however many lines the fund has.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_labels: dict[str, str] = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if v not in (None, "")]
        if not selected or not all(v in self.known_labels for v in selected):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for option_value in selected:
            label = self.known_labels[option_value]
            options.append(self.create_option(name, option_value, label, True, len(options)))
        return [(None, options, 0)]


class AllocationForm(VersionedForm):
    """An allocation with its amount: a new figure becomes a variation entry with a reason."""

    amount = forms.DecimalField(
        label="Amount (£)",
        max_digits=money.MAX_DIGITS,
        decimal_places=money.DECIMAL_PLACES,
        min_value=0,
        help_text=(
            "Pounds and pence, as recorded (approved or awaiting approval). Changing it records a "
            "variation entry for the difference, which waits for approval."
        ),
        # The amount the page showed comes back too, so a change someone else made meanwhile is
        # noticed instead of being silently undone.
        show_hidden_initial=True,
    )
    effective_date = forms.DateField(
        label="Effective date",
        initial=timezone.localdate,
        help_text="When the award or change took effect.",
    )
    memo = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        help_text=(
            "Required when the amount changes, kept with the ledger entry; and when the provider, "
            "service, category or area of a line with approved money changes, kept with the change, "
            "which then awaits approval."
        ),
    )

    # Fields of the amount's change, which `allocation_set_amount()` records (with its own check of
    # the figure the page showed); the rest are the line's own, which `allocation_update()` saves.
    MONEY_FIELDS = frozenset({"amount", "effective_date", "memo"})

    class Meta:
        model = Allocation
        fields = [
            "fund",
            "line_number",
            "organisation",
            "service",
            "thematic_area",
            "funding_category",
            "source_text",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = self.fields["organisation"].widget if "organisation" in self.fields else None
        widget = getattr(widget, "widget", widget)  # inside the admin's related-field wrapper
        if isinstance(widget, KnownLabelAutocompleteSelect) and self.instance.organisation_id:
            organisation = self.instance.organisation
            widget.known_labels = {str(organisation.pk): str(organisation)}
        if self.instance.pk is not None:
            # The admin querysets annotate `recorded_amount`, so a fund's inline lines cost no query each.
            recorded = (
                money.from_aggregate(self.instance.recorded_amount)
                if hasattr(self.instance, "recorded_amount")
                else services.allocation_awarded(self.instance, Approval.RECORDED)
            )
            self.fields["amount"].initial = recorded.amount

    def shown_amount(self):
        """The amount the page showed when it was opened (posted back in a hidden field)."""
        field = self.fields["amount"]
        shown = self._widget_data_value(field.hidden_widget(), self["amount"].html_initial_name)
        try:
            return field.to_python(shown)
        except forms.ValidationError:
            return None

    def clean(self):
        cleaned = super().clean()
        if self.has_changed():
            fund = cleaned.get("fund")
            locked = locked_fund_message(fund.pk if fund is not None else self.instance.fund_id)
            if locked:
                self.add_error(None, locked)
                return cleaned
        controlled = set(self.changed_data) & set(LineChange.CONTROLLED_FIELDS)
        if self.instance.pk is not None and controlled:
            refusal = services.line_change_refusal(self.instance)
            if refusal:
                self.add_error(None, refusal)
            elif services.line_change_needed(self.instance) and not cleaned.get("memo", "").strip():
                self.add_error("memo", services.LINE_CHANGE_REASON_NEEDED)
        amount = cleaned.get("amount")
        if amount is None:
            return cleaned
        if self.instance.pk is None:
            if amount <= 0:
                self.add_error("amount", "An award must be more than £0.00.")
            return cleaned
        if "amount" not in self.changed_data:
            return cleaned
        if not cleaned.get("memo", "").strip():
            self.add_error("memo", "Say why the amount changed; the reason is kept with the variation.")
        # Said here so the form can show it; the service checks again under the line's lock, against
        # the same recorded figure (approved or awaiting approval).
        current = services.allocation_awarded(self.instance, Approval.RECORDED)
        if self.shown_amount() != current.amount:
            self.add_error("amount", services.stale_amount_message(current))
        return cleaned

    def save_through_services(self, acting_user) -> Allocation:
        """Save via the services, so the admin writes exactly as every other entry point does."""
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.allocation_create(
                fund=data.get("fund") or self.instance.fund,
                line_number=data["line_number"],
                organisation=data["organisation"],
                service=data.get("service", ""),
                thematic_area=data["thematic_area"],
                funding_category=data["funding_category"],
                source_text=data.get("source_text", ""),
                notes=data.get("notes", ""),
                amount=data["amount"],
                effective_date=data["effective_date"],
                memo=data.get("memo") or "Award",
                acting_user=acting_user,
            )
        allocation = self.instance
        if set(self.changed_data) - self.MONEY_FIELDS:
            # The version the form was opened at: a colleague's save since is refused, not undone.
            allocation = services.allocation_update(
                allocation=self.instance,
                acting_user=acting_user,
                expected_version=self.opened_at(),
                reason=data.get("memo", ""),
            )
        if "amount" in self.changed_data:
            services.allocation_set_amount(
                allocation=allocation,
                amount=data["amount"],
                expected_current=self.shown_amount(),
                effective_date=data["effective_date"],
                memo=data.get("memo", ""),
                acting_user=acting_user,
            )
        return allocation


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fk_name = "allocation"
    fields = [
        "kind",
        "amount_display",
        "effective_date",
        "reference",
        "reverses",
        "memo",
        "recorded_by",
        "recorded_at",
        "approved_by",
        "approved_at",
    ]
    readonly_fields = fields
    amount_display = gbp_column("amount", "Amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "approved_by", "reverses")


class ControlTotalRevisionInline(ReadOnlyInline):
    model = ControlTotalRevision
    verbose_name_plural = "control total history"
    fields = ["previous_display", "new_display", "memo", "recorded_by", "recorded_at"]
    readonly_fields = fields
    previous_display = gbp_column("previous_amount", "From")
    new_display = gbp_column("new_amount", "To")

    def get_queryset(self, request):
        # Each row's title names its fund.
        return super().get_queryset(request).select_related("recorded_by", "fund")


class CategoryBudgetForm(VersionedForm):
    class Meta:
        model = CategoryBudget
        fields = ["funding_category", "amount"]

    def clean(self):
        cleaned = super().clean()
        if self.has_changed():
            locked = locked_fund_message(self.instance.fund_id)
            if locked:
                self.add_error(None, locked)
        return cleaned


class CategoryBudgetInline(admin.TabularInline):
    model = CategoryBudget
    form = CategoryBudgetForm
    formset = VersionedInlineFormSet
    fields = ["funding_category", "amount", "opened_version"]
    extra = 0
    verbose_name_plural = "ring-fenced budgets per funding category"


class AllocationInline(admin.TabularInline):
    model = Allocation
    form = AllocationForm
    formset = VersionedInlineFormSet
    extra = 1
    can_delete = False
    fields = [
        "opened_version",
        "line_number",
        "organisation",
        "service",
        "thematic_area",
        "funding_category",
        "amount",
        "effective_date",
        "memo",
    ]
    autocomplete_fields = ["organisation"]
    ordering = ["line_number"]

    def get_queryset(self, request):
        return with_recorded_amount(super().get_queryset(request).select_related("organisation", "fund"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["widget"] = KnownLabelAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in {"thematic_area", "funding_category"}:
            # Reference data: read the options once for the page, not once per line.
            field.choices = list(field.choices)
        return field


class FundForm(VersionedForm):
    control_total_memo = forms.CharField(
        label="Reason for a change to the control total",
        required=False,
        max_length=500,
        help_text="Required when the control total changes, e.g. the revised award letter's date.",
    )

    class Meta:
        model = Fund
        fields = [
            "code",
            "name",
            "funder",
            "spend_start",
            "spend_end",
            "control_total",
            "control_total_memo",
            "notes",
            "opened_version",
        ]

    def clean(self):
        cleaned = super().clean()
        changed = self.instance.pk is not None and "control_total" in self.changed_data
        if changed and not cleaned.get("control_total_memo", "").strip():
            self.add_error(
                "control_total_memo",
                "Say why the control total changed; the reason is kept in the fund's history.",
            )
        facts = [name for name in services.FUND_FACTS if name in self.changed_data]
        locked = locked_fund_message(self.instance.pk) if facts and self.instance.pk else None
        for name in facts if locked else []:
            self.add_error(name, locked)
        return cleaned


@admin.register(Fund)
class FundAdmin(ServiceAdmin):
    form = FundForm
    list_display = [
        "code",
        "name",
        "funder",
        "spend_start",
        "spend_end",
        "control_total_display",
        "ledger_total_display",
        "variance_display",
        "status",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["funder"]
    search_fields = ["code", "name", "funder__name", "funder__short_name"]
    list_select_related = ["funder"]
    inlines = [CategoryBudgetInline, AllocationInline, ControlTotalRevisionInline]
    actions = ["delete_selected", "download_moj_return"]

    control_total_display = gbp_column("control_total", "Control total")
    ledger_total_display = gbp_column("ledger_total", "Ledger total")

    def get_queryset(self, request):
        return super().get_queryset(request).with_ledger_total()

    @staticmethod
    def _summary(obj) -> FundSummary:
        return FundSummary(fund=obj, ledger_total=money.from_aggregate(obj.ledger_total))

    @admin.display(description="Variance")
    def variance_display(self, obj):
        return money.format_gbp(self._summary(obj).variance)

    @admin.display(description="Reconciliation")
    def status(self, obj):
        return str(self._summary(obj).status)

    @admin.action(description="Download MoJ return (.xlsx; a .zip for several funds)")
    def download_moj_return(self, request, queryset):
        funds = list(queryset.select_related("funder").order_by("code"))
        if len(funds) == 1:
            return moj_return_response(funds[0], user=request.user)
        return moj_returns_zip_response(funds, user=request.user)

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed():
            return  # only its inlines changed: the fund's own version stays as it is
        services.fund_save(
            fund=obj,
            acting_user=request.user,
            memo=form.cleaned_data.get("control_total_memo", ""),
            expected_version=form.opened_at(),
        )

    def delete_refusal(self, objects) -> str | None:
        return next(filter(None, (locked_fund_message(fund.pk) for fund in objects)), None)

    def delete_model(self, request, obj):
        services.fund_delete(fund=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        services.funds_delete(funds=list(queryset), acting_user=request.user)

    def save_formset(self, request, form, formset, change):
        # The admin's change message reads these lists, which formset.save() would have set.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is CategoryBudget:
            self._save_budgets(request, form, formset)
            return
        if formset.model is not Allocation:
            return  # the control total's history is read-only here
        for line_form in formset.forms:
            if not line_form.has_changed():
                continue
            adding = line_form.instance.pk is None
            line_form.instance.fund = form.instance
            allocation = line_form.save_through_services(request.user)
            if adding:
                formset.new_objects.append(allocation)
            else:
                formset.changed_objects.append((allocation, line_form.changed_data))

    def _save_budgets(self, request, form, formset):
        for budget_form in formset.forms:
            if budget_form.instance.pk is not None and formset._should_delete_form(budget_form):
                services.category_budget_delete(
                    budget=budget_form.instance,
                    acting_user=request.user,
                    expected_version=budget_form.opened_at(),
                )
                formset.deleted_objects.append(budget_form.instance)
            elif budget_form.has_changed() and not formset._should_delete_form(budget_form):
                adding = budget_form.instance.pk is None
                budget = budget_form.save(commit=False)
                budget.fund = form.instance
                services.category_budget_save(
                    budget=budget, acting_user=request.user, expected_version=budget_form.opened_at()
                )
                if adding:
                    formset.new_objects.append(budget)
                else:
                    formset.changed_objects.append((budget, budget_form.changed_data))


@admin.register(Allocation)
class AllocationAdmin(ServiceAdmin):
    form = AllocationForm
    list_display = [
        "fund",
        "line_number",
        "organisation",
        "service",
        "thematic_area",
        "funding_category",
        "awarded_display",
    ]
    list_display_links = ["line_number", "organisation"]
    list_filter = ["fund", "thematic_area", "funding_category"]
    # A region's ledger has a million lines: count the filtered ones only, not the whole table again.
    show_full_result_count = False
    search_fields = [
        "organisation__name",
        "organisation__short_name",
        "service",
        "source_text",
        "fund__code",
    ]
    list_select_related = ["fund", "organisation", "thematic_area", "funding_category"]
    autocomplete_fields = ["organisation"]
    ordering = ["fund", "line_number"]
    inlines = [LedgerEntryInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "opened_version",
                    "fund",
                    "line_number",
                    "organisation",
                    "service",
                    "thematic_area",
                    "funding_category",
                ]
            },
        ),
        ("Money", {"fields": ["amount", "effective_date", "memo"]}),
        ("Source and notes", {"fields": ["source_text", "notes"]}),
    ]

    awarded_display = gbp_column("awarded", "Amount")

    def get_queryset(self, request):
        # The list shows the approved amount; the change form starts from the recorded one.
        return with_recorded_amount(super().get_queryset(request).with_stored_figures())

    def has_delete_permission(self, request, obj=None):
        # A line carries ledger entries, which are never deleted: vary it to £0.00 instead.
        return False

    def get_readonly_fields(self, request, obj=None):
        # A line's entries belong to its fund; moving it would move money without a trace.
        return ["fund"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        allocation = form.save_through_services(request.user)
        # allocation_create() builds its own instance; the admin goes on to log and redirect with obj.
        obj.pk = allocation.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The ledger entries inline is read-only; the services have saved everything. The admin's
        # change message reads these lists, which formset.save() would have set.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(Organisation)
class OrganisationAdmin(ServiceAdmin):
    form = VersionedForm
    list_display = ["name", "short_name", "charity_number", "company_number", "org_identifier", "line_count"]
    search_fields = ["name", "short_name", "charity_number", "company_number", "org_identifier"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("allocations"))

    @admin.display(description="Allocation lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def save_model(self, request, obj, form, change):
        if change:
            if form.has_changed():
                services.organisation_update(
                    organisation=obj, acting_user=request.user, expected_version=form.opened_at()
                )
            return
        fields = ["name", "short_name", "charity_number", "company_number", "org_identifier", "notes"]
        organisation = services.organisation_create(
            acting_user=request.user, **{field: getattr(obj, field) for field in fields}
        )
        # organisation_create() builds its own instance; the admin goes on to log and redirect with obj.
        obj.pk = organisation.pk
        obj._state.adding = False


@admin.register(Funder)
class FunderAdmin(ServiceAdmin):
    form = VersionedForm
    list_display = ["name", "short_name", "code", "org_identifier"]
    search_fields = ["name", "short_name", "code", "org_identifier"]
    prepopulated_fields = {"code": ["short_name"]}

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed():
            return
        services.funder_save(funder=obj, acting_user=request.user, expected_version=form.opened_at())


@admin.register(ThematicArea, FundingCategory)
class ReferenceDataAdmin(ServiceAdmin):
    # No list_editable: a changelist row cannot carry the version it was opened at, so the order is
    # changed in each one's change form, which can.
    form = VersionedForm
    list_display = ["name", "code", "sort_order"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed():
            return
        services.reference_data_save(item=obj, acting_user=request.user, expected_version=form.opened_at())


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    # Millions of entries: count the filtered ones only, not the whole table again.
    show_full_result_count = False
    list_display = [
        "recorded_at",
        "fund",
        "allocation",
        "kind",
        "amount_display",
        "effective_date",
        "reference",
        "recorded_by",
        "approval",
        "memo",
    ]
    list_filter = ["kind", ("approved_at", admin.EmptyFieldListFilter), "fund", "effective_date"]
    search_fields = ["memo", "reference", "allocation__organisation__name", "allocation__service"]
    list_select_related = [
        "fund",
        "allocation__fund",
        "allocation__organisation",
        "recorded_by",
        "approved_by",
    ]
    date_hierarchy = "recorded_at"
    amount_display = gbp_column("amount", "Amount")
    actions = ["approve_entries"]

    @admin.display(description="Approval", ordering="approved_at")
    def approval(self, obj):
        if obj.approved_at is None:
            return "Awaiting approval"
        return f"Approved {timezone.localtime(obj.approved_at):%d %b %Y}" + (
            f" by {obj.approved_by}" if obj.approved_by else ""
        )

    def has_approve_permission(self, request):
        return request.user.has_perm("grants.approve_ledgerentry")

    @admin.action(description="Approve the selected entries", permissions=["approve"])
    def approve_entries(self, request, queryset):
        """All of them through `services.decisions_take`, as the Approvals page does, so four-eyes
        and the locks hold here too. All or nothing: one refusal approves none of them."""
        entries = list(queryset.order_by("pk"))
        try:
            services.decisions_take(
                decision=services.Decision.APPROVE, acting_user=request.user, entries=entries
            )
        except services.RowsRefused as refused:
            reasons = " ".join(
                f"{entries[index]}: {' '.join(error.messages)}" for index, error in refused.rows.items()
            )
            self.message_user(request, f"Nothing was approved. {reasons}", messages.ERROR)
            return
        except ValidationError as error:
            self.message_user(request, f"Nothing was approved. {' '.join(error.messages)}", messages.ERROR)
            return
        self.message_user(request, f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} approved.")


@admin.register(ReturnSubmission)
class ReturnSubmissionAdmin(ReadOnlyAdmin):
    """Submitted returns, read-only: submitting and reopening happen on the fund's page."""

    list_display = ["fund", "version", "submitted_at", "submitted_by", "sha256", "reopened_at", "download"]
    list_filter = ["fund"]
    list_select_related = ["fund", "submitted_by"]
    exclude = ["workbook"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("workbook")

    @admin.display(description="Workbook")
    def download(self, obj):
        url = reverse("grants:submission_download", args=[obj.fund.code, obj.version])
        return format_html('<a href="{}">{}</a>', url, obj.file_name)


@admin.register(ControlTotalRevision)
class ControlTotalRevisionAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "fund", "previous_display", "new_display", "recorded_by", "memo"]
    list_filter = ["fund"]
    search_fields = ["memo", "fund__code", "fund__name"]
    list_select_related = ["fund", "recorded_by"]
    previous_display = gbp_column("previous_amount", "From")
    new_display = gbp_column("new_amount", "To")


@admin.register(ImportRecord)
class ImportRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "imported_at",
        "fund",
        "file_name",
        "imported_by",
        "lines_added",
        "amounts_changed",
        "lines_unchanged",
        "organisations_created",
        "sha256",
    ]
    list_filter = ["fund"]
    search_fields = ["file_name", "sha256", "fund__code"]
    list_select_related = ["fund", "imported_by"]
    date_hierarchy = "imported_at"


audit_admin.link_history_to_audit_trail(admin.site)
