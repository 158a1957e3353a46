"""The allocation lines in the admin: money is never edited in place, a new amount becomes a
variation entry through `services.allocation_set_amount()`, from the recorded figure."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import F
from django.utils import timezone

from grants import money, services
from grants.admin._base import (
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    VersionedInlineFormSet,
    gbp_column,
    locked_fund_message,
)
from grants.models import (
    Allocation,
    Approval,
    LedgerEntry,
    LineChange,
)


def with_recorded_amount(allocations):
    """Annotate `recorded_amount`: the award and variations as recorded, approved or not, the figure
    `services.allocation_set_amount()` changes; from the lines' stored figures (grants/figures/),
    so a changelist of a million lines neither joins nor groups their entries."""
    return allocations.annotate(recorded_amount=F("figures__awarded") + F("figures__awarded_pending"))


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
        label="Effective date of the award or change",
        initial=timezone.localdate,
        help_text=(
            "When a new line's award, or a change to a line's amount, takes effect. An existing line's is "
            "blank (its entries keep their own dates); left blank, a change takes effect today."
        ),
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
                else services.allocation_awarded(self.instance, Approval.APPROVED_OR_PENDING)
            )
            self.fields["amount"].initial = recorded.amount
            # An existing line's date is the date of a change to its amount, asked for only then:
            # today's date beside every line read as if each had been awarded today.
            date = self.fields["effective_date"]
            date.initial, date.required = None, False

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
        if cleaned.get("effective_date") is None and "effective_date" not in self.errors:
            cleaned["effective_date"] = timezone.localdate()  # as the help text says
        if not cleaned.get("memo", "").strip():
            self.add_error("memo", "Say why the amount changed; the reason is kept with the variation.")
        # Said here so the form can show it; the service checks again under the line's lock, against
        # the same recorded figure (approved or awaiting approval).
        current = services.allocation_awarded(self.instance, Approval.APPROVED_OR_PENDING)
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
