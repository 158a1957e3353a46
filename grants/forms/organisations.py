"""Correcting an organisation's details in the app (`services.organisation_update`, as the admin).

Single-person, with history: no field of an organisation decides who receives money. A line points
at its organisation's row, so a rename changes what the row is called, never which provider holds
the line; the ledger keeps no bank details or payee account (payments are recorded, with their
reference, as ledger entries that another person approves). The audit trail keeps every change,
and a fund whose return is submitted lists the providers renamed since (`names_changed_since`)."""

from django import forms
from django.core.exceptions import ValidationError

from grants import services
from grants.forms import OrganisationForm
from grants.models import Organisation

# Every field of the add form: a field added there is edited here too, never shown and then dropped.
FIELDS = tuple(OrganisationForm.base_fields)


class OrganisationEditForm(OrganisationForm):
    """The add form's fields and checks, for an existing organisation, with the version it was opened at."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        for name in FIELDS:
            self.initial.setdefault(name, getattr(organisation, name))
        self.initial.setdefault("version", organisation.version)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        existing = Organisation.objects.filter(name__iexact=name).exclude(pk=self.organisation.pk).first()
        if existing is not None:
            raise ValidationError(f"{existing.name} is already in the ledger.")
        return name

    def save(self, acting_user) -> Organisation:
        # A fresh copy: a refusal leaves the page's own organisation as it was read.
        organisation = Organisation.objects.get(pk=self.organisation.pk)
        for name in FIELDS:
            setattr(organisation, name, self.cleaned_data[name])
        return services.organisation_update(
            organisation=organisation, acting_user=acting_user, expected_version=self.cleaned_data["version"]
        )
