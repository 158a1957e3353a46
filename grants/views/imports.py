"""Importing a fund's spreadsheet: the upload, the preview of what it would do, and confirming it."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from grants import selectors, services
from grants.forms import ImportUploadForm
from grants.imports import ImportRefused, Problem
from grants.imports.planning import ImportPlan
from grants.imports.snapshot import import_preview
from grants.models import Fund, PendingImport

IMPORT_PERMISSIONS = ("grants.add_allocation", "grants.change_allocation")


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def locked_fund_problems(fund: Fund) -> list[Problem]:
    """The import's refusal, said in the preview before anyone confirms: the fund's return is submitted."""
    submission = services.submission_in_force(fund.pk)
    return [] if submission is None else [Problem(services.locked_message(submission))]


def import_permission_problems(user, plan: ImportPlan) -> list[Problem]:
    """An import adds organisations through the same service as the form, so it needs the same right."""
    if plan.new_organisations and not user.has_perm("grants.add_organisation"):
        count = len(plan.new_organisations)
        return [
            Problem(
                f"The file would add {count} organisation{'s' if count != 1 else ''}, and you are not "
                "allowed to add organisations. Ask someone who is to add them (or to import the file)."
            )
        ]
    return []


class FundImportView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """Upload a spreadsheet; a file that can be imported goes on to its preview, else its problems show."""

    permission_required = IMPORT_PERMISSIONS
    form_class = ImportUploadForm
    template_name = "grants/import_upload.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, records=selectors.import_records(self.fund)[:20], **kwargs
        )

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            plan = import_preview(self.fund, file_name=upload.name, content=content)
            problems = (
                locked_fund_problems(self.fund)
                or plan.problems
                or import_permission_problems(self.request.user, plan)
            )
        except ImportRefused as refused:
            problems = refused.problems
        if problems:
            return self.render_to_response(
                self.get_context_data(form=form, problems=problems, file_name=upload.name)
            )
        pending = services.pending_import_create(
            fund=self.fund, file_name=upload.name, content=content, acting_user=self.request.user
        )
        return redirect("grants:fund_import_preview", code=self.fund.code, token=pending.token)


class FundImportPreviewView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """What importing the uploaded file would do; confirming applies it, re-checked against the ledger."""

    permission_required = IMPORT_PERMISSIONS
    template_name = "grants/import_preview.html"

    @cached_property
    def pending(self):
        return get_object_or_404(
            PendingImport.objects.select_related("fund"),
            token=self.kwargs["token"],
            fund__code=self.kwargs["code"],
            uploaded_by=self.request.user,
        )

    def get_context_data(self, problems=(), **kwargs):
        pending = self.pending
        plan = None
        try:
            plan = import_preview(pending.fund, file_name=pending.file_name, content=bytes(pending.content))
            problems = [
                *problems,
                *locked_fund_problems(pending.fund),
                *plan.problems,
                *import_permission_problems(self.request.user, plan),
            ]
        except ImportRefused as refused:
            problems = [*problems, *refused.problems]
        previous = selectors.import_records(pending.fund).filter(sha256=pending.sha256).first()
        return super().get_context_data(
            fund=pending.fund, pending=pending, plan=plan, problems=problems, previous=previous, **kwargs
        )

    def post(self, request, *args, **kwargs):
        pending = self.pending
        try:
            plan = import_preview(pending.fund, file_name=pending.file_name, content=bytes(pending.content))
            refusals = import_permission_problems(request.user, plan)
            if refusals:
                raise ImportRefused(refusals)
            result = services.allocations_import(
                fund=pending.fund,
                file_name=pending.file_name,
                content=bytes(pending.content),
                acting_user=request.user,
                expected_digest=request.POST.get("digest", ""),
            )
        except ImportRefused as refused:
            return self.render_to_response(self.get_context_data(problems=refused.problems))
        services.pending_import_discard(pending=pending)
        fund = pending.fund
        if result.record is None:
            messages.info(
                request, f"{pending.file_name}: nothing to change; every line already matches the ledger."
            )
        else:
            record = result.record
            after = result.plan.after
            messages.success(
                request,
                f"Imported {record.file_name}: {counted(record.lines_added, 'line')} added, "
                f"{counted(record.amounts_changed, 'amount')} changed, {record.lines_unchanged} unchanged, "
                f"{counted(record.organisations_created, 'organisation')} added. The new entries await "
                f"approval; once approved: {after.variance_in_words[0].lower()}{after.variance_in_words[1:]}",
            )
        return redirect("grants:fund_detail", code=fund.code)
