"""The built wheel, installed (not editable) into a fresh virtual environment, works on its own.

Slow: it builds a wheel and installs it with its dependencies. One wheel and one environment serve
every test in this file.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).parent.parent
MIGRATIONS = sorted(path.name for path in (REPOSITORY / "migrations" / "versions").glob("*.py"))


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Without isolation when the build backend is already here: quicker, and no download needed.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]
    run(sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", out, REPOSITORY, cwd=out)
    (built,) = out.glob("cloudctl-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed in it; returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv, cwd=venv)
    bin_dir = venv / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=venv)
    return bin_dir


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment of a user's shell: no cloudctl settings, no path into this checkout."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLOUDCTL_", "PYTHON", "VIRTUAL_ENV"))
    }
    clean["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return clean


def test_the_wheel_carries_the_migrations_data_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert MIGRATIONS, "the repository's migrations/versions is empty"
    for migration in MIGRATIONS:
        assert f"cloudctl/migrations/versions/{migration}" in names
    assert "cloudctl/migrations/env.py" in names
    assert "cloudctl/data/hunwick-cloud-service-providers.txt" in names
    assert "cloudctl/templates/register.html.j2" in names
    assert "cloudctl/templates/register.md.j2" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]


def test_the_install_is_not_the_checkout(installed, env, tmp_path):
    result = run(
        installed / "python", "-c", "import cloudctl; print(cloudctl.__file__)", cwd=tmp_path, env=env
    )
    location = Path(result.stdout.strip())
    assert location.is_relative_to(installed.parent)
    assert not location.is_relative_to(REPOSITORY)
    assert (location.parent / "migrations" / "versions").is_dir()


def test_init_and_service_list_work_from_the_wheel(installed, env, tmp_path):
    database = tmp_path / "school.db"
    cloudctl = installed / "cloudctl"
    run(cloudctl, "--db", database, "init", "--school", "Hunwick Primary School", cwd=tmp_path, env=env)
    assert database.exists()
    assert database.stat().st_mode & 0o777 == 0o600
    run(cloudctl, "--db", database, "service", "list", cwd=tmp_path, env=env)
    register = REPOSITORY / "tests" / "data" / "hunwick-cloud-service-providers.txt"
    run(cloudctl, "--db", database, "register", "import", register, cwd=tmp_path, env=env)
    listed = run(cloudctl, "--db", database, "service", "list", "--format", "csv", cwd=tmp_path, env=env)
    assert len(listed.stdout.strip().splitlines()) == 20  # the header and 19 services


def test_the_demo_works_from_the_wheel(installed, env, tmp_path):
    result = run(installed / "cloudctl", "demo", "--db", tmp_path / "demo.db", cwd=tmp_path, env=env)
    assert "19 services" in result.stderr
    assert "Data map" in result.stdout


def test_the_installed_cloudctl_upgrades_an_old_database(installed, env, tmp_path):
    database = tmp_path / "old.db"
    script = (
        "import sys; from pathlib import Path; from cloudctl.db import migrate; "
        "from cloudctl.db.engine import make_engine; from cloudctl.db.location import sqlite_location; "
        "engine = make_engine(sqlite_location(Path(sys.argv[1]))); migrate.upgrade(engine, '0001'); "
        "engine.dispose()"
    )
    run(installed / "python", "-c", script, database, cwd=tmp_path, env=env)
    run(installed / "cloudctl", "--db", database, "service", "list", cwd=tmp_path, env=env)
    assert list(tmp_path.glob("old.db.before-*-from-0001-*.bak"))
    head = MIGRATIONS[-1].split("_")[0]
    check = (
        "import sqlite3, sys; "
        "print(sqlite3.connect(sys.argv[1]).execute('SELECT version_num FROM alembic_version').fetchone()[0])"
    )
    assert run(installed / "python", "-c", check, database, cwd=tmp_path, env=env).stdout.strip() == head


def test_python_dash_m_cloudctl_works_from_the_wheel(installed, env, tmp_path):
    result = run(installed / "python", "-m", "cloudctl", "--version", cwd=tmp_path, env=env)
    assert result.stdout.startswith("cloudctl ")
