"""Provider returns' pages: a fund's reporting set-up, a line's returns (download, upload, accept),
the preview of a completed return, and the monitoring return's download."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from grants import services
from grants.exports import monitoring_return, provider_return
from grants.exports.moj_return_format import XLSX_CONTENT_TYPE
from grants.imports import ImportRefused
from grants.models import Fund, Measure, PendingImport, ProviderReturn, ReportingPeriod
from grants.returns_forms import DueDateForm, MeasureForm, PeriodsForm, ReturnUploadForm
from grants.selectors import returns as selectors
from grants.services import returns as return_services
from grants.views._base import LineMixin, ReadView

SETUP_PERMISSIONS = ("grants.add_reportingperiod", "grants.change_reportingperiod", "grants.add_measure")


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class FundReturnsView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """A finance officer sets up what the fund's providers report, and when."""

    permission_required = SETUP_PERMISSIONS
    template_name = "grants/fund_returns.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        periods = list(ReportingPeriod.objects.filter(fund=self.fund))
        kwargs.setdefault("periods_form", PeriodsForm())
        kwargs.setdefault("measure_form", MeasureForm())
        return super().get_context_data(
            fund=self.fund,
            periods=[
                (
                    period,
                    DueDateForm(
                        initial={"due_date": period.due_date, "version": period.version},
                        prefix=f"p{period.pk}",
                    ),
                )
                for period in periods
            ],
            measures=list(self.fund.measures.all()),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        user = request.user
        try:
            if action == "periods":
                form = PeriodsForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(periods_form=form))
                return_services.reporting_periods_create(
                    fund=self.fund, frequency=form.cleaned_data["frequency"], acting_user=user
                )
                messages.success(request, "Reporting periods set up, each due a month after it ends.")
            elif action == "standard":
                added = return_services.measures_standard_create(fund=self.fund, acting_user=user)
                messages.success(
                    request, f"{len(added)} standard measure{'s' if len(added) != 1 else ''} added."
                )
            elif action == "measure":
                form = MeasureForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(measure_form=form))
                return_services.measure_create(fund=self.fund, acting_user=user, **form.cleaned_data)
                messages.success(request, "Measure added.")
            elif action == "retire":
                measure = get_object_or_404(Measure, fund=self.fund, pk=request.POST.get("measure"))
                try:
                    version = int(request.POST.get("version", ""))
                except ValueError:
                    version = -1
                return_services.measure_retire(measure=measure, expected_version=version, acting_user=user)
                messages.success(
                    request,
                    f"{measure.name} retired: new workbooks leave it out; returns already made keep it.",
                )
            elif action == "due":
                period = get_object_or_404(ReportingPeriod, fund=self.fund, pk=request.POST.get("period"))
                form = DueDateForm(request.POST, prefix=f"p{period.pk}")
                if not form.is_valid():
                    messages.error(request, f"{period.label}: enter the due date as a date.")
                    return redirect("grants:fund_returns", code=self.fund.code)
                return_services.reporting_period_set_due(
                    period=period,
                    due_date=form.cleaned_data["due_date"],
                    expected_version=form.cleaned_data["version"],
                    acting_user=user,
                )
                messages.success(request, f"{period.label}: due date changed.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("grants:fund_returns", code=self.fund.code)


class LineReturnsView(ReadView, LineMixin, TemplateView):
    """A line's returns with their due dates and states; its workbooks to download; an upload for a
    finance officer and acceptance for an approver."""

    template_name = "grants/line_returns.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        kwargs.setdefault("form", ReturnUploadForm())
        return super().get_context_data(
            line=self.allocation,
            rows=selectors.line_returns(self.allocation, timezone.localdate()),
            can_import=user.has_perm("grants.add_providerreturn"),
            can_accept=user.has_perm("grants.accept_providerreturn"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("grants.add_providerreturn"):
            return HttpResponse("Only a finance officer can import a return.", status=403)
        form = ReturnUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            return_services.return_preview(allocation=self.allocation, file_name=upload.name, content=content)
        except ImportRefused as refused:
            return self.render_to_response(
                self.get_context_data(form=form, problems=refused.problems, file_name=upload.name)
            )
        pending = services.pending_import_create(
            fund=self.allocation.fund, file_name=upload.name, content=content, acting_user=request.user
        )
        return redirect("grants:line_return_preview", pk=self.allocation.pk, token=pending.token)


class LineReturnWorkbookView(ReadView, LineMixin, View):
    def get(self, request, *args, **kwargs):
        period = get_object_or_404(ReportingPeriod, pk=kwargs["period"], fund_id=self.allocation.fund_id)
        data = selectors.provider_return_data(self.allocation, period)
        return _xlsx(provider_return.build_provider_return(data), provider_return.file_name(data))


class ReturnPreviewView(LoginRequiredMixin, PermissionRequiredMixin, LineMixin, TemplateView):
    """What importing the uploaded return would do, its problems by cell and its comparison with the
    ledger; confirming imports it (and, if ticked, records the underspend it shows as due)."""

    permission_required = "grants.add_providerreturn"
    template_name = "grants/return_preview.html"

    @cached_property
    def pending(self):
        return get_object_or_404(
            PendingImport,
            token=self.kwargs["token"],
            fund_id=self.allocation.fund_id,
            uploaded_by=self.request.user,
        )

    def get_context_data(self, problems=(), **kwargs):
        pending = self.pending
        try:
            preview = return_services.return_preview(
                allocation=self.allocation, file_name=pending.file_name, content=bytes(pending.content)
            )
        except ImportRefused as refused:
            preview, problems = None, [*problems, *refused.problems]
        else:
            problems = [*problems, *preview.problems]
        return super().get_context_data(
            line=self.allocation,
            pending=pending,
            preview=preview,
            problems=problems,
            file_name=pending.file_name,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        pending = self.pending
        underspend = None
        if request.POST.get("record_underspend"):
            try:
                underspend = Decimal(request.POST.get("underspend", ""))
            except InvalidOperation:
                underspend = Decimal("-1")
        try:
            result = return_services.provider_return_import(
                allocation=self.allocation,
                file_name=pending.file_name,
                content=bytes(pending.content),
                acting_user=request.user,
                record_underspend=underspend,
            )
        except ImportRefused as refused:
            return self.render_to_response(self.get_context_data(problems=refused.problems))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)
        services.pending_import_discard(pending=pending)
        if result.provider_return is None:
            said = f"{pending.file_name} was already imported; the return is unchanged."
            if result.underspend_entry is not None:
                said += " The underspend is recorded as due and awaits approval."
            messages.info(request, said)
        else:
            said = f"Imported {pending.file_name} (SHA-256 {result.provider_return.sha256[:12]}…)."
            if result.underspend_entry is not None:
                said += " The underspend is recorded as due and awaits approval."
            messages.success(request, said)
        return redirect("grants:line_returns", pk=self.allocation.pk)


class ReturnDetailView(ReadView, TemplateView):
    """One return as the provider filled it in (spend by cost type, outputs, explanation) beside its
    comparison with the ledger; an approver accepts it here, as shown (its version is posted)."""

    template_name = "grants/return_detail.html"

    def get_context_data(self, **kwargs):
        review = selectors.return_review(self.kwargs["pk"])
        if review is None:
            raise Http404("No such return.")
        return super().get_context_data(
            review=review,
            received=review.provider_return,
            line=review.provider_return.allocation,
            can_accept=self.request.user.has_perm("grants.accept_providerreturn"),
            **kwargs,
        )


class ReturnAcceptView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "grants.accept_providerreturn"

    def post(self, request, *args, **kwargs):
        received = get_object_or_404(ProviderReturn, pk=kwargs["pk"])
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        try:
            return_services.provider_return_accept(
                provider_return=received, expected_version=version, acting_user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("grants:return_detail", pk=received.pk)
        messages.success(request, f"Return for {received.period.label} accepted.")
        return redirect("grants:line_returns", pk=received.allocation_id)


class MonitoringReturnView(ReadView, View):
    def get(self, request, *args, **kwargs):
        fund = get_object_or_404(Fund, code=kwargs["code"])
        period = get_object_or_404(ReportingPeriod, pk=kwargs["period"], fund=fund)
        data = selectors.monitoring_data(fund, period, timezone.localdate())
        return _xlsx(monitoring_return.build_monitoring_return(data), monitoring_return.file_name(data))
