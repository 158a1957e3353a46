"""Kept only because migration 0008 names `grants.audit.DecimalJSONDecoder` as a field's decoder, and
shipped migrations are not edited: the audit trail lives in the `audit` app."""

from audit.models import DecimalJSONDecoder  # noqa: F401
