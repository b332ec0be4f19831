"""Verifying the history: every chain recomputed, the guards checked, the engine's own integrity check.

`verify_history` reads every history row once, in id order, and checks that

- its contents still match the digest sealed with them (a row changed after it was written);
- its chain hash follows from the row before it (a row removed, inserted out of turn, renumbered);
- any head the school recorded earlier (in the governors' minutes) is still in the recomputed
  chain, which proves that nothing before it changed since, even if a forger re-sealed every row.

It also checks that the triggers keeping history append-only are present, as cloudctl wrote
them, and enabled, and runs the database engine's integrity check (SQLite's integrity_check or
quick_check; on PostgreSQL the amcheck extension, when it is installed and the user may run it).

A later retention job may blank a leaver's personal fields: it will record a redaction event that
names the row and the digest of its redacted contents, and a row whose contents match that digest
will pass here. Until such events exist, any content mismatch is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from cloudctl.db.append_only import GUARDED, all_guard_statements
from cloudctl.db.history_chain import (
    CHAIN_COLUMN,
    DIGEST_COLUMN,
    HASH_LENGTH,
    HISTORY_TABLES,
    NOT_CONTENT,
    genesis,
    kind_of,
    link,
    make_digester,
)
from cloudctl.errors import CloudctlError, InvalidInput

FETCH_ROWS = 20_000
RESTORE_ADVICE = (
    "Keep this database as it is, as evidence, and tell your data protection officer: compare it with "
    "your latest backup that verifies (cloudctl --db BACKUP db verify) to see what changed. Consent "
    "decisions can still be recorded meanwhile. See docs/history.md."
)


class HistoryBroken(CloudctlError):
    """The history does not verify: a row changed, a guard is gone, or the database is damaged."""


# --- recorded heads ---------------------------------------------------------------------------------


def parse_heads(values: Sequence[str]) -> dict[str, list[str]]:
    """`--head TABLE=HASH` values, as recorded heads per table."""
    heads: dict[str, list[str]] = {}
    for value in values:
        table, _, digest = value.strip().partition("=")
        table, digest = table.strip(), digest.strip().lower()
        if table not in HISTORY_TABLES:
            raise InvalidInput(
                f"--head {value!r}: give a head as TABLE=HASH, where TABLE is one of "
                f"{', '.join(HISTORY_TABLES)} (as db verify prints them)."
            )
        if len(digest) != HASH_LENGTH or not re.fullmatch(r"[0-9a-f]+", digest):
            raise InvalidInput(
                f"--head {table}=...: a head is the {HASH_LENGTH} characters 0-9 and a-f that db verify "
                f"printed; this one has {len(digest)}. Copy it again from the minutes."
            )
        heads.setdefault(table, []).append(digest)
    return heads


# --- what was found ---------------------------------------------------------------------------------


@dataclass
class Chain:
    """One table's chain: its rows, its head (recomputed) and the first thing wrong with it."""

    table: str
    rows: int = 0
    head: str = ""
    broken_rows: int = 0
    first_problem: str | None = None
    # Each recorded head given, and the id of the row it was found at (None: not in the chain; 0: the
    # head of the table when it had no rows).
    recorded: dict[str, int | None] = field(default_factory=dict)
    rows_after: dict[str, int] = field(default_factory=dict)

    @property
    def state(self) -> str:
        if self.first_problem is not None:
            return f"BROKEN: {self.broken_rows:,} row(s) do not verify"
        if any(found is None for found in self.recorded.values()):
            return "BROKEN: a recorded head is not in the chain"
        return "verified"

    def record(self) -> dict:
        return {
            "table": self.table,
            "rows": self.rows,
            "head": self.head,
            "state": self.state,
            "first_problem": self.first_problem,
            "recorded_heads": [
                {"head": head, "found_at_row": found, "rows_since": self.rows_after.get(head)}
                for head, found in self.recorded.items()
            ],
        }


