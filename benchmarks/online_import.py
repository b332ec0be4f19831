"""Answers by reply code at September scale: 10,000 online submissions, each answering three services.

Prints, from one run on one machine (shared and noisy, so only the ratio means much):
  the time `consent import` takes for a Microsoft Forms-shaped export of N submissions (reply codes, one
  column per service) / the time it takes for the same decisions as a UPN-keyed CSV of returned forms
  (one row per decision), each imported into its own copy of the same database.

The target (issue 11, item 7) is 2x or less.

    python benchmarks/online_import.py                     # 10,000 submissions
    python benchmarks/online_import.py --submissions 1000  # a quick look
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cloudctl.db.engine import open_database
from cloudctl.db.location import sqlite_location
from cloudctl.domain.assessments import record_assessment
from cloudctl.domain.consent import import_consent_returns
from cloudctl.domain.providers import add_provider
from cloudctl.domain.services import ServiceFields, add_service
from cloudctl.domain.settings import init_school
from cloudctl.exporters.consent_forms import form_plans, issue_forms
from cloudctl.vocab.upn import make_upn

SERVICES = ("Maths Online", "Spelling Online", "Reading Online")
CLASS_SIZE = 30
YEARS = ["1", "2", "3", "4", "5", "6"]


def build(path: Path, pupils: int, issued_on: date) -> dict[str, str]:
    """The register, the pupils (plain SQL) and a form issued to each (the domain layer): UPN -> code."""
    db = open_database(sqlite_location(path))
    with db.write() as session:
        init_school(session, school_name="Benchmark Primary", years="R,1-6")
        add_provider(session, "Provider Ltd")
        for name in SERVICES:
            fields = ServiceFields(
                provider="Provider Ltd", purpose="Learning", data_shared="full name, class", year_groups="All"
            )
            add_service(session, name, "pupil", fields)
            record_assessment(
                session, name, assessed_on=date(2026, 1, 5), assessed_by="DPO", outcome="approved"
            )
    db.dispose()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    connection = sqlite3.connect(path)
    connection.executemany(
        "INSERT INTO pupil (upn, upn_temporary, forename, surname, dob, gender, year_group, class_name,"
        " on_roll, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                make_upn(801, 2000 + index // 100_000, (index // 1000) % 100, index % 1000),
                0,
                f"Forename{index}",
                f"Surname{index}",
                "2017-03-04",
                "F",
                YEARS[index % len(YEARS)],
                f"C{index // CLASS_SIZE:04d}",
                1,
                now,
                now,
            )
            for index in range(pupils)
        ],
    )
    connection.commit()
    classes = [name for (name,) in connection.execute("SELECT DISTINCT class_name FROM pupil ORDER BY 1")]
    connection.close()
    codes: dict[str, str] = {}
    db = open_database(sqlite_location(path))
    with db.write() as session:
        for class_name in classes:
            plans = form_plans(session, class_name=class_name)
            pupils_by_id = {plan.pupil.id: plan.pupil.upn for plan in plans}
            for form in issue_forms(session, plans, today=issued_on, issued_by="office"):
                codes[pupils_by_id[form.pupil_id]] = form.shown
    db.dispose()
    return codes


def write_files(folder: Path, codes: dict[str, str], on: date, seed: int) -> tuple[Path, Path]:
    """The same decisions twice: a Microsoft Forms export and a UPN-keyed CSV of returned forms."""
    rng = random.Random(seed)
    online, by_upn = folder / "microsoft-forms.csv", folder / "returned-forms.csv"
    with (
        online.open("w", encoding="utf-8-sig", newline="") as ms,
        by_upn.open("w", encoding="utf-8", newline="") as up,
    ):
        ms_writer, upn_writer = csv.writer(ms), csv.writer(up)
        questions = [f"Do you consent to your child using {name}?" for name in SERVICES]
        ms_writer.writerow(
            ["ID", "Start time", "Completion time", "Email", "Name", "Reply code", "Your name", *questions]
        )
        upn_writer.writerow(["UPN", "Service", "Decision", "Given by", "Date", "Method"])
        for number, (upn, code) in enumerate(codes.items(), start=1):
            answers = ["Yes" if rng.random() < 0.85 else "No" for _ in SERVICES]
            stamp = f"{on.strftime('%d/%m/%Y')} {8 + number % 10:02d}:{number % 60:02d}:{number % 59:02d}"
            parent = f"Parent {number}"
            ms_writer.writerow([number, stamp, stamp, "anonymous", "anonymous", code, parent, *answers])
            for service, answer in zip(SERVICES, answers, strict=True):
                upn_writer.writerow([upn, service, answer, parent, on.isoformat(), "online-form"])
    return online, by_upn


def timed_import(path: Path, file: Path) -> tuple[float, int]:
    db = open_database(sqlite_location(path))
    try:
        started = time.perf_counter()
        with db.write() as session:
            outcomes = import_consent_returns(session, file, recorded_by="benchmark")
        elapsed = time.perf_counter() - started
    finally:
        db.dispose()
    return elapsed, sum(1 for outcome in outcomes if outcome.written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    args = parser.parse_args()
    on = date.today() - timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="cloudctl-online-import-") as folder_name:
        folder = Path(folder_name)
        template = folder / "template.db"
        print(f"Setting up {args.submissions} pupils, each sent a form ...", flush=True)
        codes = build(template, args.submissions, on - timedelta(days=7))
        online, by_upn = write_files(folder, codes, on, 20261201)
        for name in ("online.db", "upn.db"):
            shutil.copyfile(template, folder / name)
        upn_seconds, upn_written = timed_import(folder / "upn.db", by_upn)
        online_seconds, online_written = timed_import(folder / "online.db", online)
    assert upn_written == online_written, (upn_written, online_written)
    print(f"UPN-keyed CSV ({upn_written} decisions):          {upn_seconds:8.2f} s")
    print(f"Microsoft Forms export ({args.submissions} submissions): {online_seconds:8.2f} s")
    print(f"ratio online / UPN-keyed: {online_seconds / upn_seconds:.2f} (target: 2.00 or less)")


if __name__ == "__main__":
    main()
