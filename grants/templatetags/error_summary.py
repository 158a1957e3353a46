"""The GOV.UK-style error summary's links (templates/includes/error_summary.html): each error of a
form, with the id of the input it is about."""

from django import template

register = template.Library()


@register.simple_tag
def error_summary_items(form):
    """(anchor, label, message) for each field error, in the form's order; `anchor` is the input's
    id (`id_amount`), or the first option's for a group of radio buttons or tick boxes (`id_kind_0`).
    A hidden field's errors have no input to go to: they come with an empty anchor."""
    items = []
    for field in form:
        if not field.errors:
            continue
        anchor = "" if field.is_hidden else (field.id_for_label or f"{field.auto_id}_0")
        for message in field.errors:
            items.append((anchor, field.label, message))
    return items
