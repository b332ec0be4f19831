"""The first hour works as printed: the commands of the README (Quick start and "Using it") and then those
of the user guide's install and getting-started walk-through run, in order, exactly as written, in one
fresh clone in which the Quick start has been done (so the two pages keep to files of their own).

The clone is a new folder holding only what the Quick start makes: `.venv`, with the installed cloudctl
in `.venv/bin` and an `activate` script, as `python3 -m venv .venv && .venv/bin/pip install .` leaves it
(installing is test_packaging.py's subject, so it is not repeated here). cloudctl is NOT on the PATH, as
in a new terminal, and HOME is an empty folder, so a command that would touch the reader's own register
(the default database) is caught. Each command must exit 0, unless its comment documents another status
("# exit status 1: ...").
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# About fifty cloudctl commands, each a new process.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
CLOUDCTL = Path(sys.executable).parent / "cloudctl"
# Done by the Quick start before the walk-through, and by this test's setup instead: making the virtual
# environment and installing into it (test_packaging.py tests that), and running the test suite.
SETUP = re.compile(r"python3 -m venv \S+|\S*pip install .*|\S*python -m pytest.*")
EXPECTED_STATUS = re.compile(r"#.*\bexit status (\d+)")
OPERATORS = ("|", "||", "&&", ";", "&")

# (page, where its walk-through starts, where it ends)
WALKTHROUGHS = {
    "README": ("README.md", "## Quick start", "The user guide is in"),
    "user guide": ("docs/index.md", "## Installing", "## When something goes wrong"),
}


@dataclass
class Step:
    command: str  # as printed, continuation lines and comments included
    expected: int

    def words(self) -> list[str]:
        """The command's words and operators (|, &&, ...), as the shell reads them; no comments."""
        lexer = shlex.shlex(self.command.replace("\\\n", " "), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        return list(lexer)

    def programs(self) -> list[str]:
        """The programs the command runs besides cloudctl (jq, ...)."""
        found, first = [], True
        for word in self.words():
            if word in OPERATORS:
                first = True
            elif first:
                first = False
                if Path(word).name != "cloudctl" and word != ".":
                    found.append(word)
        return found

    def cloudctl_commands(self) -> list[list[str]]:
        """Each cloudctl command in the line, as its words."""
        commands: list[list[str]] = []
        current: list[str] = []
        for word in [*self.words(), ";"]:
            if word not in OPERATORS:
                current.append(word)
                continue
            if current and Path(current[0]).name == "cloudctl":
                commands.append(current)
            current = []
        return commands


def walkthrough(page: str, start: str, end: str) -> list[Step]:
    text = (ROOT / page).read_text(encoding="utf-8")
    part = text[text.index(start) : text.index(end)]
    steps = []
    for block in re.findall(r"^```sh\n(.*?)^```", part, re.DOTALL | re.MULTILINE):
        command = ""
        for line in block.splitlines(keepends=True):
            command += line
            if line.rstrip("\n").endswith("\\"):
                continue  # the command goes on on the next line
            kept = [piece for piece in command.strip().split(" && ") if not SETUP.fullmatch(piece.strip())]
            if kept:
                status = EXPECTED_STATUS.search(command)
                steps.append(Step(" && ".join(kept), int(status[1]) if status else 0))
            command = ""
    return steps


@pytest.fixture
def clone(tmp_path) -> Path:
    """A fresh clone after the Quick start: only `.venv`, with the installed cloudctl in it."""
    folder = tmp_path / "cloudctl"
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "cloudctl").symlink_to(CLOUDCTL)
    (bin_dir / "activate").write_text(
        f'VIRTUAL_ENV="{folder / ".venv"}"\nexport VIRTUAL_ENV\nPATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n',
        encoding="utf-8",
    )
    return folder


def shell_env(tmp_path: Path) -> dict[str, str]:
    """A new terminal's environment: no cloudctl settings, cloudctl not on the PATH, an empty home."""
    home = tmp_path / "home"
    (tmp_path / "tmp").mkdir()
    path = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not (Path(folder) / "cloudctl").exists()
    ]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLOUDCTL_", "VIRTUAL_ENV", "PYTHON", "XDG_"))
    }
    env.update(PATH=os.pathsep.join(path), HOME=str(home), TMPDIR=str(tmp_path / "tmp"), COLUMNS="100")
    return env


@dataclass
class Ran:
    step: Step
    status: int | None  # None: skipped (a program it pipes into is not installed)
    stdout: str
    stderr: str


def run_in_one_shell(steps: list[Step], clone: Path, env: dict[str, str], logs: Path) -> list[Ran]:
    """Run the steps in order in one bash, as a reader types them into one terminal."""
    logs.mkdir()
    script = ["set -o pipefail", f'cd "{clone}"']
    skipped = set()
    for number, step in enumerate(steps):
        if any(shutil.which(program, path=env["PATH"]) is None for program in step.programs()):
            skipped.add(number)
            continue
        log = logs / str(number)
        script += ["{ " + step.command, f'}} >"{log}.out" 2>"{log}.err"', f'echo $? >"{log}.status"']
    subprocess.run(["bash", "-c", "\n".join(script)], env=env, check=True, timeout=600)
    ran = []
    for number, step in enumerate(steps):
        if number in skipped:
            ran.append(Ran(step, None, "", ""))
            continue
        log = logs / str(number)
        ran.append(
            Ran(
                step,
                int((log.with_suffix(".status")).read_text()),
                log.with_suffix(".out").read_text(encoding="utf-8"),
                log.with_suffix(".err").read_text(encoding="utf-8"),
            )
        )
    return ran


