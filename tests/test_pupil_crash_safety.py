"""An import killed part-way (SIGKILL: no clean-up, no rollback by cloudctl) leaves the database as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.class_lists import AS_OF, make_pupils, pupil_list, write_class_list
from tests.helpers.cli import snapshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]


def cloudctl(database: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cloudctl", "--db", str(database), *args]


def test_sigkill_part_way_through_a_200000_row_import_changes_nothing(tmp_path):
    database = tmp_path / "cloudctl.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}
    held = pupil_list(60)
    start = write_class_list(tmp_path / "start.csv", held)
    subprocess.run(
        cloudctl(database, "pupil", "import", str(start), "--as-of", AS_OF.isoformat()),
        env=env,
        check=True,
        capture_output=True,
    )
    before = snapshot(f"sqlite:///{database}")
    assert len(before["pupil"]) == 60

    # The big list changes the pupils already held (updates), adds 199,940 (inserts) and drops one (a leaver).
    changed = [replace(pupil, class_name="Moved") for pupil in held[1:]]
    big = write_class_list(tmp_path / "big.csv", [*changed, *make_pupils(199_941, start=60)])
    wal = Path(f"{database}-wal")
    wal_at_start = wal.stat().st_size if wal.exists() else 0
    process = subprocess.Popen(
        cloudctl(database, "pupil", "import", str(big), "--as-of", AS_OF.isoformat()),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill it once it is writing: the uncommitted transaction's pages are spilling into the write-ahead log.
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > wal_at_start + 2_000_000:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the import ended before it could be killed: make the file bigger"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()
    assert snapshot(f"sqlite:///{database}") == before

    # cloudctl carries on with the file as if nothing had happened.
    listed = subprocess.run(
        cloudctl(database, "pupil", "list", "--format", "csv"),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert len(listed.stdout.strip().splitlines()) == 61
