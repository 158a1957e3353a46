"""The finance staff's pages. Reads come from selectors; every write goes through one service."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig
from djmoney.money import Money

from grants import charts, money, selectors, services
from grants.exports.downloads import (
    allocations_csv_response,
    moj_return_response,
    three_sixty_giving_response,
)
from grants.exports.files import InvalidOpenData
from grants.exports.moj_return import XLSX_CONTENT_TYPE
from grants.exports.three_sixty_giving import FORMATS
from grants.exports.three_sixty_giving_data import ThreeSixtyGivingNotConfigured
from grants.filters import AllocationFilter
from grants.forms import (
    AllocationCreateForm,
    AllocationEditForm,
    ChangeAmountForm,
    ImportUploadForm,
    MoneyMovementForm,
    OrganisationForm,
    ReopenForm,
    ReverseEntryForm,
    apply_service_errors,
)
from grants.imports import ImportRefused, Problem
from grants.imports.planning import ImportPlan
from grants.imports.snapshot import import_preview
from grants.models import (
    Allocation,
    Approval,
    Fund,
    ImportRecord,
    LedgerEntry,
    LineChange,
    Organisation,
    PendingImport,
    ReturnSubmission,
)
from grants.tables import AllocationTable, fund_summary_rows

PER_PAGE = 50


class CountedPaginator(Paginator):
    """A paginator told the number of lines instead of counting them itself (with the table's
    summed amounts, the count would join and group every entry of every line)."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


class ReadView(LoginRequiredMixin, PermissionRequiredMixin):
    """A page that only reads. Every role can read (README, "Roles"); a login without a role gets 403."""

    permission_required = ("grants.view_fund", "grants.view_allocation")


class AllocationTableMixin:
    """A filtered, sortable, paginated allocation table with a database footer total and CSV export."""

    def filtered_rows(self):
        """The filter form and the lines it selects: none at all when the filter is not valid, so a
        mistyped amount never shows (or exports) every line as if it matched."""
        filterset = AllocationFilter(self.request.GET, queryset=self.lines(), fund=self.table_fund())
        return filterset, filterset.qs if filterset.is_valid() else self.lines().none()

    def allocation_table(self, *, show_fund=True):
        filterset, rows = self.filtered_rows()
        count, total = self.count_and_total(filterset, rows)
        table = AllocationTable(
            rows,
            footer_total=total,
            show_fund=show_fund,
            can_change=self.request.user.has_perm("grants.change_allocation"),
        )
        paginate = {"per_page": PER_PAGE, "paginator_class": CountedPaginator, "count": count}
        RequestConfig(self.request, paginate=paginate).configure(table)
        return filterset, table

    def count_and_total(self, filterset, rows) -> tuple[int, Money]:
        """How many lines the filter selects and their approved total, each computed once.

        Filtered by fund, category and thematic area only (or not at all), both come from the
        stored group figures in one query over a few rows. Otherwise the total is summed from the
        selected lines' stored figures, and the lines are counted without the table's joins and
        figures (but those a filter needs: the category and amounts are said of the figures)."""
        if not filterset.is_valid():
            return 0, money.zero()
        scope = filterset.group_scope
        if scope is not None:
            if self.table_fund() is not None:
                scope["fund"] = self.table_fund()
            return selectors.group_totals(**scope)
        total = selectors.allocations_total(rows)
        if filterset.filters_amounts:
            return filterset.qs.count(), total
        plain = AllocationFilter(self.request.GET, queryset=self.plain_lines(), fund=self.table_fund())
        return plain.qs.count(), total

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "csv":
            return allocations_csv_response(self.csv_rows(), self.csv_filename())
        return super().get(request, *args, **kwargs)

    def csv_rows(self):
        return self.filtered_rows()[1].order_by("fund__code", "line_number")


class DashboardView(ReadView, TemplateView):
    template_name = "grants/dashboard.html"

    def get_context_data(self, **kwargs):
        dashboard = selectors.dashboard(self.request.GET.getlist("fund"))
        return super().get_context_data(
            dashboard=dashboard,
            funds=fund_summary_rows(dashboard.summaries),
            chart=charts.category_chart(dashboard.by_category),
            **kwargs,
        )


