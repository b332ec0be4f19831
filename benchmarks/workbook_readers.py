"""Which .xlsx reader: python-calamine against openpyxl (read-only mode), on the same 100,000-row workbook.

Writes a SIMS-style class list as .xlsx (openpyxl, write-only mode) under benchmarks/out/, then times in
this process, each several times (medians compared):
  - openpyxl read-only `iter_rows(values_only=True)`: every cell's value, nothing else;
  - python-calamine `to_python()`: every cell's value, nothing else;
  - cloudctl's `read_workbook` (calamine, cells turned into text, the sheet's XML scanned once for formula,
    error and hidden cells, merged ranges checked): what the importers pay.

    .venv/bin/python benchmarks/workbook_readers.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))


def class_list_xlsx(rows: int) -> Path:
    """The benchmark's class list (the CSV pupil_import.py times) saved as an Excel workbook."""
    import csv

    import openpyxl

    from benchmarks.pupil_import import generate

    path = OUT / f"sims-{rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Pupils")
        with open(generate(rows), newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                sheet.append(row)
        partial = path.with_suffix(".part.xlsx")
        book.save(partial)
        partial.replace(path)
        print(f"Generated {path.relative_to(ROOT)} ({rows:,} rows) in {time.perf_counter() - started:.1f} s")
    return path


def read_openpyxl(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return count


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python())


def read_cloudctl(path: Path) -> int:
    from cloudctl.importers.workbook import read_workbook

    return len(read_workbook(path).rows) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = class_list_xlsx(args.rows)
    readers = {
        "openpyxl read-only, values": read_openpyxl,
        "python-calamine, values": read_calamine,
        "cloudctl read_workbook (calamine + checks)": read_cloudctl,
    }
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(args.repeat):
        for name, reader in readers.items():
            started = time.perf_counter()
            count = reader(path)
            times[name].append(time.perf_counter() - started)
            if count != args.rows + 1:
                sys.exit(f"{name} read {count} rows, expected {args.rows + 1}")
    base = statistics.median(times["python-calamine, values"])
    print(f"\n{args.rows:,}-row workbook ({path.stat().st_size / 1e6:.1f} MB), median of {args.repeat}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:44s} {median:6.2f} s   {median / base:5.2f} x calamine")


if __name__ == "__main__":
    main()
