"""Template filters that show money the one way the ledger shows it (£1,234.56), and reasons short
enough for a table row."""

import re

from django import template

from grants import money

register = template.Library()


@register.filter
def gbp(value):
    """`{{ amount|gbp }}` renders a Money or Decimal as £1,234.56 (and -£1,234.56)."""
    return money.format_gbp(value)


# A SHA-256 written out in hexadecimal, as an import's memo names its file by.
_SHA256 = re.compile(r"\b[0-9a-fA-F]{64}\b")
SHORT_HASH = 12


@register.filter
def short_reason(value):
    """`{{ entry.memo|short_reason }}`: the reason with each SHA-256 cut to its first 12 characters
    (enough to tell files apart on a page; the entry's page shows the whole text)."""
    return _SHA256.sub(lambda found: f"{found.group()[:SHORT_HASH]}…", str(value or ""))
