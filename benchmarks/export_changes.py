"""`export enrolment --changes` at trust scale, as a ratio to the full export.

On the consent benchmark's database (100,000 pupils, 15 pupil services, 1,500,000 consent events;
see benchmarks/consent_report.py), after a full export of one service was recorded in the ledger and
then a term's worth of change (opt-outs, opt-ins, class moves, leavers: about 2% of the pupils),
measures in-process, start-up and printing excluded, each in its own write transaction that is rolled
back so every round sees the same database:

  1. the full export: the selection, the file's text, its SHA-256, and the ledger rows for every pupil;
  2. the --changes export: the same selection, the ledger's roster, the differences, their file and
     ledger rows;

and prints (2) / (1) (target 1.2 or less). One run on one machine (shared and noisy): only ratios
mean much.

    python benchmarks/export_changes.py                       # full size
    python benchmarks/export_changes.py --pupils 10000 --events 150000   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.consent_report import build
from cloudctl.db.engine import open_database
from cloudctl.db.location import sqlite_location
from cloudctl.domain.export_ledger import KIND_CHANGES, KIND_FULL, record_export, sha256_of
from cloudctl.exporters.enrolment import file_text, selection, sent_pupils
from cloudctl.exporters.enrolment_changes import changes_export

SERVICE = "Service 00"  # all year groups; full name, class and UPN


def _full(session) -> int:
    chosen = selection(session, SERVICE)
    text = file_text("csv", chosen.columns, chosen.rows)
    record_export(session, service=chosen.service, kind=KIND_FULL, file_format="csv", target="full.csv",
                  fields=chosen.columns, sha256=sha256_of(text), recorded_by="benchmark",
                  pupils=sent_pupils(chosen))  # fmt: skip
    return len(chosen.rows)


def _changes(session) -> int:
    changes = changes_export(session, SERVICE)
    text = file_text("csv", changes.columns, changes.rows)
    record_export(session, service=changes.selection.service, kind=KIND_CHANGES, file_format="csv",
                  target="changes.csv", fields=changes.selection.columns, sha256=sha256_of(text),
                  recorded_by="benchmark", pupils=changes.sent)  # fmt: skip
    return len(changes.rows)


def a_term_of_change(path: Path, pupils: int, share: float = 0.02) -> None:
    """Opt-outs, fresh opt-ins, class moves and leavers for about `share` of the pupils (plain SQL for
    the pupils; consent through the domain layer, so the events are sealed as cloudctl seals them)."""
    from cloudctl.domain.consent import ConsentRequest, record_consent
    from cloudctl.errors import CloudctlError

    rng = random.Random(20261201)
    chosen = rng.sample(range(1, pupils + 1), int(pupils * share))
    connection = sqlite3.connect(path)
    upns = dict(connection.execute("SELECT id, upn FROM pupil"))
    quarter = len(chosen) // 4
    connection.executemany(
        "UPDATE pupil SET class_name = class_name || 'x' WHERE id = ?", [(i,) for i in chosen[:quarter]]
    )
    connection.executemany(
        "UPDATE pupil SET on_roll = 0, left_on = '2026-11-30' WHERE id = ?",
        [(i,) for i in chosen[quarter : 2 * quarter]],
    )
    connection.commit()
    connection.close()
    db = open_database(sqlite_location(path))
    with db.write() as session:
        for index, pupil_id in enumerate(chosen[2 * quarter :]):
            decision = "opt-out" if index % 2 else "opt-in"
            # A decision the rules refuse (or one already standing) is skipped, as the office would find.
            with contextlib.suppress(CloudctlError):
                record_consent(
                    session, ConsentRequest(decision, date(2026, 11, 28), given_by="Parent"),
                    upn=upns[pupil_id], service_name=SERVICE,
                )  # fmt: skip
    db.dispose()


def timed_rolled_back(db, action, rounds: int) -> tuple[float, float, int]:
    """Median wall-clock and CPU seconds of `action`, each round rolled back. The machine is shared:
    CPU time is the steadier of the two when other work competes for the cores."""
    times, cpu, rows = [], [], 0
    for _ in range(rounds):
        session_cm = db.write()
        session = session_cm.__enter__()
        started, started_cpu = time.perf_counter(), time.process_time()
        rows = action(session)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        session.rollback()
        session_cm.__exit__(None, None, None)
    return statistics.median(times), statistics.median(cpu), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark.db"
        started = time.perf_counter()
        build(path, args.pupils, args.events)
        db = open_database(sqlite_location(path))
        with db.write() as session:
            sent = _full(session)  # the previous full export, recorded
        db.dispose()
        a_term_of_change(path, args.pupils)
        print(f"built {args.pupils:,} pupils, {args.events:,} events, a full export of {sent:,} pupils "
              f"and a term of change in {time.perf_counter() - started:.1f} s")  # fmt: skip
        db = open_database(sqlite_location(path))
        timed_rolled_back(db, _full, 1)  # warm the pool and caches for both
        full, full_cpu, full_rows = timed_rolled_back(db, _full, args.rounds)
        changes, changes_cpu, change_rows = timed_rolled_back(db, _changes, args.rounds)
        db.dispose()
    print(
        f"full export ({full_rows:,} pupils, recorded): {full * 1000:.0f} ms ({full_cpu * 1000:.0f} ms CPU)"
    )
    print(
        f"--changes ({change_rows:,} rows, recorded): {changes * 1000:.0f} ms "
        f"({changes_cpu * 1000:.0f} ms CPU)"
    )
    print(f"--changes / full export: {changes / full:.2f} wall clock, {changes_cpu / full_cpu:.2f} CPU "
          "(target 1.2 or less)")  # fmt: skip


if __name__ == "__main__":
    main()
