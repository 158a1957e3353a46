"""Template filters that show money the one way the ledger shows it: £1,234.56."""

from django import template

from grants import money

register = template.Library()


@register.filter
def gbp(value):
    """`{{ amount|gbp }}` renders a Money or Decimal as £1,234.56 (and -£1,234.56)."""
    return money.format_gbp(value)
