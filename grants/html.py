"""Small helpers for pages that build many rows of HTML in Python (see `AllocationTable.rows_html`
and the `fund_summary_cells` tag): a URL reversed once per page, and text escaped for HTML."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import conditional_escape


def text(value) -> str:
    """Text escaped for HTML; nothing for None."""
    return conditional_escape("" if value is None else value)


class UrlPattern:
    """A URL reversed once, with a placeholder that each row's own key replaces: `reverse()` per row
    costs more than the rest of the row."""

    PLACEHOLDER = "0123456789"

    def __init__(self, name: str, *, slug: bool = False):
        placeholder = f"x{self.PLACEHOLDER}x" if slug else self.PLACEHOLDER
        self.prefix, self.suffix = reverse(name, args=[placeholder]).split(placeholder)

    def url(self, key) -> str:
        return conditional_escape(f"{self.prefix}{key}{self.suffix}")
