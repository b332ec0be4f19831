"""Vocabularies shared across cloudctl: dates, year groups, data categories and UPNs."""
