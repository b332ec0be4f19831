"""The plain-SQL reads behind the consent reports work alike on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cloudctl.db.engine import open_database
from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.location import resolve_location


@pytest.fixture
def db(cli):
    database = open_database(resolve_location())
    yield database
    database.dispose()


def test_parameters_and_a_modulo_sign(db):
    with db.read() as session:
        assert fetch_rows(session, "SELECT 7 % ?, ?", [4, "100% sure? yes"]) == [(3, "100% sure? yes")]


def test_an_in_list(db):
    with db.read() as session:
        sql = f"SELECT COUNT(*) FROM school_settings WHERE id IN ({placeholders(3)})"
        assert fetch_rows(session, sql, [1, 2, 3]) == [(0,)]
        assert fetch_rows(
            session, f"SELECT COUNT(*) FROM school_settings WHERE id IN ({placeholders(0)})"
        ) == [(0,)]


def test_quoted_text_in_the_sql_is_refused(db):
    with db.read() as session, pytest.raises(ValueError, match="parameters"):
        fetch_rows(session, "SELECT 'why?'")
