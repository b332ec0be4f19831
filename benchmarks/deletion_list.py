"""`deletion list` for a whole school: 100,000 pupils, 15 pupil services, 1,500,000 consent events, a full
export of every service in the ledger, then opt-outs and leavers after it.

Prints, from one run on one machine (shared and noisy, so only ratios mean much): cloudctl's
`deletions()` (what `deletion list` renders; start-up and rendering excluded) / the best bare SQL query
for the same rows (pupils the ledger says a provider holds, not confirmed deleted, whose latest decision
is an opt-out or who left the roll), both in-process on a warm connection.

    python benchmarks/deletion_list.py                       # full size
    python benchmarks/deletion_list.py --pupils 10000 --events 150000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.consent_report import build, timed
from cloudctl.db.engine import open_database
from cloudctl.db.history_chain import CHAIN_COLUMN, Sealer, content_columns
from cloudctl.db.location import sqlite_location
from cloudctl.db.models import ConsentEvent, ExportPupil, ExportRecord, Service
from cloudctl.domain.deletions import deletions
from cloudctl.exporters.enrolment import selection

LATER = "2026-10-15"


def add_ledger_and_changes(path: Path, seed: int = 7) -> int:
    """A full export of every service (whom `export enrolment` selects), then 3% of the
    pupils sent opt out and 1% of all pupils leave. Returns the number of ledger rows."""
    rng = random.Random(seed)
    # What a full export of each service sends: the export's own selection.
    db = open_database(sqlite_location(path))
    sent = []
    with db.read() as session:
        for service in session.exec(select(Service)):
            sent += [
                (pupil_id, service.id) for pupil_id in selection(session, service.name, "pupil").pupil_ids
            ]
    db.dispose()
    sent.sort()
    # The export is sent after every event so far was recorded; the opt-outs are recorded after it.
    exported_at = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    connection = sqlite3.connect(path)
    services = dict(connection.execute("SELECT id, provider_id FROM service"))
    names = dict(connection.execute("SELECT id, name FROM service"))
    upns = dict(connection.execute("SELECT id, upn FROM pupil"))
    export_ids = {}
    records = Sealer("export_record", content_columns(ExportRecord.__table__), None, None)
    record_rows = []
    for service_id in sorted(services):
        row = {"service_id": service_id, "provider_id": services[service_id],
               "service_name": names[service_id], "provider_name": "Provider Ltd", "kind": "full",
               "file_format": "csv", "target": "export.csv",
               "fields": json.dumps(["upn", "forename", "surname", "class_name"]),
               "pupil_count": sum(1 for key in sent if key[1] == service_id), "sha256": "0" * 64,
               "recorded_by": "office", "exported_at": exported_at}  # fmt: skip
        record_rows.append(records.sealed(row))
        export_ids[service_id] = record_rows[-1]["id"]
    _insert(connection, "export_record", record_rows)
    pupils = Sealer("export_pupil", content_columns(ExportPupil.__table__), None, None)
    batch = []
    for pupil_id, service_id in sent:
        upn = upns[pupil_id]
        values = json.dumps({"upn": upn}, separators=(",", ":"))
        batch.append(pupils.sealed({"export_id": export_ids[service_id], "pupil_id": pupil_id, "upn": upn,
                                    "action": "full", "sent_values": values}))  # fmt: skip
        if len(batch) == 50_000:
            _insert(connection, "export_pupil", batch)
            batch = []
    _insert(connection, "export_pupil", batch)
    # After the export: opt-outs (sealed consent events) and leavers.
    head = connection.execute(
        f"SELECT id, {CHAIN_COLUMN} FROM consent_event ORDER BY id DESC LIMIT 1"
    ).fetchone()
    events = Sealer("consent_event", content_columns(ConsentEvent.__table__), *head)
    versions = dict(connection.execute("SELECT service_id, id FROM service_version"))
    now = (datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)).isoformat(" ", "microseconds")
    opt_outs = [events.sealed({"pupil_id": p, "service_id": s, "service_version_id": versions[s],
                               "decision": "opt-out", "effective_on": LATER, "given_by": "Parent",
                               "method": "form", "recorded_by": "office", "selected": False,
                               "recorded_at": now})
                for p, s in rng.sample(sent, len(sent) * 3 // 100)]  # fmt: skip
    _insert(connection, "consent_event", opt_outs)
    leavers = rng.sample(sorted(upns), len(upns) // 100)
    connection.executemany(
        "UPDATE pupil SET on_roll = 0, left_on = ? WHERE id = ?", [(LATER, p) for p in leavers]
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return len(sent)


def _insert(connection: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [tuple(row[column] for column in columns) for row in rows],
    )


BARE_QUERIES = {
    "window function": """
        WITH held AS (
            SELECT ep.pupil_id, er.service_id, MAX(er.exported_at) AS sent_at
            FROM export_pupil ep JOIN export_record er ON er.id = ep.export_id
            WHERE er.kind IN ('full', 'changes') AND ep.action <> 'remove'
            GROUP BY ep.pupil_id, er.service_id),
        latest AS (
            SELECT pupil_id, service_id, decision, effective_on,
                   ROW_NUMBER() OVER (PARTITION BY pupil_id, service_id
                                      ORDER BY effective_on DESC, id DESC) AS n
            FROM consent_event)
        SELECT p.upn, p.surname, p.forename, s.name, pr.name, l.decision, l.effective_on, p.left_on
        FROM held h
        JOIN pupil p ON p.id = h.pupil_id
        JOIN service s ON s.id = h.service_id
        LEFT JOIN provider pr ON pr.id = s.provider_id
        LEFT JOIN latest l ON l.pupil_id = h.pupil_id AND l.service_id = h.service_id AND l.n = 1
        WHERE (NOT p.on_roll OR l.decision IS NULL OR l.decision = 'opt-out')
          AND NOT EXISTS (SELECT 1 FROM deletion_event d
                          WHERE d.pupil_id = h.pupil_id AND d.service_id = h.service_id
                            AND d.kind = 'confirmed' AND d.recorded_at >= h.sent_at)""",
    "correlated latest event": """
        SELECT p.upn, p.surname, p.forename, s.name, pr.name, e.decision, e.effective_on, p.left_on
        FROM export_pupil ep
        JOIN export_record er ON er.id = ep.export_id
        JOIN pupil p ON p.id = ep.pupil_id
        JOIN service s ON s.id = er.service_id
        LEFT JOIN provider pr ON pr.id = s.provider_id
        LEFT JOIN consent_event e ON e.id = (
            SELECT c.id FROM consent_event c WHERE c.pupil_id = ep.pupil_id AND c.service_id = er.service_id
            ORDER BY c.effective_on DESC, c.id DESC LIMIT 1)
        WHERE er.kind IN ('full', 'changes') AND ep.action <> 'remove'
          AND (NOT p.on_roll OR e.decision IS NULL OR e.decision = 'opt-out')""",
}


def best_bare(path: Path, rounds: int) -> tuple[float, int]:
    connection = sqlite3.connect(path)
    best, count = float("inf"), 0
    for sql in BARE_QUERIES.values():
        count = len(connection.execute(sql).fetchall())  # warm
        best = min(best, timed(lambda q=sql: connection.execute(q).fetchall(), rounds))
    connection.close()
    return best, count


def list_time(path: Path, rounds: int) -> tuple[float, int]:
    db = open_database(sqlite_location(path))
    found: list = []

    def run() -> None:
        with db.read() as session:
            found[:] = deletions(session)

    run()  # warm the connection pool and caches, as the bare query's connection is warm
    result = timed(run, rounds)
    db.dispose()
    return result, len(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.db"
        started = time.perf_counter()
        build(path, args.pupils, args.events)
        sent = add_ledger_and_changes(path)
        print(f"built {args.pupils:,} pupils, {args.events:,} events, {sent:,} ledger rows "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        bare, bare_rows = best_bare(path, args.rounds)
        listed, rows = list_time(path, args.rounds)
    print(f"rows: deletion list {rows:,}, bare SQL {bare_rows:,}")
    print(
        f"deletion list (whole school): {listed * 1000:8.1f} ms, best bare SQL {bare * 1000:8.1f} ms, "
        f"ratio {listed / bare:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