@dataclass
class Verification:
    backend: str
    chains: list[Chain] = field(default_factory=list)
    guards_checked: int = 0
    guard_problems: list[str] = field(default_factory=list)
    integrity_check: str = ""
    integrity: str = "not run"
    integrity_problem: str | None = None

    @property
    def problems(self) -> list[str]:
        """Everything wrong, the most telling first: the first broken row of each table."""
        found = [chain.first_problem for chain in self.chains if chain.first_problem]
        for chain in self.chains:
            found += [
                f"{chain.table}: the recorded head {head} is not in the chain, so rows recorded before it "
                "were changed, removed or re-sealed since it was recorded."
                for head, row in chain.recorded.items()
                if row is None
            ]
        found += self.guard_problems
        if self.integrity_problem:
            found.append(self.integrity_problem)
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: "verified", or the first problem and how many more."""
        problems = self.problems
        if not problems:
            return "verified"
        more = (
            f" (and {len(problems) - 1} more problem(s): cloudctl db verify lists them)"
            if len(problems) > 1
            else ""
        )
        return f"NOT verified: {problems[0]}{more}"

    def failure(self) -> str:
        """The message for a history that does not verify: every problem, then what to do."""
        lines = ["The history does not verify:"] + [f"  {problem}" for problem in self.problems]
        if self.problems != [self.integrity_problem]:  # damage alone has its own advice: restore
            lines.append(RESTORE_ADVICE)
        return "\n".join(lines)

    def heads(self) -> dict[str, str]:
        return {chain.table: chain.head for chain in self.chains}

    def record(self) -> dict:
        return {
            "verified": self.ok,
            "backend": self.backend,
            "chains": [chain.record() for chain in self.chains],
            "guards_checked": self.guards_checked,
            "guard_problems": self.guard_problems,
            "integrity_check": self.integrity_check,
            "integrity": self.integrity,
            "problems": self.problems,
        }


# --- verifying --------------------------------------------------------------------------------------


def verify_history(
    connection: Connection,
    *,
    integrity: str | None = "full",
    heads: Mapping[str, Sequence[str]] | None = None,
) -> Verification:
    """Check every chain, the guards and (`integrity` "full", "quick" or None) the engine's integrity."""
    dialect = connection.dialect.name
    result = Verification(backend=dialect)
    if integrity is not None:
        _check_integrity(connection, result, quick=integrity == "quick")
    existing = set(inspect(connection).get_table_names())
    for table in HISTORY_TABLES:
        if table not in existing:
            result.guard_problems.append(f"The {table} table is missing from the database.")
            continue
        result.chains.append(_verify_chain(connection, table, (heads or {}).get(table, ())))
    _check_guards(connection, result, existing)
    return result


def _verify_chain(connection: Connection, table: str, recorded: Sequence[str]) -> Chain:
    chain = Chain(table=table, head=genesis(table), recorded=dict.fromkeys(recorded))
    columns = {column["name"]: column for column in inspect(connection).get_columns(table)}
    if DIGEST_COLUMN not in columns or CHAIN_COLUMN not in columns:
        chain.first_problem = f"{table}: its rows are not sealed (the table has no {CHAIN_COLUMN} column)."
        return chain
    content = sorted(
        (name, kind_of(column["type"])) for name, column in columns.items() if name not in NOT_CONTENT
    )
    digest_of = make_digester(content)
    # The contents first, so each row goes to the digester as it is; the id and the seals last.
    listed = ", ".join([*(name for name, _ in content), "id", DIGEST_COLUMN, CHAIN_COLUMN])
    sql = f"SELECT {listed} FROM {table} ORDER BY id"
    at = len(content)
    wanted: dict[str, int | None] = {head: None for head in recorded}
    found_at: dict[str, int] = {}
    if chain.head in wanted:
        # The head of a table that had no rows then (its genesis value): position 0, every row since.
        wanted[chain.head] = 0
        found_at[chain.head] = 0
    stored_previous = recomputed = chain.head
    diverged = False
    count = 0
    problem = ""
    try:
        for batch in _batches(connection, sql, table):
            for row in batch:
                row_id, stored_digest, stored_chain = row[at], row[at + 1], row[at + 2]
                count += 1
                content_ok = digest_of(row) == stored_digest
                expected = sha256(
                    f"{stored_previous}:{row_id}:{stored_digest}".encode()
                ).hexdigest()  # link()
                if expected != stored_chain:
                    # The link is the row's place in the chain: a row inserted, removed or renumbered.
                    diverged = True
                    problem = (
                        f"{table} row {row_id}: it does not follow the row before it in the chain (a row was "
                        "inserted, removed or renumbered here: this row, or the one before it, was written "
                        "or deleted outside cloudctl)."
                    )
                    if not content_ok:
                        problem += (
                            " Its contents do not match the digest stored with it either, so cloudctl did "
                            "not seal it."
                        )
                elif not content_ok:
                    # In its place in the chain, but changed since it was sealed.
                    problem = (
                        f"{table} row {row_id}: its contents were changed after it was recorded "
                        "(they no longer match the digest sealed with them)."
                    )
                if not content_ok or expected != stored_chain:
                    chain.broken_rows += 1
                    chain.first_problem = chain.first_problem or problem
                recomputed = link(recomputed, row_id, stored_digest) if diverged else expected
                stored_previous = stored_chain
                if wanted and recomputed in wanted:
                    found_at[recomputed] = count
                    wanted[recomputed] = row_id
    except DBAPIError as error:
        chain.broken_rows += 1
        chain.first_problem = chain.first_problem or (
            f"{table}: reading its rows failed after row {count} ({_first_line(error)}): the database may be "
            "damaged: restore the latest backup (cloudctl db backup)."
        )
    chain.rows = count
    chain.head = recomputed
    chain.recorded = wanted
    chain.rows_after = {head: count - at for head, at in found_at.items()}
    return chain