class FundListView(ReadView, TemplateView):
    template_name = "grants/fund_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(funds=fund_summary_rows(selectors.fund_summaries()), **kwargs)


class FundDetailView(ReadView, AllocationTableMixin, TemplateView):
    template_name = "grants/fund_detail.html"

    @cached_property
    def fund(self):
        # Looked up only once the login check has let the request through.
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    def lines(self):
        if self.request.GET.get("sort", "").lstrip("-") == "awarded":
            # Sorted by amount, the fund is said of the lines' stored figures (the database keeps it
            # equal to the line's): their (fund, category, amount, line) index gives the first page
            # in amount order instead of sorting every line. Not said of both: on PostgreSQL the
            # repeated condition made the planner expect a few hundred lines and sort them all.
            return selectors.allocation_rows().filter(figures__fund=self.fund)
        return selectors.allocation_rows().filter(fund=self.fund)

    def plain_lines(self):
        return Allocation.objects.filter(fund=self.fund)

    def table_fund(self):
        return self.fund

    def csv_filename(self):
        return f"allocations_{self.fund.code}.csv"

    def get_context_data(self, **kwargs):
        filterset, table = self.allocation_table(show_fund=False)
        return super().get_context_data(
            page=selectors.fund_page(self.fund), filter=filterset, table=table, **kwargs
        )


class AllocationListView(ReadView, AllocationTableMixin, TemplateView):
    template_name = "grants/allocation_list.html"

    def lines(self):
        return selectors.allocation_rows()

    def plain_lines(self):
        return Allocation.objects.all()

    def table_fund(self):
        return None

    def csv_filename(self):
        return "allocations.csv"

    def get_context_data(self, **kwargs):
        filterset, table = self.allocation_table()
        return super().get_context_data(filter=filterset, table=table, **kwargs)


class OrganisationListView(ReadView, TemplateView):
    template_name = "grants/organisation_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisations=selectors.organisation_summaries(), **kwargs)


class OrganisationDetailView(ReadView, TemplateView):
    template_name = "grants/organisation_detail.html"

    def get_context_data(self, **kwargs):
        organisation = get_object_or_404(Organisation, pk=self.kwargs["pk"])
        page = selectors.organisation_page(organisation)
        table = AllocationTable(
            page.lines,
            footer_total=page.total,
            can_change=self.request.user.has_perm("grants.change_allocation"),
        )
        RequestConfig(self.request, paginate={"per_page": PER_PAGE}).configure(table)
        return super().get_context_data(page=page, table=table, **kwargs)


class ServiceFormView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """A form whose `save(acting_user)` calls a service; its ValidationErrors land on the form."""

    success_message = "Saved."

    def form_valid(self, form):
        try:
            self.saved = form.save(self.request.user)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message())
        return redirect(self.get_success_url())


class AllocationCreateView(ServiceFormView):
    permission_required = "grants.add_allocation"
    form_class = AllocationCreateForm
    template_name = "grants/allocation_form.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_initial(self):
        return {"line_number": selectors.next_line_number(self.fund)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(fund=self.fund, **kwargs)

    def get_success_message(self):
        line = self.saved
        return (
            f"Line {line.line_number} added: {line.organisation.name} "
            f"{money.format_gbp(services.allocation_awarded(line, Approval.RECORDED))}, awaiting approval."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class LineMixin:
    """A view of one allocation line, the `pk` of its URL."""

    @cached_property
    def allocation(self):
        return get_object_or_404(
            Allocation.objects.select_related("fund", "organisation"), pk=self.kwargs["pk"]
        )


class AllocationChangeAmountView(LineMixin, ServiceFormView):
    permission_required = "grants.change_allocation"
    form_class = ChangeAmountForm
    template_name = "grants/allocation_change_amount.html"

    @cached_property
    def current(self):
        """The amount as recorded, approved or not: the figure a change starts from."""
        return services.allocation_awarded(self.allocation, Approval.RECORDED)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "allocation": self.allocation}

    def get_initial(self):
        return {"amount": self.current.amount, "shown_amount": self.current.amount}

    def get_context_data(self, **kwargs):
        return super().get_context_data(allocation=self.allocation, current=self.current, **kwargs)

    def get_success_message(self):
        if self.saved is None:
            return f"The amount was already {money.format_gbp(self.current)}; nothing was recorded."
        return (
            f"Line {self.allocation.line_number} changed by {money.format_gbp(self.saved.amount)} "
            f"to {money.format_gbp(services.allocation_awarded(self.allocation, Approval.RECORDED))}, "
            "awaiting approval."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.allocation.fund.code])


