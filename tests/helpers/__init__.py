"""Helpers for the tests: running the CLI, and reading a database's whole contents."""