def _batches(connection: Connection, sql: str, table: str) -> Iterator[list[tuple]]:
    """Rows of `sql` straight from the driver, a batch at a time, inside the connection's transaction."""
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"cloudctl_verify_{table}")  # server-side: the rows are not all held
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield batch
    finally:
        cursor.close()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- the guards ---------------------------------------------------------------------------------------


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def _missing(name: str, table: str) -> str:
    return (
        f"The guard {name} is missing, so {table} rows could be changed or deleted unnoticed by the database."
    )


def _replaced(name: str, table: str) -> str:
    return f"The guard {name} is not as cloudctl wrote it: it was replaced, and may let {table} rows change."


def _check_guards(connection: Connection, result: Verification, existing: set[str]) -> None:
    if connection.dialect.name == "sqlite":
        _check_sqlite_guards(connection, result, existing)
    elif connection.dialect.name == "postgresql":
        _check_postgresql_guards(connection, result, existing)


def _check_sqlite_guards(connection: Connection, result: Verification, existing: set[str]) -> None:
    present = {
        name: (table, sql)
        for name, table, sql in connection.exec_driver_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    for table in GUARDED:
        if table not in existing:
            continue
        for statement in all_guard_statements("sqlite", table):
            name = statement.split()[2]
            result.guards_checked += 1
            if name not in present:
                result.guard_problems.append(_missing(name, table))
            elif present[name][0] != table or _squash(present[name][1] or "") != _squash(statement):
                result.guard_problems.append(_replaced(name, table))


# A trigger as pg_get_triggerdef writes it.
_PG_TRIGGER = re.compile(
    r"^CREATE TRIGGER (?P<name>\S+) BEFORE (?P<events>.+?) ON (?P<table>\S+) "
    r"FOR EACH (?P<level>ROW|STATEMENT) EXECUTE (?:FUNCTION|PROCEDURE) (?P<function>\S+)\(\)$"
)


def postgresql_guard_problem(table: str, name: str, definition: str, enabled: str, body: str) -> str | None:
    """What is wrong with one PostgreSQL guard trigger, from the catalogue, or None."""
    expected_body = _expected_pg_body(table)
    match = _PG_TRIGGER.match(definition.strip())
    events, level = (
        ({"DELETE", "UPDATE"}, "ROW") if name == f"{table}_no_update" else ({"TRUNCATE"}, "STATEMENT")
    )
    if (
        match is None
        or match["table"].rsplit(".", 1)[-1].strip('"') != table
        or set(match["events"].split(" OR ")) != events
        or match["level"] != level
        or match["function"].rsplit(".", 1)[-1].strip('"') != f"{table}_refuse_change"
        or _squash(body) != _squash(expected_body)
    ):
        return _replaced(name, table)
    if enabled not in ("O", "A"):
        how = "disabled" if enabled == "D" else "set to fire only on a replica"
        return (
            f"The guard {name} on {table} is {how} (ALTER TABLE ... DISABLE TRIGGER), so {table} rows could "
            "be changed or deleted while it was off."
        )
    return None


def _expected_pg_body(table: str) -> str:
    function = all_guard_statements("postgresql", table)[0]
    return function.split("$$")[1]


def _check_postgresql_guards(connection: Connection, result: Verification, existing: set[str]) -> None:
    rows = connection.exec_driver_sql(
        "SELECT c.relname, t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid), p.prosrc "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE NOT t.tgisinternal AND pg_table_is_visible(c.oid)"
    ).all()
    present = {name: (table, enabled, definition, body) for table, name, enabled, definition, body in rows}
    for table in GUARDED:
        if table not in existing:
            continue
        for name in (f"{table}_no_update", f"{table}_no_truncate"):
            result.guards_checked += 1
            if name not in present or present[name][0] != table:
                result.guard_problems.append(_missing(name, table))
                continue
            _, enabled, definition, body = present[name]
            problem = postgresql_guard_problem(table, name, definition, str(enabled), body or "")
            if problem:
                result.guard_problems.append(problem)


# --- the engine's integrity check ---------------------------------------------------------------------


def check_integrity(connection: Connection, *, quick: bool) -> Verification:
    """The engine's integrity check alone (for a database whose history is not sealed yet)."""
    result = Verification(backend=connection.dialect.name)
    _check_integrity(connection, result, quick=quick)
    return result


def _check_integrity(connection: Connection, result: Verification, *, quick: bool) -> None:
    if connection.dialect.name == "sqlite":
        pragma = "quick_check" if quick else "integrity_check"
        result.integrity_check = f"SQLite {pragma}"
        try:
            verdict = [row[0] for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
        except DBAPIError as error:
            verdict = [_first_line(error)]
        if verdict == ["ok"]:
            result.integrity = "ok"
        else:
            result.integrity = "; ".join(verdict[:3])
            result.integrity_problem = (
                f"The database file is damaged (SQLite's {pragma}: {'; '.join(verdict[:3])}): restore the "
                "latest backup (cloudctl db backup)."
            )
        return
    if connection.dialect.name == "postgresql":
        _check_postgresql_integrity(connection, result, quick=quick)


def _check_postgresql_integrity(connection: Connection, result: Verification, *, quick: bool) -> None:
    """amcheck, where installed and allowed: every B-tree index of the history tables (and, in full,
    that each index holds every row, and the tables' own pages where amcheck can check them)."""
    result.integrity_check = "PostgreSQL amcheck"
    installed = connection.exec_driver_sql(
        "SELECT extversion FROM pg_extension WHERE extname = 'amcheck'"
    ).scalar()
    if installed is None:
        result.integrity = (
            "not available: the amcheck extension is not installed in this database "
            "(an administrator can add it: CREATE EXTENSION amcheck)"
        )
        return
    tables = list(HISTORY_TABLES)
    indexes = [
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = x.relam "
            "WHERE a.amname = 'btree' AND pg_table_is_visible(c.oid) AND c.relname::text = ANY(%(tables)s)",
            {"tables": tables},
        )
    ]
    checks = [("SELECT bt_index_check(CAST(%(name)s AS regclass), %(all)s)", index) for index in indexes]
    if not quick:
        checks += [
            ("SELECT blkno, offnum, msg FROM verify_heapam(CAST(%(name)s AS regclass)) LIMIT 1", t)
            for t in tables
        ]
    for sql, name in checks:
        try:
            with connection.begin_nested():
                found = connection.exec_driver_sql(sql, {"name": name, "all": not quick}).first()
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None)
            if sqlstate == "42501":
                result.integrity = (
                    "not available: this database user may not run amcheck (an administrator can allow it: "
                    "see docs/postgresql.md)"
                )
                return
            if sqlstate == "42883":  # verify_heapam needs amcheck 1.3 (PostgreSQL 14)
                continue
            if not str(sqlstate).startswith("XX"):  # not corruption (XX001, XX002): amcheck could not run
                result.integrity = f"not available: amcheck could not run ({_first_line(error)})"
                return
            result.integrity = _first_line(error)
            result.integrity_problem = (
                f"PostgreSQL's amcheck found damage in {name} ({_first_line(error)}): ask the server's "
                "administrator to restore the latest backup."
            )
            return
        if "verify_heapam" in sql and found is not None:
            result.integrity = f"{name}: {found[2]}"
            result.integrity_problem = (
                f"PostgreSQL's amcheck found damage in {name} (block {found[0]}: {found[2]}): ask the "
                "server's administrator to restore the latest backup."
            )
            return
    result.integrity = f"ok ({len(indexes)} indexes{'' if quick else ' and the history tables'} checked)"
