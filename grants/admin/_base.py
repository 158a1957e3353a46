"""Shared bases of the grants admin: forms that carry the version their row was opened at, admins
whose writes go through the services, read-only admins and inlines, and the locked-fund message."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse

from grants import money, services, years


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


def revision_of_column():
    """A control-total revision's column saying which figure changed: a year (2023-24) or the total."""

    @admin.display(description="Of", ordering="year")
    def column(self, obj):
        return "the fund's total" if obj.year is None else years.FinancialYear(obj.year).label

    return column


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
