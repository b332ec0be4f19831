"""`cloudctl demo`: the bundled Hunwick register imported, and the reports printed."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

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


def test_running_the_demo_again_does_not_duplicate(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    demo_cli.ok("demo", "--db", str(path))
    demo_cli.ok("demo", "--db", str(path))
    assert len(demo_cli.json("--db", str(path), "service", "list")) == 19


def test_the_demo_school_is_hunwick(demo_cli, tmp_path):
    path = tmp_path / "demo.db"
    demo_cli.ok("demo", "--db", str(path))
    published = demo_cli.ok("--db", str(path), "register", "publish", "--format", "text").stdout
    assert published.startswith("Hunwick Primary School\n")
