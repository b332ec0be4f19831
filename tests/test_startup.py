"""Starting quickly, and every command documented: help for each, and a place in docs/commands.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cloudctl import __version__
from cloudctl.cli.app import app
from tests.conftest import HUNWICK

DOCS = Path(__file__).parent.parent / "docs"
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "jinja2", "rich")


def imported_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules `python -X importtime -m cloudctl ARGS` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cloudctl", *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
    )
    assert result.returncode in (0, 2), result.stderr[-2000:]  # 2: no command given, so the help is shown
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}


def heavy(modules: set[str], packages: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(module for module in modules if module.split(".")[0] in packages)


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()], ids=["--help", "--version", "nothing"])
def test_help_and_version_import_nothing_heavy(args):
    assert heavy(imported_modules(*args)) == []


@pytest.mark.parametrize("noun", ["service", "provider", "register", "report"])
def test_a_nouns_help_imports_nothing_heavy(noun):
    assert heavy(imported_modules(noun, "--help")) == []


def test_service_list_on_a_current_database_stays_lean(tmp_path):
    database = str(tmp_path / "cloudctl.db")
    env = clean_env()
    subprocess.run(
        [sys.executable, "-m", "cloudctl", "--db", database, "register", "import", str(HUNWICK)],
        env=env,
        check=True,
        capture_output=True,
    )
    modules = imported_modules("--db", database, "service", "list", env=env)
    assert "sqlmodel" in modules  # the command did open the database
    assert heavy(modules, ("alembic", "jinja2")) == []
    # The list is read with one SQL query: building the SQLModel classes would cost more than the rest.
    assert "cloudctl.db.models" not in modules


def test_version(cli):
    result = cli.ok("--version")
    assert result.stdout == f"cloudctl {__version__}\n"


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "cloudctl", "--version"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    assert result.stdout.strip() == f"cloudctl {__version__}"


def command_paths() -> list[tuple[str, ...]]:
    """Every command and sub-command of the CLI, e.g. ("service",) and ("service", "add")."""
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...], parent) -> None:  # type: ignore[no-untyped-def]
        context = command.context_class(command, info_name=path[-1] if path else "cloudctl", parent=parent)
        for name in command.list_commands(context) if hasattr(command, "list_commands") else []:
            sub = command.get_command(context, name)
            if sub is None or sub.hidden:
                continue
            found.append((*path, name))
            walk(sub, (*path, name), context)

    walk(root, (), None)
    return found


COMMANDS = command_paths()


ISSUE_COMMANDS = """init, demo, provider add, provider list, provider show, provider edit, provider remove,
service add, service list, service show, service edit, service retire, assess record, assess history,
report overdue-assessments, report data-map, register import, register publish"""


def test_the_commands_the_issue_names_are_all_there():
    for command in ISSUE_COMMANDS.split(","):
        assert tuple(command.split()) in COMMANDS


def test_the_top_level_help_lists_every_command(cli):
    result = cli.ok("--help")
    for path in COMMANDS:
        if len(path) == 1:
            assert f"  {path[0]} " in result.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(cli, path):
    for flag in ("--help", "-h"):
        result = cli.ok(*path, flag)
        assert result.stdout.startswith(f"Usage: cloudctl {' '.join(path)}")
    lines = [line for line in result.stdout.splitlines()[1:] if line.strip()]
    assert lines and not lines[0].strip().startswith("Options"), "the command explains itself"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_appears_in_the_command_reference(path):
    reference = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert f"cloudctl {' '.join(path)}" in reference


def test_the_user_guide_links_its_pages():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("commands.md", "register.md"):
        assert f"({page})" in index
        assert (DOCS / page).exists()