def test_the_walkthroughs_run_as_printed_one_after_the_other_in_one_folder(clone, tmp_path):
    # A reader follows the README's "Using it", then the user guide, in the same folder: the guide must not
    # trip over the files and the database the README left there.
    env = shell_env(tmp_path)
    for number, (page, start, end) in enumerate(WALKTHROUGHS.values()):  # the README first
        steps = walkthrough(page, start, end)
        assert len(steps) >= 8
        ran = run_in_one_shell(steps, clone, env, tmp_path / f"logs-{number}")
        for result in ran:
            if result.status is not None:
                assert result.status == result.step.expected, (
                    f"{page}: `{result.step.command.strip()}` exited {result.status}, "
                    f"not {result.step.expected}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
                )
        # The demo prints what the page says it prints.
        (demo,) = [result for result in ran if re.search(r"cloudctl demo\b", result.step.command)]
        text = (ROOT / page).read_text(encoding="utf-8")
        (described,) = re.findall(r"^```text\n(Imported the Hunwick.*?)^```", text, re.DOTALL | re.MULTILINE)
        assert temporary_path(demo.stderr).splitlines() == temporary_path(described).splitlines()
        for title in (
            "Risk assessments overdue or due by",
            "Data map",
            "Consent by pupil and service",
            "Totals",
        ):
            assert title in demo.stdout
    # The walk-throughs keep to their own files: the default database (the reader's real register) is
    # never made, and nothing is written outside the clone and the demo's temporary folder.
    assert not [path for path in Path(env["HOME"]).rglob("*") if path.is_file()]
    assert set(DATABASES.values()) <= {path.name for path in clone.iterdir()}


def temporary_path(text: str) -> str:
    return re.sub(r"/\S*/cloudctl-demo-\w+/demo\.db", "DEMO", text)


def test_the_readme_keeps_its_quick_start_word_for_word():
    # .ci/run greps for the second command; the first is the one every reader starts with.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/cloudctl demo\n" in readme
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q\n"
        in readme
    )


# Each page's own database: a reader may follow both in one folder.
DATABASES = {"README": "hunwick.db", "user guide": "walkthrough.db"}


def test_the_walkthroughs_use_a_database_of_their_own():
    checked = 0
    for name, (page, start, end) in WALKTHROUGHS.items():
        for step in walkthrough(page, start, end):
            for words in step.cloudctl_commands():
                if words[1] in ("demo", "--version") or words[1:3] == ["register", "example"]:
                    continue  # these never open the reader's database
                assert words[1:3] == ["--db", DATABASES[name]], f"{page}: {' '.join(words)}"
                checked += 1
    assert checked > 20


def written_files(page: str, start: str, end: str) -> set[str]:
    """The files a walk-through's commands write: --db, --out and > targets."""
    written = set()
    for step in walkthrough(page, start, end):
        words = step.words()
        written |= {
            after for before, after in itertools.pairwise(words) if before in ("--db", "--out", "-o", ">")
        }
    return written


def test_the_walkthroughs_write_no_file_of_each_others():
    readme, guide = (written_files(*where) for where in WALKTHROUGHS.values())
    assert {"hunwick.db", "hunwick-register.txt", "register.html"} <= readme
    assert {"walkthrough.db", "walkthrough-register.txt"} <= guide
    assert readme & guide == set()


def test_the_walkthrough_is_read_as_printed():
    steps = walkthrough("docs/index.md", "## Installing", "## When something goes wrong")
    commands = [step.command.strip() for step in steps]
    assert commands[0] == ".venv/bin/cloudctl --version"  # the venv and pip steps are the setup's
    assert commands[2] == ". .venv/bin/activate"
    (add,) = [step for step in steps if "service add" in step.command]
    assert "\\\n  --purpose" in add.command
    (fail_if_any,) = [step for step in steps if "--fail-if-any" in step.command]
    assert fail_if_any.expected == 1


# --- register example: the file the walk-through imports ---------------------------------------------


def test_register_example_writes_the_bundled_register(tmp_path, monkeypatch):
    from tests.conftest import HUNWICK
    from tests.helpers.cli import Cli

    monkeypatch.chdir(tmp_path)
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}")
    # It opens no database: not even one it could not make.
    result = cli.ok(
        "--db", str(tmp_path / "no" / "such" / "folder.db"), "register", "example", "--out", "h.txt"
    )
    assert (tmp_path / "h.txt").read_bytes() == HUNWICK.read_bytes()
    assert result.stderr == (
        "Wrote Hunwick Primary School's register to h.txt: import it with cloudctl register import h.txt\n"
    )
    assert not (tmp_path / "no").exists() and not (tmp_path / "unused.db").exists()
    assert cli.ok("register", "example").stdout == HUNWICK.read_text(encoding="utf-8")


def test_register_example_never_writes_over_a_file_unless_forced(tmp_path, monkeypatch):
    from tests.conftest import HUNWICK
    from tests.helpers.cli import Cli

    monkeypatch.chdir(tmp_path)
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}")
    mine = tmp_path / "mine.txt"
    mine.write_text("the school's own notes", encoding="utf-8")
    result = cli.run("register", "example", "--out", str(mine))
    assert result.exit_code == 1 and "--force" in result.stderr
    assert mine.read_text(encoding="utf-8") == "the school's own notes"
    cli.ok("register", "example", "--out", str(mine), "--force")
    assert mine.read_bytes() == HUNWICK.read_bytes()
