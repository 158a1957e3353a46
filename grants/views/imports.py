"""Importing a fund's spreadsheet: the upload, the preview of what it would do, and confirming it."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from grants import money, selectors, services
from grants.forms import ImportMappingForm, ImportUploadForm
from grants.imports import ImportRefused, Problem
from grants.imports.planning import ImportPlan
from grants.imports.reading import Mapping
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


def can_be_mapped(refused: ImportRefused) -> bool:
    """A refusal the preview's mapping can answer: a header row whose columns are not all understood,
    or no header row on the sheet read first of a workbook with others to choose from. A file that
    cannot be opened, or a lone sheet with no table on it, goes back to the upload page."""
    sheet = refused.sheet
    return sheet is not None and (bool(sheet.header_row) or len(sheet.sheet_names) > 1)


def stated_total_in_words(plan: ImportPlan | None) -> str:
    """The total the file states beside the lines' sum, to the penny; the lines are never changed to agree."""
    if plan is None or plan.stated_total is None:
        return ""
    stated, lines, difference = plan.stated_total, plan.sheet_total, plan.stated_total_difference
    said = (
        f"The file states {money.format_gbp(stated)} in {plan.sheet.stated_total_source or 'the file'}; "
        f"its lines add up to {money.format_gbp(lines)}; difference {money.format_gbp(difference)}"
    )
    if difference.amount == 0:
        return f"{said}: they agree to the penny."
    if difference.amount > 0:
        how = f"{money.format_gbp(difference)} more than"
    else:
        how = f"{money.format_gbp(money.difference(stated, lines))} less than"
    return f"{said}: the lines come to {how} the file states. The lines are imported as they are."


def unique(problems) -> list[Problem]:
    return list(dict.fromkeys(problems))


class FundImportView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """Upload a spreadsheet. A file that can be opened goes on to its preview, where its problems show
    beside the choices that may answer them; one that cannot (or a fund that is locked) shows its
    problems here."""

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
        problems = locked_fund_problems(self.fund)
        if not problems:
            try:
                import_preview(self.fund, file_name=upload.name, content=content)
            except ImportRefused as refused:
                if not can_be_mapped(refused):
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
    """What importing the uploaded file would do, read as the query string's mapping says (see
    `ImportMappingForm`); confirming applies it with the same mapping, re-checked against the ledger.

    Nothing is kept between requests but the upload: the mapping travels in the query string and,
    to confirm, in hidden fields, and the plan's digest (which includes the mapping) refuses a
    confirmation that would do anything but what the page showed."""

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

    def read(self, mapping: Mapping):
        """(plan or None, the sheet as far as read or None, problems) for the upload read as `mapping`."""
        pending = self.pending
        try:
            plan = import_preview(
                pending.fund, file_name=pending.file_name, content=bytes(pending.content), mapping=mapping
            )
        except ImportRefused as refused:
            return None, refused.sheet, refused.problems
        return plan, plan.sheet, plan.problems

    def get_context_data(self, problems=(), data=None, **kwargs):
        pending = self.pending
        form = ImportMappingForm(self.request.GET if data is None else data)
        form.is_valid()  # a value in error is shown beside its field and says nothing
        mapping = form.mapping()
        plan, sheet, read_problems = self.read(mapping)
        if sheet is None and mapping.sheet:
            form.add_error("sheet", f"The workbook has no sheet called “{mapping.sheet}”.")
            plan, sheet, read_problems = self.read(Mapping())
        problems = [*problems, *locked_fund_problems(pending.fund), *read_problems]
        if plan is not None:
            problems += import_permission_problems(self.request.user, plan)
        choices = ImportMappingForm(
            sheet=sheet,
            unmapped=plan.unmapped if plan is not None else (),
            said=form.said(),
            initial=form.chosen(),
        )
        previous = selectors.import_records(pending.fund).filter(sha256=pending.sha256).first()
        return super().get_context_data(
            fund=pending.fund,
            pending=pending,
            plan=plan,
            sheet=sheet,
            problems=unique(problems),
            mapping_form=form,
            choices=choices,
            confirm_fields=form.as_hidden_pairs() if form.is_valid() and plan is not None else None,
            stated_total=stated_total_in_words(plan),
            previous=previous,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        pending = self.pending
        form = ImportMappingForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(data=request.POST))
        mapping = form.mapping()
        try:
            plan = import_preview(
                pending.fund, file_name=pending.file_name, content=bytes(pending.content), mapping=mapping
            )
            refusals = import_permission_problems(request.user, plan)
            if refusals:
                raise ImportRefused(refusals)
            result = services.allocations_import(
                fund=pending.fund,
                file_name=pending.file_name,
                content=bytes(pending.content),
                acting_user=request.user,
                expected_digest=request.POST.get("digest", ""),
                mapping=mapping,
            )
        except ImportRefused as refused:
            return self.render_to_response(
                self.get_context_data(problems=refused.problems, data=request.POST)
            )
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
