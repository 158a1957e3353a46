"""Forms for a fund's facts and its ring-fenced category budgets, in the app (the admin writes
through the same services: `services.fund_save`, `services.category_budget_save` and
`services.category_budget_delete`)."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from djmoney.money import Money

from grants import money, services
from grants.forms import AMOUNT, DATE_INPUT
from grants.models import CategoryBudget, Fund, Funder, FundingCategory, not_a_formula

# The address of the "New fund" page sits where a fund's code would (funds/add/).
RESERVED_CODES = frozenset({"add"})


class FundForm(forms.Form):
    """A fund's facts and, for a fund without a profile, its control total with the reason for a
    change. The fund's version when the form was opened comes back, so a save after a colleague's is
    refused with what this user typed kept."""

    code = forms.SlugField(
        max_length=50,
        help_text="Short and stable, in lower case with hyphens, e.g. moj-ecf-2020. It is in the fund's "
        "address and its downloads' file names.",
    )
    name = forms.CharField(max_length=300, validators=[not_a_formula])
    funder = forms.ModelChoiceField(queryset=Funder.objects.order_by("name"))
    spend_start = forms.DateField(label="Spend period start", widget=DATE_INPUT)
    spend_end = forms.DateField(label="Spend period end", widget=DATE_INPUT)
    control_total = forms.DecimalField(
        label="Control total (£)",
        min_value=Decimal("0.01"),
        help_text="The amount on the funder's award paperwork, in pounds and pence.",
        **AMOUNT,
    )
    control_total_memo = forms.CharField(
        label="Reason for a change to the control total",
        required=False,
        max_length=500,
        help_text="Required when the control total changes, e.g. the revised award letter's date. "
        "Kept in the fund's history.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # Required (the edit form's; the new-fund form has none): without it the service would save over
    # whatever a colleague saved since.
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, fund: Fund | None = None, profiled: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.profiled = profiled
        if fund is None:
            del self.fields["control_total_memo"]
            del self.fields["version"]
            return
        self.initial.update(
            code=fund.code,
            name=fund.name,
            funder=fund.funder_id,
            spend_start=fund.spend_start,
            spend_end=fund.spend_end,
            control_total=fund.control_total.amount,
            notes=fund.notes,
            version=fund.version,
        )
        if profiled:
            # The years' sum: changed on the profile page only (`services.fund_profile_set`).
            del self.fields["control_total"]
            del self.fields["control_total_memo"]
        self.locked = services.submission_in_force(fund.pk)
        if self.locked is not None:
            # Not offered while the return is submitted: shown read-only, so no one fills in a change
            # that is refused only on saving. A post that changes them anyway (a stale page, a forged
            # post) is still refused in `clean`, and by the service.
            self.fields.pop("control_total_memo", None)
            for name in services.FUND_FACTS:
                if name not in self.fields:
                    continue
                field = self.fields[name]
                field.help_text = "Kept as submitted while the MoJ return is in force."
                if name == "funder":
                    field.queryset = Funder.objects.filter(pk=fund.funder_id)
                    field.empty_label = None
                else:
                    field.widget.attrs["readonly"] = True

    def clean_code(self):
        code = self.cleaned_data["code"]
        if code in RESERVED_CODES:
            raise ValidationError(f"{code!r} is the address of a page; choose another code.")
        # Ignoring capitals: a code names the fund's downloads, which a case-blind disk would mix up.
        taken = Fund.objects.filter(code__iexact=code)
        if self.fund is not None:
            taken = taken.exclude(pk=self.fund.pk)
        other = taken.values_list("code", flat=True).first()
        if other is not None:
            raise ValidationError(f"Another fund has the code {other}; codes are unique.")
        return code

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("spend_start"), cleaned.get("spend_end")
        if start and end and end < start:
            self.add_error("spend_end", "The spend period must end on or after the day it starts.")
        if self.fund is None:
            return cleaned
        changed = "control_total" in self.fields and cleaned.get("control_total") not in (
            None,
            self.fund.control_total.amount,
        )
        if changed and not cleaned.get("control_total_memo", "").strip():
            self.add_error(
                "control_total_memo",
                "Say why the control total changed; the reason is kept in the fund's history.",
            )
        if self.locked is not None:
            for name in self.changed_facts(cleaned):
                self.add_error(name, services.locked_message(self.locked))
        return cleaned

    def changed_facts(self, cleaned) -> list[str]:
        """The facts (`services.FUND_FACTS`) this form changes; a submitted fund keeps them."""
        current = {
            "code": self.fund.code,
            "name": self.fund.name,
            "funder": self.fund.funder_id,
            "spend_start": self.fund.spend_start,
            "spend_end": self.fund.spend_end,
            "control_total": self.fund.control_total.amount,
        }
        posted = {**cleaned, "funder": getattr(cleaned.get("funder"), "pk", None)}
        return [
            name
            for name in services.FUND_FACTS
            if name in self.fields and name in posted and posted[name] != current[name]
        ]

    def save(self, acting_user) -> Fund:
        data = self.cleaned_data
        fund = self.fund or Fund()
        # A fresh copy for an edit: a refusal leaves the page's own fund as it was read.
        if self.fund is not None:
            fund = Fund.objects.get(pk=self.fund.pk)
        for name in ("code", "name", "funder", "spend_start", "spend_end", "notes"):
            setattr(fund, name, data[name])
        if "control_total" in self.fields:
            fund.control_total = Money(data["control_total"], money.GBP)
        return services.fund_save(
            fund=fund,
            acting_user=acting_user,
            memo=data.get("control_total_memo", ""),
            expected_version=data["version"] if self.fund is not None else None,
        )


class CategoryBudgetsForm(forms.Form):
    """The fund's ring-fenced budget for each funding category: a figure sets it, a blank removes it.
    Each budget's version when the form was opened comes back beside it; all are saved or none."""

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.budgets = {
            budget.funding_category_id: budget for budget in CategoryBudget.objects.filter(fund=fund)
        }
        self.categories = list(FundingCategory.objects.all())
        for category in self.categories:
            budget = self.budgets.get(category.pk)
            self.fields[self.amount_field(category)] = forms.DecimalField(
                label=f"{category.name} (£)",
                required=False,
                min_value=Decimal("0.01"),
                **AMOUNT,
            )
            self.fields[self.version_field(category)] = forms.IntegerField(
                required=False, widget=forms.HiddenInput
            )
            if budget is not None:
                self.initial.setdefault(self.amount_field(category), budget.amount.amount)
                self.initial.setdefault(self.version_field(category), budget.version)

    @staticmethod
    def amount_field(category: FundingCategory) -> str:
        # The code as it is: codes are unique slugs, and with "-" made "_" two of them could share a field.
        return f"budget_{category.code}"

    @staticmethod
    def version_field(category: FundingCategory) -> str:
        return f"version_{category.code}"

    def clean(self):
        cleaned = super().clean()
        locked = services.submission_in_force(self.fund.pk)
        if locked is not None and self.has_changed():
            raise ValidationError(services.locked_message(locked))
        return cleaned

    @transaction.atomic
    def save(self, acting_user) -> list[CategoryBudget]:
        """Every changed budget through the services, in one transaction: a refusal of one (the
        fund locked meanwhile, a colleague's save) writes none, and names the category."""
        saved = []
        for category in self.categories:
            amount = self.cleaned_data.get(self.amount_field(category))
            version = self.cleaned_data.get(self.version_field(category))
            budget = self.budgets.get(category.pk)
            try:
                self.refuse_if_added_or_removed_since_opened(budget, amount, version)
                if budget is not None and amount is None:
                    services.category_budget_delete(
                        budget=budget, acting_user=acting_user, expected_version=version
                    )
                elif amount is not None and (budget is None or budget.amount.amount != amount):
                    budget = budget or CategoryBudget(fund=self.fund, funding_category=category)
                    budget.amount = Money(amount, money.GBP)
                    saved.append(
                        services.category_budget_save(
                            budget=budget,
                            acting_user=acting_user,
                            expected_version=version if budget.pk is not None else None,
                        )
                    )
            except ValidationError as error:
                raise ValidationError(
                    {self.amount_field(category): [f"{category.name}: {m}" for m in error.messages]}
                ) from None
        return saved

    @staticmethod
    def refuse_if_added_or_removed_since_opened(budget, amount, version) -> None:
        """A budget's version comes back only if it existed when the form was opened: a budget with
        none was added by a colleague since (the form's blank would delete it, its figure overwrite
        it), and a version without a budget means a colleague removed it (the figure would put it
        back). Either is refused as any stale form is, with what was typed kept."""
        if budget is not None and version is None and (amount is None or amount != budget.amount.amount):
            raise ValidationError(services.changed_since_opened_message(budget))
        if budget is None and version is not None and amount is not None:
            raise ValidationError(services.changed_since_opened_message(CategoryBudget()))
