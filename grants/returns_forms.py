"""Forms for provider returns: a fund's reporting periods and measures, a period's due date, a
completed return's upload, and its confirmation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from grants.models import Measure
from grants.services.returns import HALF_YEARLY, QUARTERLY


class PeriodsForm(forms.Form):
    frequency = forms.ChoiceField(
        label="Periods of each financial year",
        choices=[
            (QUARTERLY, "Quarters of each financial year"),
            (HALF_YEARLY, "Halves of each financial year"),
        ],
    )


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Measure.Kind.choices)
    name = forms.CharField(
        label="Name", max_length=100, help_text="For example “Staff” or “Victims supported”."
    )


class DueDateForm(forms.Form):
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReturnUploadForm(forms.Form):
    file = forms.FileField(
        label="Completed return (.xlsx)",
        help_text="The workbook downloaded from this page, filled in by the provider.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.LEDGER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; files over "
                f"{limit / (1024 * 1024):.1f} MB are not imported."
            )
        return upload
