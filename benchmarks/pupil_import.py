"""How fast `cloudctl pupil import` is, measured against a bare sqlite3 loader in the same run.

1. Generates a deterministic SIMS-style class list with valid UPNs (100,000 rows by default) under
   benchmarks/out/ (git-ignored), with the generator the tests use (tests/helpers/class_lists.py).
2. Times, as subprocesses on fresh SQLite files, each several times with the medians compared:
   - `python -m cloudctl --db FILE pupil import CSV` on a new database   (target: 2.5 x bare or less)
   - the same command again, the file unchanged                          (target: 2.5 x bare or less)
   - a bare loader: Python's csv and sqlite3 `executemany` of the same rows into a table of the same
     shape (columns, unique UPN, indexes), one transaction, no checks at all.
   Both databases are created (schema in place) before the clock starts, and both use WAL with
   synchronous=NORMAL, as cloudctl does.
3. Times the load phase alone, in this process after start-up (modules imported, databases open and at
   the newest revision): `import_class_list` in one transaction against `bare_load`    (target: 1.6 x)
4. Times `pupil import` of the same class list saved as .xlsx (benchmarks/workbook_readers.py writes it)
   against the CSV's import, both as subprocesses on new databases                      (target: 3 x)
5. Measures the peak memory (max RSS) of importing a 1,000,000-row file (target: 300 MB or less), with
   resource.getrusage(RUSAGE_CHILDREN) in a wrapper process that runs only that import.

    .venv/bin/python benchmarks/pupil_import.py [--rows 100000] [--memory-rows 1000000] [--repeat 3]
        [--no-xlsx]

Where start-up time goes: `.venv/bin/python -X importtime -m cloudctl --db FILE pupil list 2> imports.txt`.

`--rows 2000 --memory-rows 20000 --repeat 1` gives a quick check that the script works.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 2.5
TARGET_LOAD_RATIO = 1.6
TARGET_XLSX_RATIO = 3.0
TARGET_MB = 300
AS_OF = "2026-09-01"

BARE_TABLE = """
CREATE TABLE pupil (
    id INTEGER PRIMARY KEY,
    upn VARCHAR(13) NOT NULL UNIQUE,
    upn_temporary BOOLEAN NOT NULL,
    forename VARCHAR NOT NULL,
    surname VARCHAR NOT NULL,
    preferred_forename VARCHAR,
    preferred_surname VARCHAR,
    dob DATE NOT NULL,
    gender VARCHAR,
    year_group VARCHAR(3) NOT NULL,
    class_name VARCHAR,
    admission_number VARCHAR,
    on_roll BOOLEAN NOT NULL,
    left_on DATE,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX ix_pupil_year_group ON pupil (year_group);
CREATE INDEX ix_pupil_class_name ON pupil (class_name);
"""


def bare_load(csv_path: str, db_path: str) -> None:
    """The baseline: read the CSV and executemany the rows, as they are, in one transaction."""
    now = datetime.now(UTC).isoformat(sep=" ")
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        # SIMS style: Adno, UPN, Legal Surname, Legal Forename, Preferred Forename, Gender, DOB, Year, Class
        rows = (
            (
                upn,
                0,
                forename,
                surname,
                preferred or None,
                None,
                dob,
                gender,
                year,
                group,
                adno,
                1,
                None,
                now,
                now,
            )
            for adno, upn, surname, forename, preferred, gender, dob, year, group in reader
        )
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO pupil (upn, upn_temporary, forename, surname, preferred_forename, "
            "preferred_surname, dob, gender, year_group, class_name, admission_number, on_roll, left_on, "
            "created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")
    connection.close()


def generate(rows: int) -> Path:
    from tests.helpers.class_lists import make_pupils, write_class_list

    path = OUT / f"sims-{rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".part")
        write_class_list(partial, make_pupils(rows, seed=7), "sims")
        partial.replace(path)
        print(f"Generated {path.relative_to(ROOT)} ({rows:,} rows) in {time.perf_counter() - started:.1f} s")
    return path


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def cloudctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "cloudctl", *args]


def env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}


def run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - started


def new_cloudctl_db(path: Path) -> Path:
    fresh(path)
    subprocess.run(cloudctl("--db", str(path), "init"), env=env(), capture_output=True, check=True)
    return path


def new_bare_db(path: Path) -> Path:
    fresh(path)
    connection = sqlite3.connect(path)
    connection.executescript(BARE_TABLE)
    connection.close()
    return path


def peak_memory_mb(command: list[str]) -> float:
    """Max RSS of the command alone: a wrapper process runs it and reports its children's peak."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *command], env=env(), capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"The memory run failed:\n{result.stderr}")
    return int(result.stdout.split()[-1]) / 1024  # kilobytes on Linux


def load_phase(class_list: Path, repeat: int) -> tuple[float, float]:
    """Medians of the load alone, in this process: cloudctl's import (modules imported and the database
    open at the newest revision before the clock starts) and the bare loader (its table already made)."""
    from datetime import date

    from cloudctl.db.engine import open_database
    from cloudctl.db.location import sqlite_location
    from cloudctl.domain.pupils import import_class_list

    ours_db, bare_db = OUT / "load-cloudctl.db", OUT / "load-bare.db"
    ours, bare = [], []
    for _ in range(repeat):
        db = open_database(sqlite_location(new_cloudctl_db(ours_db)))
        started = time.perf_counter()
        with db.write() as session:
            import_class_list(session, class_list, as_of=date.fromisoformat(AS_OF))
        ours.append(time.perf_counter() - started)
        db.dispose()
        new_bare_db(bare_db)
        started = time.perf_counter()
        bare_load(str(class_list), str(bare_db))
        bare.append(time.perf_counter() - started)
    return statistics.median(ours), statistics.median(bare)


def xlsx_against_csv(rows: int, repeat: int) -> tuple[float, float]:
    from benchmarks.workbook_readers import class_list_xlsx

    workbook, class_list = class_list_xlsx(rows), generate(rows)
    ours_db = OUT / "xlsx.db"
    times: dict[str, list[float]] = {"csv": [], "xlsx": []}
    for _ in range(repeat):
        for kind, path in (("csv", class_list), ("xlsx", workbook)):
            new_cloudctl_db(ours_db)
            command = cloudctl("--db", str(ours_db), "pupil", "import", str(path), "--as-of", AS_OF)
            times[kind].append(run(command))
    return statistics.median(times["csv"]), statistics.median(times["xlsx"])


def judged(ratio: float, target: float) -> str:
    return f"{ratio:4.2f} x  (target {target}: {'ok' if ratio <= target else 'OVER TARGET'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="Rows in the timed file.")
    parser.add_argument(
        "--memory-rows", type=int, default=1_000_000, help="Rows in the memory run (0: skip)."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each timing; medians are compared.")
    parser.add_argument("--no-xlsx", action="store_true", help="Skip the .xlsx import timing.")
    parser.add_argument("--bare-load", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_load:
        bare_load(*args.bare_load)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    class_list = generate(args.rows)
    ours_db, bare_db = OUT / "cloudctl.db", OUT / "bare.db"
    import_command = cloudctl("--db", str(ours_db), "pupil", "import", str(class_list), "--as-of", AS_OF)
    bare_command = [sys.executable, __file__, "--bare-load", str(class_list), str(bare_db)]
    new_bare_db(bare_db)
    run(bare_command)  # warm the file cache and .pyc files
    times: dict[str, list[float]] = {"first": [], "again": [], "bare": []}
    for _ in range(args.repeat):
        new_cloudctl_db(ours_db)
        times["first"].append(run(import_command))
        times["again"].append(run(import_command))
        new_bare_db(bare_db)
        times["bare"].append(run(bare_command))
    with sqlite3.connect(ours_db) as connection:
        held = connection.execute("SELECT count(*) FROM pupil").fetchone()[0]
    if held != args.rows:
        sys.exit(f"cloudctl holds {held} pupils, expected {args.rows}")
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{args.rows:,} rows, median of {args.repeat} run(s), wall time of each subprocess:")
    print(f"  bare sqlite3 executemany loader   {median['bare']:7.2f} s")
    for name, label in (
        ("first", "cloudctl pupil import (new db)"),
        ("again", "cloudctl pupil import (unchanged)"),
    ):
        ratio = median[name] / median["bare"]
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(
            f"  {label:33s} {median[name]:7.2f} s   {ratio:4.2f} x bare  (target {TARGET_RATIO}: {verdict})"
        )

    ours, bare = load_phase(class_list, args.repeat)
    print(f"  load phase alone, in-process: cloudctl {ours:.2f} s, bare {bare:.2f} s")
    print(f"    {judged(ours / bare, TARGET_LOAD_RATIO)}")
    if not args.no_xlsx:
        csv_time, xlsx_time = xlsx_against_csv(args.rows, args.repeat)
        print(f"  pupil import of the .xlsx {xlsx_time:.2f} s, of the CSV {csv_time:.2f} s (new db each)")
        print(f"    {judged(xlsx_time / csv_time, TARGET_XLSX_RATIO)}")

    if args.memory_rows:
        big = generate(args.memory_rows)
        new_cloudctl_db(ours_db)
        command = cloudctl("--db", str(ours_db), "pupil", "import", str(big), "--as-of", AS_OF)
        started = time.perf_counter()
        peak = peak_memory_mb(command)
        took = time.perf_counter() - started
        again = peak_memory_mb(command)
        for label, value in (("new db", peak), ("unchanged", again)):
            verdict = "ok" if value <= TARGET_MB else "OVER TARGET"
            print(
                f"  peak memory, {args.memory_rows:,}-row import ({label}): {value:6.0f} MB  "
                f"(target {TARGET_MB} MB: {verdict})"
            )
        print(f"  ({args.memory_rows:,}-row import into a new database took {took:.1f} s)")


if __name__ == "__main__":
    main()
