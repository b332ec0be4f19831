"""Readers for documents and files that schools bring to cloudctl (no database access here)."""
