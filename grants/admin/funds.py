"""Funds in the admin, with their category budgets, lines, profile by financial year (read-only: the
profile page is its one way in) and control-total history; and funders."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from grants import money, services
from grants.admin._base import (
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    VersionedInlineFormSet,
    gbp_column,
    locked_fund_message,
    revision_of_column,
)
from grants.admin.allocations import AllocationInline
from grants.exports.downloads import moj_return_response, moj_returns_zip_response
from grants.models import (
    Allocation,
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    Funder,
    FundYear,
)
from grants.selectors import FundSummary


class FundYearInline(ReadOnlyInline):
    """The fund's profile, to read: it is set on the fund's profile page (`services.fund_profile_set`),
    which keeps the years' sum and the fund's control total together."""

    model = FundYear
    verbose_name_plural = "control total by financial year (change it on the fund's profile page)"
    fields = ["year_display", "control_total_display"]
    readonly_fields = fields
    control_total_display = gbp_column("control_total", "Control total")

    @admin.display(description="Financial year")
    def year_display(self, obj):
        return obj.financial_year.label

    def get_queryset(self, request):
        # Each row's title names its fund.
        return super().get_queryset(request).select_related("fund")


class ControlTotalRevisionInline(ReadOnlyInline):
    model = ControlTotalRevision
    verbose_name_plural = "control total history"
    fields = ["year_display", "previous_display", "new_display", "memo", "recorded_by", "recorded_at"]
    readonly_fields = fields
    previous_display = gbp_column("previous_amount", "From")
    new_display = gbp_column("new_amount", "To")
    year_display = revision_of_column()

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
        self._say_what_the_profile_decides(cleaned)
        facts = [name for name in services.FUND_FACTS if name in self.changed_data]
        locked = locked_fund_message(self.instance.pk) if facts and self.instance.pk else None
        for name in facts if locked else []:
            self.add_error(name, locked)
        return cleaned

    def _say_what_the_profile_decides(self, cleaned):
        """What `fund_save` refuses of a profiled fund, said beside the field; it checks again."""
        if self.instance.pk is None:
            return
        profile = list(FundYear.objects.filter(fund=self.instance.pk))
        if not profile:
            return
        if "control_total" in self.changed_data:
            self.add_error("control_total", services.CONTROL_TOTAL_IS_THE_PROFILES)
        period = [name for name in ("spend_start", "spend_end") if name in self.changed_data]
        start, end = cleaned.get("spend_start"), cleaned.get("spend_end")
        if not period or start is None or end is None or end < start:
            return
        message = services.stranded_years_message(profile, start, end)
        for name in period if message else []:
            self.add_error(name, message)


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
    inlines = [CategoryBudgetInline, AllocationInline, FundYearInline, ControlTotalRevisionInline]
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
            return  # the profile and the control total's history are read-only here
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
