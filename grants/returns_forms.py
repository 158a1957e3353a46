"""Forms for provider returns: a fund's reporting periods and measures, a period's due date, a
completed return's upload, and its confirmation."""

from __future__ import annotations

from django import forms

from grants.forms import ImportUploadForm
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


class ReturnUploadForm(ImportUploadForm):
    """A provider's completed return: the allocation import's upload, with its size limit, for a
    workbook this page made."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = "Completed return (.xlsx)"
        self.fields["file"].help_text = "The workbook downloaded from this page, filled in by the provider."
