"""Workbooks and files the ledger produces. Each builder is pure: plain data in, bytes out."""
