"""The record of processing at trust scale: a register of 2,000 services.

Each service has a provider (of 200), a data-shared list, one to three risk assessments (sealed into the
history chain as cloudctl seals them) and, for most, one or two agreements. Prints, from one run on one
machine (shared and noisy, so only the ratio means much), the time of `report ropa`'s rows (cloudctl's
report function, in-process: start-up and rendering excluded) against the best bare SQL query returning the
same rows (each service with its provider, its latest assessment and its current agreement (none when it was
recorded before the service moved to another provider), and the changes that can outdate an assessment).

    python -m benchmarks.ropa
    python -m benchmarks.ropa --services 500 --rounds 5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cloudctl.db.engine import open_database
from cloudctl.db.history_chain import Sealer, content_columns
from cloudctl.db.location import sqlite_location
from cloudctl.db.models import RiskAssessment, ServiceChange
from cloudctl.domain.settings import init_school
from cloudctl.reports.ropa import ropa

CATEGORIES = ["pupil", "management", "other", "statutory"]
DATA = [
    ["full name", "class"],
    ["full name", "UPN", "date of birth", "gender", "assessment data"],
    ["first name", "surname initial"],
    ["full name", "medical"],
    ["parent/contact names", "telephone numbers", "email addresses"],
    ["Staff names and email addresses"],
    ["photos or notes synchronised using iCloud"],
    [],
]
STORAGE = [("UK", None), ("EEA", "Ireland"), ("elsewhere", "USA, IDTA"), ("elsewhere", None), (None, None)]

BARE_QUERIES = {
    "correlated subqueries": """
        SELECT s.id, s.name, s.category, p.name, s.purpose, s.data_categories, s.data_shared_text, s.controls,
               s.review_months, s.lawful_basis, s.special_category_condition, s.storage_location,
               s.storage_detail, s.retention, s.website, s.privacy_url, s.position,
               a.assessed_on, a.next_review, a.recorded_at,
               c.dpa_signed_on, c.dpa_reference, c.dpa_location, c.ends_on
        FROM service s
        LEFT JOIN provider p ON p.id = s.provider_id
        LEFT JOIN risk_assessment a ON a.id = (
            SELECT r.id FROM risk_assessment r WHERE r.service_id = s.id
            ORDER BY r.assessed_on DESC, r.id DESC LIMIT 1)
        LEFT JOIN service_contract c ON c.id = (
            SELECT MAX(k.id) FROM service_contract k WHERE k.service_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM service_change m WHERE m.service_id = s.id AND m.field = 'provider'
                            AND m.before IS NOT NULL AND m.recorded_at > c.recorded_at)
        WHERE s.status <> 'retired'""",
    "window functions": """
        SELECT s.id, s.name, s.category, p.name, s.purpose, s.data_categories, s.data_shared_text, s.controls,
               s.review_months, s.lawful_basis, s.special_category_condition, s.storage_location,
               s.storage_detail, s.retention, s.website, s.privacy_url, s.position,
               a.assessed_on, a.next_review, a.recorded_at,
               c.dpa_signed_on, c.dpa_reference, c.dpa_location, c.ends_on
        FROM service s
        LEFT JOIN provider p ON p.id = s.provider_id
        LEFT JOIN (SELECT service_id, assessed_on, next_review, recorded_at,
                          ROW_NUMBER() OVER (PARTITION BY service_id ORDER BY assessed_on DESC, id DESC) AS n
                   FROM risk_assessment) a ON a.service_id = s.id AND a.n = 1
        LEFT JOIN (SELECT service_id, dpa_signed_on, dpa_reference, dpa_location, ends_on, recorded_at,
                          ROW_NUMBER() OVER (PARTITION BY service_id ORDER BY id DESC) AS n
                   FROM service_contract) c ON c.service_id = s.id AND c.n = 1
            AND NOT EXISTS (SELECT 1 FROM service_change m WHERE m.service_id = s.id AND m.field = 'provider'
                            AND m.before IS NOT NULL AND m.recorded_at > c.recorded_at)
        WHERE s.status <> 'retired'""",
}


# The second query both sides run: the changes that can outdate an assessment (changed-since-assessed).
CHANGES = (
    "SELECT service_id, changed_on, recorded_at FROM service_change WHERE effect IN ('changed', 'widening')"
)


def build(path: Path, services: int) -> None:
    db = open_database(sqlite_location(path))
    with db.write() as session:
        init_school(session, school_name="Benchmark Trust", years="R,1-6")
    db.dispose()
    rng = random.Random(20261201)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    connection = sqlite3.connect(path)
    connection.executemany(
        "INSERT INTO provider (id, name, created_at) VALUES (?, ?, ?)",
        [(index, f"Provider {index:03d} Ltd", now) for index in range(1, 201)],
    )
    rows = []
    for index in range(1, services + 1):
        data = rng.choice(DATA)
        location, detail = rng.choice(STORAGE)
        rows.append(
            (
                index, f"Service {index:04d}", CATEGORIES[index % 4], rng.randrange(1, 201),
                f"Purpose {index % 37}", ", ".join(data), json.dumps(data), "Purchased", "All", "years",
                "R,1,2,3,4,5,6", "retired" if index % 50 == 0 else "approved", "{}", index, now, now,
                rng.choice([None, "Public task"]), rng.choice([None, "Art. 9(2)(g)"]), location, detail,
                rng.choice([None, "6 years"]), rng.choice([None, "Encrypted"]),
                rng.choice([None, f"https://s{index}.example"]), rng.choice([None, 24]),
            )
        )  # fmt: skip
    connection.executemany(
        "INSERT INTO service (id, name, category, provider_id, purpose, data_shared_text, data_categories, "
        "service_type, year_groups_text, year_scope, year_codes, status, extra_fields, position, created_at, "
        "updated_at, lawful_basis, special_category_condition, storage_location, storage_detail, retention, "
        "controls, website, review_months) VALUES (" + ", ".join("?" * 24) + ")",
        rows,
    )
    # Assessments sealed into the chain, as cloudctl writes them.
    sealer = Sealer("risk_assessment", content_columns(RiskAssessment.__table__), None, None)
    columns = ["service_id", "assessed_on", "assessed_by", "outcome", "recorded_at"]
    assessments = []
    for index in range(1, services + 1):
        for _ in range(rng.randrange(0, 4)):
            row = {
                "service_id": index,
                "assessed_on": (date(2019, 1, 1) + timedelta(days=rng.randrange(2500))).isoformat(),
                "assessed_by": "DPO",
                "outcome": "approved",
                "recorded_at": now,
            }
            assessments.append((*sealer.seal(row), *(row[name] for name in columns)))
    connection.executemany(
        f"INSERT INTO risk_assessment (id, content_digest, chain_hash, {', '.join(columns)}) "
        f"VALUES ({', '.join('?' * (len(columns) + 3))})",
        assessments,
    )
    contracts = []
    for index in range(1, services + 1):
        for _ in range(rng.choice([0, 1, 1, 2])):
            contracts.append(
                (index, rng.choice([None, "2024-01-01"]), f"REF-{index}", None, "2027-08-31", 3, now, now)
            )
    connection.executemany(
        "INSERT INTO service_contract (service_id, dpa_signed_on, dpa_reference, dpa_location, ends_on, "
        "notice_months, recorded_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        contracts,
    )
    # Changes to one service in ten, sealed as cloudctl writes them.
    sealer = Sealer("service_change", content_columns(ServiceChange.__table__), None, None)
    columns = ["service_id", "changed_on", "field", "before", "after", "effect", "source", "recorded_at"]
    changes = []
    for index in range(1, services + 1, 10):
        row = {
            "service_id": index,
            "changed_on": (date(2024, 1, 1) + timedelta(days=rng.randrange(1000))).isoformat(),
            "field": "data_shared",
            "before": "[]",
            "after": json.dumps(["full name"]),
            "effect": rng.choice(["widening", "narrowing", "changed"]),
            "source": "service edit",
            "recorded_at": now,
        }
        changes.append((*sealer.seal(row), *(row[name] for name in columns)))
    connection.executemany(
        f"INSERT INTO service_change (id, content_digest, chain_hash, {', '.join(columns)}) "
        f"VALUES ({', '.join('?' * (len(columns) + 3))})",
        changes,
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


# The clock: this thread's CPU time by default. The report and the bare queries run in this one thread
# (SQLite is in-process), so CPU time counts all their work, and on a shared machine it does not count
# the time other processes hold the CPU, which wall-clock time does, unevenly. --clock wall for wall time.
CLOCK = [time.thread_time]


def timed(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = CLOCK[0]()
        action()
        times.append(CLOCK[0]() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    CLOCK[0] = time.thread_time if args.clock == "cpu" else time.perf_counter
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ropa.db"
        build(path, args.services)
        connection = sqlite3.connect(path)
        expected = connection.execute("SELECT COUNT(*) FROM service WHERE status <> 'retired'").fetchone()[0]
        for sql in BARE_QUERIES.values():
            assert len(connection.execute(sql).fetchall()) == expected
        db = open_database(sqlite_location(path))
        as_of = date(2026, 12, 1)

        def run() -> None:
            with db.read() as session:
                assert len(ropa(session, as_of=as_of)) == expected

        run()  # warm the connection pool, as the bare query's connection is warm
        # Each round times every bare query and the report in turn, so the machine's noise hits them alike.
        times: dict[str, list[float]] = {name: [] for name in [*BARE_QUERIES, "report"]}
        for _ in range(args.rounds):
            for name, sql in BARE_QUERIES.items():
                times[name].append(
                    timed(
                        lambda sql=sql: (
                            connection.execute(sql).fetchall(),
                            connection.execute(CHANGES).fetchall(),
                        ),
                        1,
                    )
                )
            times["report"].append(timed(run, 1))
        connection.close()
        db.dispose()
    # The figure is the ratio of the best (fastest) rounds, the least disturbed by other work on a shared
    # machine; the ratio of the medians is shown beside it.
    report = times.pop("report")
    best_name = min(times, key=lambda name: min(times[name]))
    bare = times[best_name]
    listed = ", ".join(f"{name} {min(values) * 1000:.2f} ms" for name, values in times.items())
    print(
        f"{expected:,} services in use of {args.services:,}; "
        f"best of {args.rounds} rounds ({args.clock} time): bare SQL: {listed}"
    )
    print(
        f"report ropa rows: {min(report) * 1000:.2f} ms, "
        f"best bare SQL ({best_name}) {min(bare) * 1000:.2f} ms, "
        f"ratio {min(report) / min(bare):.2f} (target <= 1.5); medians: "
        f"{statistics.median(report) / statistics.median(bare):.2f}"
    )


if __name__ == "__main__":
    main()
