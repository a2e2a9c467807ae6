"""Accounts (tenants), their admin keys, and the operator who manages them."""
