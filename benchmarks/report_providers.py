"""`report providers` for a whole school: 100,000 pupils, 15 pupil services, 1,500,000 consent events, a full
export of every service in the ledger, then opt-outs and leavers after it (the database
benchmarks/deletion_list.py builds).

Prints, from one run on one machine (shared and noisy, so only ratios mean much): cloudctl's
`providers_report()` (what `report providers` renders; start-up and rendering excluded) / the best bare SQL
query for the same rows (per service: the pupils the ledger says its provider holds, not confirmed deleted;
the pupils on roll whose latest decision is an opt-in; the two differences; the last export), both
in-process on a warm connection. The bare query leaves out what the report adds on top (year groups,
consent covering the data, the deletions' reasons and days waiting), so the ratio is an upper bound.

    python benchmarks/report_providers.py                       # full size
    python benchmarks/report_providers.py --pupils 10000 --events 150000   # a quick look
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.consent_report import build, timed
from benchmarks.deletion_list import add_ledger_and_changes
from cloudctl.db.engine import open_database
from cloudctl.db.location import sqlite_location
from cloudctl.reports.providers import providers_report

BARE_QUERIES = {
    "window function": """
        WITH held AS (
            SELECT ep.pupil_id, er.service_id, MAX(er.exported_at) AS sent_at
            FROM export_pupil ep JOIN export_record er ON er.id = ep.export_id
            WHERE er.kind IN ('full', 'changes') AND ep.action IN ('full', 'add', 'update')
            GROUP BY ep.pupil_id, er.service_id),
        still_held AS (
            SELECT h.pupil_id, h.service_id FROM held h
            WHERE NOT EXISTS (SELECT 1 FROM deletion_event d
                              WHERE d.pupil_id = h.pupil_id AND d.service_id = h.service_id
                                AND d.kind = 'confirmed' AND d.recorded_at >= h.sent_at)),
        latest AS (
            SELECT pupil_id, service_id, decision,
                   ROW_NUMBER() OVER (PARTITION BY pupil_id, service_id
                                      ORDER BY effective_on DESC, id DESC) AS n
            FROM consent_event),
        allowed AS (
            SELECT l.pupil_id, l.service_id FROM latest l JOIN pupil p ON p.id = l.pupil_id
            WHERE l.n = 1 AND l.decision = 'opt-in' AND p.on_roll),
        pairs AS (
            SELECT pupil_id, service_id, MAX(h) AS h, MAX(a) AS a FROM (
                SELECT pupil_id, service_id, 1 AS h, 0 AS a FROM still_held
                UNION ALL SELECT pupil_id, service_id, 0, 1 FROM allowed)
            GROUP BY pupil_id, service_id)
        SELECT s.name, pr.name, SUM(x.h), SUM(x.a), SUM(x.h * (1 - x.a)), SUM(x.a * (1 - x.h)),
               (SELECT MAX(e.exported_at) FROM export_record e WHERE e.service_id = s.id)
        FROM pairs x JOIN service s ON s.id = x.service_id LEFT JOIN provider pr ON pr.id = s.provider_id
        GROUP BY s.id ORDER BY s.position""",
    "grouped latest event": """
        WITH latest_id AS (
            SELECT c.pupil_id, c.service_id, MAX(c.effective_on || printf('%012d', c.id)) AS mark
            FROM consent_event c GROUP BY c.pupil_id, c.service_id),
        allowed AS (
            SELECT l.pupil_id, l.service_id FROM latest_id l
            JOIN consent_event c ON c.id = CAST(substr(l.mark, 11) AS INTEGER)
            JOIN pupil p ON p.id = l.pupil_id
            WHERE c.decision = 'opt-in' AND p.on_roll),
        held AS (
            SELECT DISTINCT ep.pupil_id, er.service_id FROM export_pupil ep
            JOIN export_record er ON er.id = ep.export_id
            WHERE er.kind IN ('full', 'changes') AND ep.action IN ('full', 'add', 'update')
              AND NOT EXISTS (SELECT 1 FROM deletion_event d WHERE d.pupil_id = ep.pupil_id
                              AND d.service_id = er.service_id AND d.kind = 'confirmed'
                              AND d.recorded_at >= er.exported_at)),
        pairs AS (
            SELECT pupil_id, service_id, MAX(h) AS h, MAX(a) AS a FROM (
                SELECT pupil_id, service_id, 1 AS h, 0 AS a FROM held
                UNION ALL SELECT pupil_id, service_id, 0, 1 FROM allowed)
            GROUP BY pupil_id, service_id)
        SELECT s.name, pr.name, SUM(x.h), SUM(x.a), SUM(x.h * (1 - x.a)), SUM(x.a * (1 - x.h)),
               (SELECT MAX(e.exported_at) FROM export_record e WHERE e.service_id = s.id)
        FROM pairs x JOIN service s ON s.id = x.service_id LEFT JOIN provider pr ON pr.id = s.provider_id
        GROUP BY s.id ORDER BY s.position""",
}


def best_bare(path: Path, rounds: int) -> tuple[float, list[tuple]]:
    connection = sqlite3.connect(path)
    best, rows = float("inf"), []
    for sql in BARE_QUERIES.values():
        rows = connection.execute(sql).fetchall()  # warm
        best = min(best, timed(lambda q=sql: connection.execute(q).fetchall(), rounds))
    connection.close()
    return best, rows


def report_time(path: Path, rounds: int) -> tuple[float, list[dict]]:
    db = open_database(sqlite_location(path))
    found: list = []

    def run() -> None:
        with db.read() as session:
            found[:] = providers_report(session, as_of=date.today())

    run()  # warm the connection pool and caches, as the bare query's connection is warm
    result = timed(run, rounds)
    db.dispose()
    return result, found


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
        took, rows = report_time(path, args.rounds)
    print(f"services: report providers {len(rows)}, bare SQL {len(bare_rows)}")
    print(f"held (report / bare): {sum(r['held'] or 0 for r in rows):,} / {sum(r[2] for r in bare_rows):,}")
    print(
        f"report providers (whole school): {took * 1000:8.1f} ms, best bare SQL {bare * 1000:8.1f} ms, "
        f"ratio {took / bare:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