class OrganisationCreateView(ServiceFormView):
    permission_required = "grants.add_organisation"
    form_class = OrganisationForm
    template_name = "grants/organisation_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.safe_next(), **kwargs)

    def safe_next(self):
        return _safe_next(self.request)

    def get_success_message(self):
        return f"{self.saved.name} added."

    def get_success_url(self):
        return self.safe_next() or reverse("grants:organisation_detail", args=[self.saved.pk])


class FundMojReturnView(ReadView, View):
    """Streams the fund's MoJ return workbook: the same bytes `manage.py export_moj_return` writes."""

    def get(self, request, code):
        fund = get_object_or_404(Fund.objects.select_related("funder"), code=code)
        return moj_return_response(fund, user=request.user)


class FundThreeSixtyGivingView(ReadView, View):
    """The fund's allocations as 360Giving open data, in the format the URL names."""

    def get(self, request, code, file_format):
        if file_format not in FORMATS:
            raise Http404("No such format")
        fund = get_object_or_404(Fund, code=code)
        try:
            return three_sixty_giving_response(fund, file_format)
        except (ThreeSixtyGivingNotConfigured, InvalidOpenData) as error:
            messages.error(request, str(error))
            return redirect("grants:fund_detail", code=fund.code)


class AllocationDetailView(ReadView, TemplateView):
    """One line: its money, every entry with who recorded and approved it, and what can be done."""

    template_name = "grants/allocation_detail.html"

    def get_context_data(self, **kwargs):
        line = get_object_or_404(
            selectors.allocation_rows().select_related("fund__funder"), pk=self.kwargs["pk"]
        )
        return super().get_context_data(
            line=line,
            entries=selectors.allocation_entries(line),
            changes=selectors.line_changes(line),
            submission=selectors.submission_in_force(line.fund),
            **kwargs,
        )


class AllocationEditView(LineMixin, ServiceFormView):
    permission_required = "grants.change_allocation"
    form_class = AllocationEditForm
    template_name = "grants/allocation_edit.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.allocation}

    def get_context_data(self, **kwargs):
        return super().get_context_data(allocation=self.allocation, **kwargs)

    def get_success_message(self):
        if (
            selectors.pending_line_changes()
            .filter(allocation=self.saved, proposed_by=self.request.user)
            .exists()
        ):
            return (
                f"Line {self.saved.line_number}: the change awaits approval by someone else; until "
                "then the line stays as it was."
            )
        return f"Line {self.saved.line_number} saved."

    def get_success_url(self):
        return reverse("grants:allocation_detail", args=[self.allocation.pk])


class MoneyMovementView(ServiceFormView):
    """Record a payment, returned underspend or a return to the funder; it waits for approval."""

    permission_required = "grants.add_ledgerentry"
    form_class = MoneyMovementForm
    template_name = "grants/money_movement_form.html"
    kind: str

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "record": self.record, "target": self.target()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title, kind=LedgerEntry.Kind(self.kind).label, back=self.get_success_url(), **kwargs
        )

    def get_success_message(self):
        entry = self.saved
        return f"{entry.get_kind_display()} of {money.format_gbp(entry.amount)} recorded, awaiting approval."


class AllocationMoneyMixin(LineMixin):
    def target(self):
        return {"allocation": self.allocation}

    @property
    def title(self):
        kind = LedgerEntry.Kind(self.kind).label
        return f"{kind}: line {self.allocation.line_number}, {self.allocation.organisation}"

    def get_success_url(self):
        return reverse("grants:allocation_detail", args=[self.allocation.pk])


