"""Template filters that show money the one way the ledger shows it: £1,234.56."""

import functools

from django import template
from django.urls import get_script_prefix
from django.utils import dateformat
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from grants import money
from grants.html import UrlPattern, text

register = template.Library()


@register.filter
def gbp(value):
    """`{{ amount|gbp }}` renders a Money or Decimal as £1,234.56 (and -£1,234.56)."""
    return money.format_gbp(value)


@register.simple_tag
def fund_summary_cells(summary):
    """`{% fund_summary_cells summary %}`: a fund's row of the dashboard and the fund list (name,
    funder, spend period, control and ledger totals, variance, status).

    Built here rather than by a template included once per fund, with its URL reversed once per
    page: with hundreds of funds the include and its dozen lookups per row were most of the
    dashboard's time (docs/performance.md).
    """
    fund = summary.fund
    status = text(summary.status)
    language = get_language()
    return mark_safe(  # noqa: S308 - every value is escaped by text() or is a URL escaped by UrlPattern
        f'<th scope="row"><a href="{_fund_url(get_script_prefix()).url(fund.code)}">{text(fund.name)}</a> '
        f'<span class="code">{text(fund.code)}</span></th>\n'
        f"<td>{text(fund.funder.short_name or fund.funder.name)}</td>\n"
        f"<td>{_short_date(fund.spend_start, language)} to {_short_date(fund.spend_end, language)}</td>\n"
        f'<td class="num">{text(money.format_gbp(fund.control_total))}</td>\n'
        f'<td class="num">{text(money.format_gbp(summary.ledger_total))}</td>\n'
        f'<td class="num">{text(money.format_gbp(summary.variance))}</td>\n'
        f'<td><span class="badge badge-{status}">{status}</span></td>'
    )


@functools.lru_cache(maxsize=16)
def _fund_url(script_prefix: str) -> UrlPattern:
    """Reversed once per prefix the site is served under (reverse() adds the request's)."""
    return UrlPattern("grants:fund_detail", slug=True)


@functools.lru_cache(maxsize=4096)
def _short_date(day, language: str) -> str:
    """A date as the `date:"j M Y"` filter shows it in the active language."""
    return text(dateformat.format(day, "j M Y")) if day else ""
