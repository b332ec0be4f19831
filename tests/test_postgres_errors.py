"""A database that cannot be used gives one plain message and exit status 1, never a traceback.

A bad URL, a server that is down, a wrong password, an unknown user or database: each
is told apart, and no message repeats the password from the URL.
"""

from __future__ import annotations

import os
import socket

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cloudctl.cli.app import app
from tests.conftest import POSTGRES_ENV

SECRET = "Sup3r-secret"
# .ci/run's cluster asks this role for its password (scram-sha-256); every other role is trusted.
PASSWORD_ROLE = "cloudctl_password_test"


def run_with_url(monkeypatch, url: str, *args: str):
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    result = CliRunner().invoke(app, list(args or ("service", "list")), catch_exceptions=False)
    assert result.exit_code == 1, f"expected exit 1:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert SECRET not in result.stderr and SECRET not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def closed_port() -> int:
    """A port on loopback that nothing listens on: bound for a moment, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url at all", "not a valid URL"),
        (f"postgresql+psycopg://clerk:{SECRET}@127.0.0.1:notaport/cloudctl", "not a valid URL"),
        (f"mysql://clerk:{SECRET}@127.0.0.1/cloudctl", "SQLite and PostgreSQL databases only"),
        (f"oracle+nosuchdriver://clerk:{SECRET}@127.0.0.1/cloudctl", "SQLite and PostgreSQL databases only"),
        ("sqlite://", "give its path"),
    ],
)
def test_a_bad_url_is_explained(monkeypatch, url, expected):
    assert expected in run_with_url(monkeypatch, url)


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql", "postgres"])
def test_a_server_that_is_down_is_explained(monkeypatch, scheme):
    url = f"{scheme}://clerk:{SECRET}@127.0.0.1:{closed_port()}/cloudctl"
    message = run_with_url(monkeypatch, url)
    assert "cannot reach the database server" in message
    assert "clerk:***@127.0.0.1" in message


def test_db_commands_explain_a_server_that_is_down_too(monkeypatch):
    url = f"postgresql+psycopg://clerk:{SECRET}@127.0.0.1:{closed_port()}/cloudctl"
    assert "cannot reach the database server" in run_with_url(monkeypatch, url, "db", "status")


# --- against a real server -----------------------------------------------------------------------


@pytest.fixture
def admin_url():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"needs a PostgreSQL server: set {POSTGRES_ENV}")
    return make_url(url)


def test_an_unknown_database_is_explained(monkeypatch, admin_url):
    url = admin_url.set(database="cloudctl_no_such_database").render_as_string(hide_password=False)
    assert "does not exist on the server" in run_with_url(monkeypatch, url)


def test_an_unknown_user_is_explained(monkeypatch, admin_url):
    url = admin_url.set(username="cloudctl_no_such_user", password=SECRET).render_as_string(
        hide_password=False
    )
    message = run_with_url(monkeypatch, url)
    # A server that asks for passwords does not say whether the user exists: both are fine.
    assert "has no user of the name" in message or "refused the user name or password" in message


def test_a_wrong_password_is_explained(monkeypatch, admin_url):
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": PASSWORD_ROLE}
            )
            verb = "ALTER" if exists.scalar() else "CREATE"
            connection.execute(text(f"{verb} ROLE {PASSWORD_ROLE} LOGIN PASSWORD 'the-right-one'"))
    finally:
        admin.dispose()
    url = admin_url.set(username=PASSWORD_ROLE, password=SECRET).render_as_string(hide_password=False)
    if _logs_in(url):
        message = f"the server trusts {PASSWORD_ROLE} without a password (see .ci/run's pg_hba.conf)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert "refused the user name or password" in run_with_url(monkeypatch, url)


def _logs_in(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()
