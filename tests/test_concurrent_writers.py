"""Several members of staff writing at once, on the SQLite file and on PostgreSQL.

Four processes, like four office computers, each record 200 opt-ins through the real
`cloudctl consent optin` command against the same database. Every event must arrive
exactly once, and nobody may see "database is locked" or a serialization error.

Run as a module, this file is one of those workers (see `worker_main`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pupils import add_pupils

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
PUPILS_PER_WORKER = 50
# Pupil services of the Hunwick register that are approved and open to year 3.
SERVICES = ["Accelerated Reader", "ClassDojo", "My Maths", "Times Tables Rock Stars"]
EVENTS_PER_WORKER = PUPILS_PER_WORKER * len(SERVICES)  # 200


def worker_main(upns: list[str]) -> int:
    """One member of staff: wait for the others, then record an opt-in per pupil and service.

    Each opt-in is a whole `cloudctl consent optin` run (the database opened, the write
    transaction, the error boundary), in-process so that 800 of them stay quick.
    """
    from typer.testing import CliRunner

    from cloudctl.cli.app import app

    runner = CliRunner()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # "go": every worker starts at once
    failures = 0
    for upn in upns:
        for service in SERVICES:
            result = runner.invoke(
                app, ["consent", "optin", upn, service, "--by", "Parent", "--method", "form"]
            )
            if result.exit_code != 0 or "opted in" not in result.stderr:
                failures += 1
                sys.stderr.write(f"{upn} {service}: exit {result.exit_code}: {result.stderr.strip()}\n")
    sys.stdout.write(f"done {failures} failures\n")
    return 1 if failures else 0


def start_worker(upns: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_concurrent_writers", *upns],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_workers(shares: list[list[str]], *, timeout: int) -> tuple[list[subprocess.Popen], list]:
    """Start one writer per share of UPNs, let them all go at once, and wait for them."""
    workers = [start_worker(share) for share in shares]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=timeout) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return workers, outputs


def scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_four_writers_record_800_events_once_each(hunwick_cli):
    url = hunwick_cli.url
    upns = add_pupils(url, [{"year_group": "3", "class_name": "3B"}] * (WORKERS * PUPILS_PER_WORKER))
    shares = [upns[i * PUPILS_PER_WORKER : (i + 1) * PUPILS_PER_WORKER] for i in range(WORKERS)]
    versions_before = scalar(url, "SELECT COUNT(*) FROM service_version")
    workers, outputs = run_workers(shares, timeout=900)
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, f"a writer failed:\n{stdout}\n{stderr}"
        for message in ("locked", "busy", "serializ", "deadlock", "Traceback", "Error"):
            assert message not in stderr, stderr
    assert scalar(url, "SELECT COUNT(*) FROM consent_event") == WORKERS * EVENTS_PER_WORKER
    distinct = "SELECT COUNT(*) FROM (SELECT DISTINCT pupil_id, service_id FROM consent_event) AS pairs"
    assert scalar(url, distinct) == WORKERS * EVENTS_PER_WORKER
    # What parents were told is recorded with each service; no writer recorded a copy of its own.
    assert scalar(url, "SELECT COUNT(*) FROM service_version") == versions_before


def test_a_writer_holds_the_write_lock_from_its_first_statement(db_url):
    """What makes writers queue: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock."""
    from cloudctl.db.engine import WRITE_LOCK_KEY, open_database
    from cloudctl.db.location import location_from_url

    db = open_database(location_from_url(db_url))
    other = create_engine(db_url)
    try:
        with db.write() as session:
            session.connection()
            if db.backend == "sqlite":
                with other.connect() as connection:
                    connection.exec_driver_sql("PRAGMA busy_timeout = 0")
                    with pytest.raises(Exception, match="database is locked"):
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                with other.connect() as connection:
                    taken = connection.execute(text(f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})"))
                    assert taken.scalar() is False
        with db.read() as session:
            session.connection()
            with other.connect() as connection:
                if db.backend == "sqlite":
                    connection.exec_driver_sql("BEGIN IMMEDIATE")  # a reader does not block writers
                    connection.exec_driver_sql("ROLLBACK")
                else:
                    taken = connection.execute(text(f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})"))
                    assert taken.scalar() is True
    finally:
        other.dispose()
        db.dispose()


def _serialization_failure():
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    return OperationalError(
        "INSERT ...", {}, psycopg.errors.SerializationFailure("could not serialize access")
    )


def test_retrying_runs_a_transaction_again_when_the_database_asks(db_url):
    from sqlmodel import select

    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.db.models import Provider

    db = open_database(location_from_url(db_url))
    attempts = []

    def add_provider(session):
        attempts.append(1)
        session.add(Provider(name=f"Attempt {len(attempts)}"))
        session.flush()
        if len(attempts) == 1:
            raise _serialization_failure()
        return len(attempts)

    try:
        assert db.retrying(add_provider) == 2
        with db.read() as session:
            names = [provider.name for provider in session.exec(select(Provider))]
        assert names == ["Attempt 2"]  # the first attempt was rolled back
    finally:
        db.dispose()


def test_retrying_gives_up_on_other_errors_and_after_its_attempts(db_url):
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.errors import InvalidInput

    db = open_database(location_from_url(db_url))
    attempts = []

    def refused(_session):
        attempts.append(1)
        raise InvalidInput("no")

    def always_racing(_session):
        attempts.append(1)
        raise _serialization_failure()

    try:
        with pytest.raises(InvalidInput):
            db.retrying(refused)
        assert len(attempts) == 1
        attempts.clear()
        with pytest.raises(Exception, match="could not serialize"):
            db.retrying(always_racing, attempts=3)
        assert len(attempts) == 3
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
