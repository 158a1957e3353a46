"""URLs for pages of many rows: a URL pattern reversed once per page, then each row's key put in.

`reverse()` per row cost more than the rest of the row (docs/performance.md, "Rows from templates").
These build URLs only, as text: the templates that show them escape them like any other value.
"""

from collections.abc import Callable
from urllib.parse import quote

from django.urls import reverse

# A key both the int and the slug converters accept, and that no URL prefix holds.
_MARKER = "7194420685"


def url_for_key(name: str) -> Callable[[object], str]:
    """`url_for_key("grants:fund_detail")(code) == reverse("grants:fund_detail", args=[code])` for
    a URL whose one argument is an id or a slug (which need no quoting, but are quoted all the same)."""
    before, marker, after = reverse(name, args=[_MARKER]).partition(_MARKER)
    if not marker or _MARKER in after:
        raise ValueError(f"{name} does not take its key exactly once")
    return lambda key: f"{before}{quote(str(key), safe='')}{after}"
