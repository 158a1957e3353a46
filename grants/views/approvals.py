"""The Approvals page: what awaits a decision, decided many at a time (the ticked rows, or every
entry of one import) through the one decision service, all or nothing.

The form carries what the page showed (each listed row's id, and each import's count awaiting
approval), so a decision taken on a page that has gone stale is refused rather than applied to rows
the approver never saw."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from grants import money, selectors, services
from grants.models import ImportRecord, LedgerEntry, LineChange
from grants.views.entries import DECIDED, decide_one, decision_permission


class ChoiceRefused(Exception):
    """What the form names cannot be decided as it stands; nothing is decided. `problems` are the
    sentences the page shows, one per refused row."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def entry_label(entry: LedgerEntry) -> str:
    """An entry as the approver recognises it in a message: kind, amount, line and fund."""
    where = f"line {entry.allocation.line_number} of " if entry.allocation_id else ""
    return f"{entry.get_kind_display()} of {money.format_gbp(entry.amount)} on {where}{entry.fund.code}"


def change_label(change: LineChange) -> str:
    return f"The change to line {change.allocation.line_number} of {change.fund.code}"


# The largest id a row can have (a 64-bit signed integer): a longer number names no row, and SQLite
# cannot even be asked about it.
_LARGEST_ID = 2**63 - 1


def _id(value: str) -> int | None:
    """`value` as a row's id, or None: ASCII digits only ("²" and "١" pass str.isdigit() but are no
    id; int() refuses the first), no larger than any id can be."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= _LARGEST_ID else None


def _ids(values: list[str]) -> tuple[list[int], list[str]]:
    """The ids among `values`, and the values that name no row (shown back as they were sent)."""
    ids, unreadable = set(), []
    for value in values:
        number = _id(value)
        if number is None:
            if value:
                unreadable.append(value)
        else:
            ids.add(number)
    return sorted(ids), unreadable


class ApprovalListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """What awaits approval: entries, proposed changes to lines, and imports whose entries can be
    decided together. An approver ticks any number and approves or rejects them all at once (all or
    nothing); their own cannot be ticked, and the service refuses them if forged."""

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
        if decision is services.Decision.WITHDRAW:
            messages.error(request, "Withdraw what you recorded from its line's page.")
            return redirect("grants:approval_list")
        try:
            entries, changes = self.chosen(request)
        except ChoiceRefused as refused:
            messages.error(request, f"Nothing was {DECIDED[decision]}. {refused}")
            return redirect("grants:approval_list")
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
            labels = [*map(entry_label, entries), *map(change_label, changes)]
            reasons = " ".join(
                f"{labels[index]}: {' '.join(error.messages)}" for index, error in refused.rows.items()
            )
            messages.error(request, f"Nothing was {DECIDED[decision]}. {reasons}")
        except ValidationError as error:
            messages.error(request, f"Nothing was {DECIDED[decision]}. {' '.join(error.messages)}")
        else:
            count = len(entries) + len(changes)
            messages.success(request, f"{count} item{'s' if count != 1 else ''} {DECIDED[decision]}.")
        return redirect("grants:approval_list")

    def approve_one(self, request, value: str):
        """A row's own Approve button: that entry or change alone, whatever else is ticked."""
        kind, _, pk = value.partition(":")
        model = {"entry": LedgerEntry, "change": LineChange}.get(kind)
        number = _id(pk)
        if model is None or number is None:
            messages.error(request, "Choose an entry or change to approve.")
            return redirect("grants:approval_list")
        decide_one(request, model, number, services.Decision.APPROVE)
        return redirect("grants:approval_list")

    def chosen(self, request) -> tuple[list[LedgerEntry], list[LineChange]]:
        """The entries and changes the form names: every pending entry of an import, or the ticked
        rows. Refused (`ChoiceRefused`) where the page the form came from is not the page as it is
        now: an import whose count awaiting approval has changed, a ticked row the page did not
        list, an id the ledger does not hold, a carry-forward's out leg ticked without its pair."""
        related = ("fund", "allocation")
        record_value = request.POST.get("import", "")
        if record_value:
            record_id = _id(record_value)
            if record_id is None:
                raise ChoiceRefused([f"Import {record_value[:20]}: there is no such import."])
            record = get_object_or_404(ImportRecord.objects.select_related("fund"), pk=record_id)
            entries = list(selectors.import_entries(record).pending().select_related(*related).order_by("pk"))
            shown = request.POST.get("pending", "")
            if shown != str(len(entries)):
                raise ChoiceRefused(
                    [
                        f"The import {record.file_name} has changed since the page was shown: "
                        f"{len(entries)} of its entries await approval now, "
                        f"not {shown or 'the number shown'}. "
                        "Look at them again before deciding."
                    ]
                )
            return entries, []
        entry_ids, unread_entries = _ids(request.POST.getlist("entry"))
        change_ids, unread_changes = _ids(request.POST.getlist("change"))
        shown_entries = set(_ids(request.POST.getlist("shown_entry"))[0])
        shown_changes = set(_ids(request.POST.getlist("shown_change"))[0])
        found_entries = LedgerEntry.objects.select_related(*related).in_bulk(entry_ids)
        found_changes = LineChange.objects.select_related("fund", "allocation").in_bulk(change_ids)
        problems = [f"Entry {value[:20]}: this entry is not in the ledger." for value in unread_entries]
        problems += [
            f"Change {value[:20]}: this proposed change is not in the ledger." for value in unread_changes
        ]
        for entry_id in entry_ids:
            entry = found_entries.get(entry_id)
            if entry is None:
                problems.append(f"Entry {entry_id}: this entry is not in the ledger.")
            elif entry.is_carry_forward_out_leg:
                problems.append(
                    f"{entry_label(entry)}: this is the out leg of a carry-forward; "
                    "tick the pair's row, which decides both legs together."
                )
            elif entry_id not in shown_entries:
                problems.append(
                    f"{entry_label(entry)}: this entry was not on the page you ticked it on. "
                    "Look at the page again before deciding."
                )
        for change_id in change_ids:
            change = found_changes.get(change_id)
            if change is None:
                problems.append(f"Change {change_id}: this proposed change is not in the ledger.")
            elif change_id not in shown_changes:
                problems.append(
                    f"{change_label(change)}: this change was not on the page you ticked it on. "
                    "Look at the page again before deciding."
                )
        if problems:
            raise ChoiceRefused(problems)
        return [found_entries[pk] for pk in entry_ids], [found_changes[pk] for pk in change_ids]