class PaymentCreateView(AllocationMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.PAYMENT
    record = staticmethod(services.payment_record)


class UnderspendCreateView(AllocationMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.UNDERSPEND_RETURNED
    record = staticmethod(services.underspend_record)


class FunderReturnCreateView(MoneyMovementView):
    kind = LedgerEntry.Kind.RETURNED_TO_FUNDER
    record = staticmethod(services.funder_return_record)

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def target(self):
        return {"fund": self.fund}

    @property
    def title(self):
        return f"Return money to the funder from {self.fund.name}"

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


def _entry_page(entry: LedgerEntry) -> str:
    if entry.allocation_id is not None:
        return reverse("grants:allocation_detail", args=[entry.allocation_id])
    return reverse("grants:fund_detail", args=[entry.fund.code])


class EntryReverseView(ServiceFormView):
    permission_required = "grants.add_ledgerentry"
    form_class = ReverseEntryForm
    template_name = "grants/entry_reverse.html"

    @cached_property
    def entry(self):
        return get_object_or_404(
            LedgerEntry.objects.select_related("fund", "allocation__organisation"), pk=self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "entry": self.entry}

    def get_context_data(self, **kwargs):
        return super().get_context_data(entry=self.entry, back=self.get_success_url(), **kwargs)

    def get_success_message(self):
        entry = self.entry
        return f"{entry.get_kind_display()} of {money.format_gbp(entry.amount)} reversed, awaiting approval."

    def get_success_url(self):
        return _entry_page(self.entry)


def _decided_label(item) -> str:
    if isinstance(item, LedgerEntry):
        return f"{item.get_kind_display()} of {money.format_gbp(item.amount)}"
    return f"The change to line {item.allocation.line_number}"


def _item_page(item) -> str:
    if isinstance(item, LedgerEntry):
        return _entry_page(item)
    return reverse("grants:allocation_detail", args=[item.allocation_id])


DECIDED = {
    services.Decision.APPROVE: "approved",
    services.Decision.REJECT: "rejected",
    services.Decision.WITHDRAW: "withdrawn",
}


def decision_permission(model, decision: services.Decision) -> str:
    """The permission a decision on a row of `model` needs; the service decides whose it may be."""
    if decision is services.Decision.WITHDRAW:
        return "grants.add_ledgerentry" if model is LedgerEntry else "grants.change_allocation"
    return "grants.approve_ledgerentry" if model is LedgerEntry else "grants.approve_linechange"


class DecisionView(LoginRequiredMixin, View):
    """POST only: approve, reject or withdraw one entry or proposed change, then go back to where
    the button was. A rejection or withdrawal carries the reason typed beside its button."""

    model = LedgerEntry
    decision = services.Decision.APPROVE

    def post(self, request, pk):
        item = decide_one(request, self.model, pk, self.decision)
        return redirect(_safe_next(request) or _item_page(item))


def decide_one(request, model, pk: int, decision: services.Decision):
    """Take `decision` on one entry or proposed change as the signed-in user, and say how it went."""
    if not request.user.has_perm(decision_permission(model, decision)):
        raise PermissionDenied
    related = ("fund",) if model is LedgerEntry else ("fund", "allocation")
    item = get_object_or_404(model.objects.select_related(*related), pk=pk)
    kind = "entries" if model is LedgerEntry else "changes"
    try:
        services.decisions_take(
            decision=decision,
            acting_user=request.user,
            reason=request.POST.get("reason", ""),
            **{kind: [item]},
        )
    except services.RowsRefused as refused:
        messages.error(request, " ".join(refused.rows[0].messages))  # the one row decided
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{_decided_label(item)} {DECIDED[decision]}.")
    return item


class ApprovalListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """What awaits approval: entries, proposed changes to lines, and imports whose entries can be
    decided together. An approver ticks any number and approves or rejects them all at once (all or
    nothing); their own cannot be ticked."""

    permission_required = "grants.approve_ledgerentry"
    template_name = "grants/approval_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            entries=selectors.pending_entries(),
            changes=selectors.pending_line_changes(),
            imports=selectors.imports_awaiting_approval(),
            **kwargs,
        )

    def post(self, request):
        if "approve_one" in request.POST:
            return self.approve_one(request, request.POST["approve_one"])
        try:
            decision = services.Decision(request.POST.get("decision", ""))
        except ValueError:
            messages.error(request, "Choose whether to approve or reject what you ticked.")
            return redirect("grants:approval_list")
        entries, changes = self.chosen(request)
        if not entries and not changes:
            messages.error(request, "Tick at least one entry or change (or choose an import).")
            return redirect("grants:approval_list")
        if (entries and not request.user.has_perm(decision_permission(LedgerEntry, decision))) or (
            changes and not request.user.has_perm(decision_permission(LineChange, decision))
        ):
            raise PermissionDenied
        try:
            services.decisions_take(
                decision=decision,
                acting_user=request.user,
                entries=entries,
                changes=changes,
                reason=request.POST.get("reason", ""),
            )
        except services.RowsRefused as refused:
            items = [*entries, *changes]
            reasons = " ".join(
                f"{_decided_label(items[index])}: {' '.join(error.messages)}"
                for index, error in refused.rows.items()
            )
            messages.error(request, f"Nothing was {DECIDED[decision]}. {reasons}")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            count = len(entries) + len(changes)
            messages.success(request, f"{count} item{'s' if count != 1 else ''} {DECIDED[decision]}.")
        return redirect("grants:approval_list")

    def approve_one(self, request, value: str):
        """A row's own Approve button: that entry or change alone, whatever else is ticked."""
        kind, _, pk = value.partition(":")
        model = {"entry": LedgerEntry, "change": LineChange}.get(kind)
        if model is None or not pk.isdigit():
            messages.error(request, "Choose an entry or change to approve.")
            return redirect("grants:approval_list")
        decide_one(request, model, int(pk), services.Decision.APPROVE)
        return redirect("grants:approval_list")

    def chosen(self, request) -> tuple[list[LedgerEntry], list[LineChange]]:
        """The entries and changes the form names: ticked ones, or every pending entry of an import."""
        record_id = request.POST.get("import", "")
        if record_id.isdigit():
            record = get_object_or_404(ImportRecord, pk=int(record_id))
            entries = selectors.import_entries(record).pending()
        else:
            entry_ids = [value for value in request.POST.getlist("entry") if value.isdigit()]
            entries = LedgerEntry.objects.filter(pk__in=entry_ids)
        change_ids = [value for value in request.POST.getlist("change") if value.isdigit()]
        changes = LineChange.objects.filter(pk__in=change_ids).select_related("allocation")
        return list(entries.select_related("fund").order_by("pk")), list(changes.order_by("pk"))


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


class FundSubmitView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """GET: what will be submitted (approved figures only). POST: submit it and lock the fund."""

    permission_required = "grants.add_returnsubmission"
    template_name = "grants/fund_submit.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(page=selectors.fund_page(self.fund), **kwargs)

    def post(self, request, code):
        try:
            submission = services.fund_submit_return(fund=self.fund, acting_user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Version {submission.version} of the MoJ return submitted "
                f"(SHA-256 {submission.sha256[:12]}…). The fund's allocations and entries are now locked.",
            )
        return redirect("grants:fund_detail", code=self.fund.code)


class FundReopenView(ServiceFormView):
    permission_required = "grants.reopen_returnsubmission"
    form_class = ReopenForm
    template_name = "grants/fund_reopen.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, submission=selectors.submission_in_force(self.fund), **kwargs
        )

    def get_success_message(self):
        return (
            f"Reopened: version {self.saved.version} stays on record; the next submission will be "
            f"version {self.saved.version + 1}."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class SubmissionDownloadView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A submitted return, byte for byte as it was submitted."""

    permission_required = "grants.view_returnsubmission"

    def get(self, request, code, version):
        submission = get_object_or_404(ReturnSubmission, fund__code=code, version=version)
        response = HttpResponse(bytes(submission.workbook), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, submission.file_name)
        response["X-Content-SHA256"] = submission.sha256
        return response


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
