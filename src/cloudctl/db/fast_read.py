"""Plain SQL reads for the few hot paths that read hundreds of thousands of rows.

The consent reports read every event of a school. Through SQLAlchemy each row would
be wrapped and type-converted, which costs more than the query itself, so these
reads go straight to the driver's cursor, inside the session's own transaction.
The SQL is written with `?` placeholders and works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlmodel import Session


def placeholders(count: int) -> str:
    """'?, ?, ?' for an IN list; at least one, so an empty list matches nothing."""
    return ", ".join(["?"] * count) if count else "NULL"


def fetch_rows(session: Session, sql: str, params: Sequence = ()) -> list[tuple]:
    """Rows of `sql` (with `?` for each value) from the driver's cursor, in the session's transaction.

    Values always travel as parameters, so the SQL holds no quoted text: that keeps the one
    translation needed for psycopg (`?` to `%s`, and any `%` doubled) safe.
    """
    if "'" in sql or '"' in sql:
        raise ValueError("fetch_rows takes values as parameters only, never quoted in the SQL")
    connection = session.connection()
    if connection.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%").replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()
    finally:
        cursor.close()


# Values per IN list: well under SQLite's and PostgreSQL's limits on parameters in one statement.
IN_CHUNK = 500


def fetch_rows_in(
    session: Session, sql: str, values: Sequence, before: Sequence = (), after: Sequence = ()
) -> Iterator[tuple]:
    """Rows of `sql`, whose one "{values}" stands for an IN list of `values`, read IN_CHUNK values at a
    time (the parameters `before` and `after` that list go either side of it in every statement)."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start : start + IN_CHUNK])
        yield from fetch_rows(session, sql.format(values=placeholders(len(chunk))), [*before, *chunk, *after])
