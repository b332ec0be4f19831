"""Consent at trust scale: 100,000 pupils, 15 pupil services, 1,500,000 consent events.

Prints, from one run on one machine (shared and noisy, so only ratios mean much):
  1. the whole-school consent report (cloudctl's report function) / the best bare SQL query
     answering the same question (latest decision per pupil and service, for pupils on roll);
  2. the report for one class of 30, likewise, and how its cost compares with the whole school's;
  3. one opt-out on that database / one opt-out on an empty database (each sealed into the
     history chain);
  4. `db verify` on that database (every chain recomputed, the guards, SQLite's integrity_check) /
     a bare PRAGMA integrity_check plus one Python pass fetching every history row.

    python benchmarks/consent_report.py            # full size
    python benchmarks/consent_report.py --pupils 10000 --events 150000   # a quick look
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from cloudctl.db.admin import verify_database
from cloudctl.db.engine import open_database
from cloudctl.db.history_chain import CHAIN_COLUMN, HISTORY_TABLES, Sealer, content_columns
from cloudctl.db.location import sqlite_location
from cloudctl.db.models import ConsentEvent, Service
from cloudctl.domain.assessments import record_assessment
from cloudctl.domain.consent import ConsentRequest, record_consent
from cloudctl.domain.providers import add_provider
from cloudctl.domain.service_versions import record_version
from cloudctl.domain.services import ServiceFields, add_service
from cloudctl.domain.settings import init_school
from cloudctl.reports.consent import consent_matrix
from cloudctl.vocab.upn import make_upn

YEARS = ["R", "1", "2", "3", "4", "5", "6"]
SERVICE_YEARS = ["All", "Y2 - Y6", "Y1 to Y6", "All", "EYFS", "Y3 - Y6", "All", "Selected Students"]
CLASS_SIZE = 30


def build(path: Path, pupils: int, events: int, services: int = 15) -> None:
    """Create a database with the register, the pupils and the events (bulk SQL for the bulk)."""
    db = open_database(sqlite_location(path))
    with db.write() as session:
        init_school(session, school_name="Benchmark Trust", years="R,1-6")
        add_provider(session, "Provider Ltd")
        for index in range(services):
            fields = ServiceFields(
                provider="Provider Ltd",
                purpose=f"Learning platform {index}",
                data_shared="full name, class, UPN",
                year_groups=SERVICE_YEARS[index % len(SERVICE_YEARS)],
            )
            add_service(session, f"Service {index:02d}", "pupil", fields)
            record_assessment(
                session,
                f"Service {index:02d}",
                assessed_on=date(2026, 1, 5),
                assessed_by="DPO",
                outcome="approved",
            )
    db.dispose()
    # The register goes in through the domain layer; the bulk (pupils, events) with plain SQL.
    rng = random.Random(20261129)
    # As cloudctl writes a time into SQLite (naive UTC, microseconds).
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    connection = sqlite3.connect(path)
    pupil_rows = []
    for index in range(pupils):
        year = YEARS[index % len(YEARS)]
        upn = make_upn(801, 2000 + index // 100_000, (index // 1000) % 100, index % 1000)
        class_name = f"{year}-{index // (CLASS_SIZE * len(YEARS))}"
        pupil_rows.append(
            (upn, 0, f"Forename{index}", f"Surname{index}", "2017-03-04", "F", year, class_name, 1, now, now)
        )
    connection.executemany(
        "INSERT INTO pupil (upn, upn_temporary, forename, surname, dob, gender, year_group, class_name,"
        " on_roll, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        pupil_rows,
    )
    connection.commit()
    connection.close()
    db = open_database(sqlite_location(path))
    with db.write() as session:
        for service in session.exec(select(Service)):
            record_version(session, service)
    db.dispose()
    connection = sqlite3.connect(path)
    versions = dict(connection.execute("SELECT service_id, id FROM service_version"))
    service_ids = sorted(versions)
    start = date(2025, 9, 1)
    # Each event is sealed into the history chain as cloudctl seals it: id, digest, chain hash.
    head = connection.execute(f"SELECT id, {CHAIN_COLUMN} FROM consent_event ORDER BY id DESC LIMIT 1")
    sealer = Sealer(
        "consent_event", content_columns(ConsentEvent.__table__), *(head.fetchone() or (None, None))
    )
    batch = []
    made = 0
    while made < events:
        pupil_id = rng.randrange(1, pupils + 1)
        service_id = rng.choice(service_ids)
        decision = "opt-in" if rng.random() < 0.8 else "opt-out"
        when = (start + timedelta(days=rng.randrange(400))).isoformat()
        row = {"pupil_id": pupil_id, "service_id": service_id, "service_version_id": versions[service_id],
               "decision": decision, "effective_on": when, "given_by": "Parent", "method": "form",
               "recorded_by": "office", "selected": decision == "opt-in" and rng.random() < 0.1,
               "recorded_at": now}  # fmt: skip
        batch.append((*sealer.seal(row), *(row[name] for name in EVENT_COLUMNS)))
        made += 1
        if len(batch) == 50_000:
            _insert_events(connection, batch)
            batch = []
    _insert_events(connection, batch)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


EVENT_COLUMNS = ["pupil_id", "service_id", "service_version_id", "decision", "effective_on", "given_by",
                 "method", "recorded_by", "selected", "recorded_at"]  # fmt: skip


def _insert_events(connection: sqlite3.Connection, batch: list[tuple]) -> None:
    columns = ["id", "content_digest", "chain_hash", *EVENT_COLUMNS]
    connection.executemany(
        f"INSERT INTO consent_event ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", batch
    )


BARE_QUERIES = {
    "window function": """
        SELECT p.upn, e.service_id, e.decision
        FROM pupil p
        JOIN (SELECT pupil_id, service_id, decision,
                     ROW_NUMBER() OVER (PARTITION BY pupil_id, service_id
                                        ORDER BY effective_on DESC, id DESC) AS n
              FROM consent_event {event_filter}) e ON e.pupil_id = p.id AND e.n = 1
        WHERE p.on_roll {pupil_filter}""",
    "index-order scan": """
        SELECT p.upn, e.service_id, e.decision, e.effective_on
        FROM pupil p JOIN consent_event e ON e.pupil_id = p.id
        WHERE p.on_roll {pupil_filter}
        ORDER BY e.pupil_id, e.service_id, e.effective_on, e.id""",
}


def best_bare(path: Path, class_name: str | None, rounds: int) -> float:
    connection = sqlite3.connect(path)
    pupil_filter = "AND p.class_name = ?" if class_name else ""
    event_filter = "WHERE pupil_id IN (SELECT id FROM pupil WHERE class_name = ?)" if class_name else ""
    best = float("inf")
    for sql in BARE_QUERIES.values():
        query = sql.format(pupil_filter=pupil_filter, event_filter=event_filter)
        params = [class_name] * query.count("?") if class_name else []
        best = min(best, timed(lambda q=query, p=params: connection.execute(q, p).fetchall(), rounds))
    connection.close()
    return best


def timed(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_time(path: Path, class_name: str | None, rounds: int) -> float:
    db = open_database(sqlite_location(path))

    def run() -> None:
        with db.read() as session:
            consent_matrix(session, class_name=class_name)

    run()  # warm the connection pool and caches, as the bare query's connection is warm
    result = timed(run, rounds)
    db.dispose()
    return result


def opt_out_time(path: Path, upn: str, rounds: int) -> float:
    db = open_database(sqlite_location(path))
    times = []
    for index in range(rounds):
        started = time.perf_counter()
        with db.write() as session:
            record_consent(
                session,
                ConsentRequest(
                    "opt-out" if index % 2 == 0 else "opt-in", date(2026, 11, 28), given_by="Parent"
                ),
                upn=upn,
                service_name="Service 00",
            )
        times.append(time.perf_counter() - started)
    db.dispose()
    return statistics.median(times)


def verify_times(path: Path, rounds: int) -> tuple[float, float]:
    """Medians of `db verify`'s work and of the bare baseline, measured in turns so noise hits both."""
    db = open_database(sqlite_location(path))

    def verify() -> None:
        result = verify_database(db)
        assert result.ok, result.problems

    def bare() -> None:
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            for table in HISTORY_TABLES:
                cursor = connection.execute(f"SELECT * FROM {table} ORDER BY id")
                while cursor.fetchmany(20_000):
                    pass
        finally:
            connection.close()

    verify_runs, bare_runs = [], []
    for _ in range(rounds):
        bare_runs.append(timed(bare, 1))
        verify_runs.append(timed(verify, 1))
    db.dispose()
    return statistics.median(verify_runs), statistics.median(bare_runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--verify-rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.db", Path(folder) / "small.db"
        started = time.perf_counter()
        build(big, args.pupils, args.events)
        build(small, 30, 15)
        elapsed = time.perf_counter() - started
        print(f"built {args.pupils:,} pupils and {args.events:,} events in {elapsed:.1f} s")
        connection = sqlite3.connect(big)
        class_name = connection.execute(
            "SELECT class_name FROM pupil GROUP BY class_name HAVING count(*) = ? LIMIT 1", (CLASS_SIZE,)
        ).fetchone()[0]
        upn = connection.execute(
            "SELECT upn FROM pupil WHERE class_name = ? LIMIT 1", (class_name,)
        ).fetchone()[0]
        small_upn = sqlite3.connect(small).execute("SELECT upn FROM pupil WHERE id = 2").fetchone()[0]
        connection.close()

        whole_bare = best_bare(big, None, args.rounds)
        whole_report = report_time(big, None, args.rounds)
        class_bare = best_bare(big, class_name, args.rounds * 20)
        class_report = report_time(big, class_name, args.rounds * 20)
        big_opt_out = opt_out_time(big, upn, args.rounds * 10)
        small_opt_out = opt_out_time(small, small_upn, args.rounds * 10)
        verify_time, bare_time = verify_times(big, args.verify_rounds)

    print(
        f"whole-school report: {whole_report * 1000:8.1f} ms, best bare SQL {whole_bare * 1000:8.1f} ms, "
        f"ratio {whole_report / whole_bare:.2f} (target <= 1.5)"
    )
    print(
        f"one class of {CLASS_SIZE}: {class_report * 1000:8.2f} ms, "
        f"best bare SQL {class_bare * 1000:8.2f} ms, "
        f"ratio {class_report / class_bare:.2f} (target <= 1.5)"
    )
    print(
        f"class report / whole-school report: {class_report / whole_report:.4f} "
        f"(pupils in the class / pupils: {CLASS_SIZE / args.pupils:.4f})"
    )
    print(
        f"one opt-out: {big_opt_out * 1000:.2f} ms on the big database, {small_opt_out * 1000:.2f} ms on an "
        f"empty one, ratio {big_opt_out / small_opt_out:.2f} (target <= 1.3)"
    )
    print(
        f"db verify: {verify_time:.2f} s, bare integrity_check + one pass over the history rows "
        f"{bare_time:.2f} s, ratio {verify_time / bare_time:.2f} (target < 3)"
    )


if __name__ == "__main__":
    main()
