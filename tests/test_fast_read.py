"""The plain-SQL reads behind the consent reports work alike on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cloudctl.db.engine import open_database
from cloudctl.db.fast_read import IN_CHUNK, fetch_rows, fetch_rows_in, placeholders
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


def test_an_in_list_longer_than_a_chunk_reads_every_row_once_with_the_parameters_around_it(db):
    values = list(range(1, 3 * IN_CHUNK + 50, 2))  # more than two chunks
    with db.read() as session:
        rows = list(
            fetch_rows_in(
                session,
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
                "SELECT n FROM s WHERE n IN ({values}) AND n > ?",
                values,
                before=[4 * IN_CHUNK],
                after=[10],
            )
        )
        assert sorted(row[0] for row in rows) == [n for n in values if n > 10]
        assert list(fetch_rows_in(session, "SELECT 1 WHERE 1 IN ({values})", [])) == []


def test_quoted_text_in_the_sql_is_refused(db):
    with db.read() as session, pytest.raises(ValueError, match="parameters"):
        fetch_rows(session, "SELECT 'why?'")
