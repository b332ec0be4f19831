"""`cloudctl demo`: the bundled Hunwick register imported, and the reports printed."""

from __future__ import annotations

import hashlib
import re
import stat
import tempfile
from pathlib import Path

import pytest

from tests.conftest import HUNWICK
from tests.helpers.cli import Cli


@pytest.fixture
def demo_cli(tmp_path, monkeypatch) -> Cli:
    for name in ("CLOUDCTL_DATABASE_URL", "CLOUDCTL_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal, so that table cells are not folded
    monkeypatch.chdir(tmp_path)
    return Cli(f"sqlite:///{tmp_path / 'demo.db'}")


def test_demo_prints_the_overdue_report_and_the_data_map(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    result = demo_cli.ok("demo", "--db", str(path))
    assert "Imported the Hunwick Primary School register: 19 services." in result.stderr
    assert f"cloudctl --db {path} service list" in result.stderr
    out = result.stdout
    assert "Risk assessments overdue or due by" in out
    assert "Swimphony" in out and "never-assessed" in out
    assert "Data map: who receives each kind of pupil data" in out
    assert "special category" in out
    assert out.index("Risk assessments overdue") < out.index("Data map")


def test_demo_keeps_its_database_when_given_one(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    demo_cli.ok("demo", "--db", str(path))
    services = demo_cli.json("--db", str(path), "service", "list")
    assert len(services) == 19
    assert demo_cli.json("--db", str(path), "provider", "list")
    assert (tmp_path / "demo.db").stat().st_mode & 0o077 == 0


def test_the_global_db_option_works_too(demo_cli, tmp_path):
    path = tmp_path / "global.db"
    demo_cli.ok("--db", str(path), "demo")
    assert len(demo_cli.json("--db", str(path), "service", "list")) == 19


def test_demo_without_a_database_uses_a_temporary_one(demo_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # not to leave it in /tmp
    (tmp_path / "tmp").mkdir()
    result = demo_cli.ok("demo")
    (used,) = re.findall(r"cloudctl --db (\S+) service list", result.stderr)
    assert Path(used).exists()
    assert Path(used).is_relative_to(tmp_path / "tmp")
    assert "cloudctl-demo-" in used
    # The school's own database is not touched.
    assert not (tmp_path / "xdg" / "cloudctl" / "cloudctl.db").exists()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(cli: Cli, *args: str) -> str:
    result = cli.run(*args)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stderr


def test_the_demo_refuses_a_database_that_exists(demo_cli, tmp_path):
    """The demo adds fictional pupils and history that can never be deleted: never into a real register."""
    school = tmp_path / "school.db"
    demo_cli.ok("--db", str(school), "init", "--school", "Our School")
    demo_cli.ok("--db", str(school), "register", "import", str(HUNWICK))
    before = (digest(school), stat.S_IMODE(school.stat().st_mode))
    for args in (("demo", "--db", str(school)), ("--db", str(school), "demo")):
        message = refused(demo_cli, *args)
        assert f"{school} already exists" in message and "new file" in message
        assert "leave --db out" in message
    assert (digest(school), stat.S_IMODE(school.stat().st_mode)) == before
    assert demo_cli.json("--db", str(school), "pupil", "list") == []


def test_running_the_demo_again_into_its_own_file_is_refused(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    demo_cli.ok("demo", "--db", str(path))
    before = digest(path)
    assert "already exists" in refused(demo_cli, "demo", "--db", str(path))
    assert digest(path) == before


def test_the_demo_refuses_even_an_empty_file_or_a_folder(demo_cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    assert "already exists" in refused(demo_cli, "demo", "--db", str(empty))
    assert empty.stat().st_size == 0
    assert "already exists" in refused(demo_cli, "demo", "--db", str(tmp_path))


def test_the_demo_refuses_a_missing_folder_and_an_empty_path(demo_cli, tmp_path):
    missing = tmp_path / "no-such-folder" / "demo.db"
    assert "does not exist" in refused(demo_cli, "demo", "--db", str(missing))
    assert not missing.parent.exists()
    assert "empty path" in refused(demo_cli, "demo", "--db", "")


@pytest.mark.parametrize("variable", ["CLOUDCTL_DB", "CLOUDCTL_DATABASE_URL"])
def test_the_demo_never_uses_the_database_the_environment_names(demo_cli, tmp_path, monkeypatch, variable):
    school = tmp_path / "school.db"
    demo_cli.ok("--db", str(school), "init", "--school", "Our School")
    before = digest(school)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv(variable, str(school) if variable == "CLOUDCTL_DB" else f"sqlite:///{school}")
    result = demo_cli.ok("demo")
    (used,) = re.findall(r"cloudctl --db (\S+) service list", result.stderr)
    assert Path(used).is_relative_to(tmp_path / "tmp")
    assert digest(school) == before


def test_the_demo_school_is_hunwick(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    demo_cli.ok("demo", "--db", str(path))
    published = demo_cli.ok("--db", str(path), "register", "publish", "--format", "text").stdout
    assert published.startswith("Hunwick Primary School\n")
