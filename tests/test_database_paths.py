"""The database is only what the user meant (issue 8, item 4).

- cloudctl sets modes only on files it creates: an existing database, an --out file or a backup keeps
  its mode; --force replaces an --out file with a NEW 0600 file (os.replace), never chmod-ing the old one.
- `--db` (CLOUDCTL_DB, a sqlite:/// URL) naming a folder, a device, a pipe, a socket, an empty string or a
  file in a folder that does not exist is refused, with nothing created; only the default folder is made.
- A file that is not a cloudctl database is refused untouched: same bytes, same mode, no -wal/-shm.
- A read-only database serves every read command and refuses writes, naming the file or the folder.
  "Read-only" is cloudctl's rule for a file without any write permission (so it holds for root, who may
  write anything, and these tests run as root in CI), besides the operating system's own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import HUNWICK
from tests.helpers.cli import Cli

SIDECARS = ("-wal", "-shm", "-journal")
READ_ONLY_ADVICE = "ask whoever owns it, or check its permissions"


@pytest.fixture
def here(tmp_path, monkeypatch) -> Cli:
    """cloudctl with no database chosen by the environment, its default folder under tmp_path."""
    for name in ("CLOUDCTL_DATABASE_URL", "CLOUDCTL_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return Cli(f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> Path:
    """A cloudctl database with the Hunwick register, a class list and consent (built once, copied)."""
    path = tmp_path_factory.mktemp("demo") / "school.db"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CLOUDCTL_DATABASE_URL", "CLOUDCTL_DB"):
            patch.delenv(name, raising=False)
        Cli("unused").ok("demo", "--db", str(path))
    assert not any(Path(f"{path}{suffix}").exists() for suffix in SIDECARS)
    return path


@pytest.fixture
def school(demo_database, tmp_path) -> Path:
    """A fresh copy of the demo database, mode 0600, in tmp_path."""
    path = tmp_path / "school.db"
    shutil.copyfile(demo_database, path)
    os.chmod(path, 0o600)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def sidecars(path: Path) -> list[str]:
    return [suffix for suffix in SIDECARS if os.path.lexists(f"{path}{suffix}")]


def refused(cli: Cli, *args: str, says: tuple[str, ...] = ()):
    result = cli.run(*args)
    assert result.exit_code == 1, (
        f"expected exit 1, got {result.exit_code}:\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert "unexpected problem" not in result.stderr
    for words in says:
        assert words in result.stderr, f"{words!r} not in:\n{result.stderr}"
    return result


@contextmanager
def unchanged(*paths: Path):
    """The files keep their bytes and their mode, and gain no SQLite working files."""
    before = {path: (digest(path), mode(path)) for path in paths}
    yield
    for path in paths:
        assert (digest(path), mode(path)) == before[path], f"{path} was changed"
        assert sidecars(path) == [], f"{path} gained {sidecars(path)}"


def make_device(path: Path) -> Path:
    """A character device like /dev/null, made in the test's own folder (needs CAP_MKNOD)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as error:
        pytest.skip(f"cannot make a device node here: {error}")
    return path


@contextmanager
def listening_socket(path: Path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        yield path
    finally:
        server.close()


def foreign_sqlite(path: Path, *, wal: bool = False) -> Path:
    """Another program's database: a notes table with a row."""
    connection = sqlite3.connect(path)
    if wal:
        connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    connection.execute("INSERT INTO notes (body) VALUES ('not cloudctl''s')")
    connection.commit()
    connection.close()
    os.chmod(path, 0o644)
    return path


# ---- modes: only on files cloudctl creates ------------------------------------------------------------


def test_an_existing_database_keeps_its_mode(here, school):
    os.chmod(school, 0o640)  # the school chose to let its group read it
    here.ok("--db", str(school), "service", "list")
    here.ok("--db", str(school), "provider", "add", "Acme Learning")
    assert mode(school) == 0o640


def test_a_new_database_is_private_whatever_the_umask(here, tmp_path):
    path = tmp_path / "new.db"
    previous = os.umask(0o277)  # takes the owner's write bit off anything created without fchmod
    try:
        here.ok("--db", str(path), "init", "--school", "Hunwick Primary School")
    finally:
        os.umask(previous)
    assert mode(path) == 0o600


OUT_COMMANDS = {
    "export enrolment": ("export", "enrolment", "My Maths"),
    "consent form": ("consent", "form", "--class", "Kestrels"),
    "register publish": ("register", "publish", "--format", "text"),
}


@pytest.mark.parametrize("command", OUT_COMMANDS.values(), ids=OUT_COMMANDS.keys())
def test_an_out_file_is_new_and_private(here, school, tmp_path, command):
    out = tmp_path / "written.txt"
    here.ok("--db", str(school), *command, "--out", str(out))
    assert mode(out) == 0o600
    assert out.stat().st_size > 0


@pytest.mark.parametrize("command", OUT_COMMANDS.values(), ids=OUT_COMMANDS.keys())
def test_an_existing_out_file_is_refused_without_force(here, school, tmp_path, command):
    out = tmp_path / "last-term.txt"
    out.write_text("last term's file\n")
    os.chmod(out, 0o644)
    with unchanged(out):
        refused(here, "--db", str(school), *command, "--out", str(out), says=("already exists", "--force"))
    assert out.read_text() == "last term's file\n"


@pytest.mark.parametrize("command", OUT_COMMANDS.values(), ids=OUT_COMMANDS.keys())
def test_force_replaces_the_out_file_with_a_new_private_one(here, school, tmp_path, command):
    out = tmp_path / "last-term.txt"
    out.write_text("last term's file\n")
    os.chmod(out, 0o644)
    old = tmp_path / "old-name.txt"
    os.link(out, old)  # a second name for the old file shows what became of it
    here.ok("--db", str(school), *command, "--out", str(out), "--force")
    assert out.read_text() != "last term's file\n"
    assert mode(out) == 0o600
    assert not os.path.samefile(out, old)
    # The old file was not written into or re-permissioned: it was replaced.
    assert old.read_text() == "last term's file\n"
    assert mode(old) == 0o644
    assert [path.name for path in tmp_path.iterdir() if "partial" in path.name] == []


@pytest.mark.parametrize("force", [(), ("--force",)], ids=["", "--force"])
def test_an_out_path_that_is_not_a_file_is_refused_even_with_force(here, school, tmp_path, force):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    device = make_device(tmp_path / "null-device")
    device_mode = mode(device)
    command = ("--db", str(school), "export", "enrolment", "My Maths", *force)
    refused(here, *command, "--out", str(folder), says=("is a folder",))
    refused(here, *command, "--out", str(device), says=("is not a regular file", "a device"))
    assert stat.S_ISCHR(os.lstat(device).st_mode) and mode(device) == device_mode
    with listening_socket(tmp_path / "s.sock") as sock:
        refused(here, *command, "--out", str(sock), says=("a socket",))
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
    assert list(folder.iterdir()) == []


def test_an_out_file_in_a_missing_folder_is_refused(here, school, tmp_path):
    out = tmp_path / "no-such-folder" / "forms.html"
    refused(
        here,
        *("--db", str(school), "consent", "form", "--class", "Kestrels", "--out", str(out)),
        says=(f"The folder {out.parent} does not exist: create it first",),
    )
    assert not out.parent.exists()


def test_backup_force_replaces_a_file_but_never_a_device(here, school, tmp_path):
    device = make_device(tmp_path / "null-device")
    refused(here, "--db", str(school), "db", "backup", str(device), "--force", says=("a device",))
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    target = tmp_path / "backup.db"
    target.write_text("last week's backup")
    os.chmod(target, 0o644)
    os.link(target, tmp_path / "old-backup")
    here.ok("--db", str(school), "db", "backup", str(target), "--force")
    assert mode(target) == 0o600
    assert (tmp_path / "old-backup").read_text() == "last week's backup"
    assert mode(tmp_path / "old-backup") == 0o644


def test_the_pre_upgrade_backup_never_overwrites_an_older_one(tmp_path):
    from cloudctl.db.engine import backup_path_for

    database = tmp_path / "cloudctl.db"
    first = backup_path_for(database, "0001")
    first.write_text("an earlier backup")
    second = backup_path_for(database, "0001")
    assert second != first and not second.exists()
    assert first.read_text() == "an earlier backup"


# ---- what --db names --------------------------------------------------------------------------------------


def test_db_naming_a_folder_is_refused_and_the_folder_untouched(here, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    refused(here, "--db", str(folder), "init", says=(f"{folder} is a folder", "cloudctl.db"))
    assert mode(folder) == 0o755  # before: chmod 0600, and no one could open the folder
    assert list(folder.iterdir()) == []


def test_db_naming_a_device_is_refused_and_left_alone(here, tmp_path):
    device = make_device(tmp_path / "null-device")
    before = mode(device)
    refused(here, "--db", str(device), "service", "list", says=("not a database file", "a device"))
    assert stat.S_ISCHR(os.lstat(device).st_mode) and mode(device) == before


def test_db_naming_a_pipe_or_a_socket_is_refused(here, tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe, 0o644)
    os.chmod(pipe, 0o644)
    refused(here, "--db", str(pipe), "service", "list", says=("a named pipe",))
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and mode(pipe) == 0o644
    with listening_socket(tmp_path / "s.sock") as sock:
        before = mode(sock)
        refused(here, "--db", str(sock), "service", "list", says=("a socket",))
        assert mode(sock) == before


@pytest.mark.parametrize(
    "how",
    [("--db", ""), ("--db", "  "), ("CLOUDCTL_DB", ""), ("CLOUDCTL_DATABASE_URL", ""), ("URL", "sqlite:///")],
    ids=["--db empty", "--db blank", "CLOUDCTL_DB empty", "URL empty", "sqlite URL without a path"],
)
def test_an_empty_database_choice_is_refused_not_taken_for_the_default(here, tmp_path, monkeypatch, how):
    kind, value = how
    args: tuple[str, ...] = ()
    if kind == "--db":
        args = ("--db", value)
    elif kind == "URL":
        monkeypatch.setenv("CLOUDCTL_DATABASE_URL", value)
    else:
        monkeypatch.setenv(kind, value)
    result = refused(here, *args, "init", "--school", "Somewhere")
    assert "empty" in result.stderr or "names no file" in result.stderr
    assert not (tmp_path / "xdg").exists()  # the default database was not used, or made


@pytest.mark.parametrize("how", ["--db", "CLOUDCTL_DB", "CLOUDCTL_DATABASE_URL"])
def test_a_database_in_a_folder_that_does_not_exist_is_refused(here, tmp_path, monkeypatch, how):
    path = tmp_path / "no" / "such" / "folder" / "cloudctl.db"
    args: tuple[str, ...] = ()
    if how == "--db":
        args = ("--db", str(path))
    elif how == "CLOUDCTL_DB":
        monkeypatch.setenv("CLOUDCTL_DB", str(path))
    else:
        monkeypatch.setenv("CLOUDCTL_DATABASE_URL", f"sqlite:///{path}")
    refused(
        here,
        *args,
        "init",
        says=(f"The folder {path.parent} does not exist: create it first, or choose another path",),
    )
    assert not (tmp_path / "no").exists()


def test_only_the_default_data_folder_is_created_and_it_is_private(here, tmp_path):
    here.ok("init", "--school", "Default")
    folder = tmp_path / "xdg" / "cloudctl"
    assert mode(folder) == 0o700
    assert mode(folder / "cloudctl.db") == 0o600


def test_db_copy_to_a_missing_folder_creates_nothing(here, school, tmp_path):
    target = tmp_path / "missing" / "copy.db"
    refused(here, "--db", str(school), "db", "copy", "--to", str(target), says=("does not exist",))
    assert not target.parent.exists()


# ---- a file that is not a cloudctl database is refused, untouched ------------------------------------------


@pytest.mark.parametrize("wal", [False, True], ids=["rollback journal", "WAL"])
@pytest.mark.parametrize(
    "command", [("service", "list"), ("init", "--school", "X"), ("db", "status")], ids=" ".join
)
def test_another_programs_sqlite_database_is_refused_untouched(here, tmp_path, wal, command):
    other = foreign_sqlite(tmp_path / "notes.db", wal=wal)
    header_byte = other.read_bytes()[18]
    with unchanged(other):
        refused(here, "--db", str(other), *command, says=("not a cloudctl one", "notes", "left it as it was"))
    assert other.read_bytes()[18] == header_byte  # the journal mode was not switched


def test_a_database_of_another_alembic_program_is_refused(here, tmp_path):
    other = foreign_sqlite(tmp_path / "app.db")
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    connection.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    connection.commit()
    connection.close()
    with unchanged(other):
        refused(here, "--db", str(other), "service", "list", says=("not a cloudctl one",))


@pytest.mark.parametrize(
    "content",
    [b"Dear parents,\nThe school trip...\n", bytes(range(256)) * 4, b"SQLite format 3\x00 but short"],
    ids=["text", "binary", "a cut-off SQLite header"],
)
def test_a_file_that_is_not_sqlite_is_refused_untouched(here, tmp_path, content):
    letter = tmp_path / "letter.db"
    letter.write_bytes(content)
    os.chmod(letter, 0o644)
    with unchanged(letter):
        refused(here, "--db", str(letter), "init", says=("not an SQLite database file", "left it as it was"))


def test_db_copy_into_another_programs_database_is_refused_untouched(here, school, tmp_path):
    other = foreign_sqlite(tmp_path / "notes.db")
    with unchanged(other):
        refused(here, "--db", str(school), "db", "copy", "--to", str(other), says=("not a cloudctl one",))


def test_an_empty_private_file_is_taken_as_a_new_database(here, tmp_path):
    """A 0-byte file holds nothing that could be lost (`touch`, mktemp, an interrupted first run)."""
    path = tmp_path / "made-by-mktemp.db"
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    here.ok("--db", str(path), "init", "--school", "Hunwick Primary School")
    assert here.json("--db", str(path), "db", "status")["schema"] == "up to date"
    assert mode(path) == 0o600


def test_an_empty_file_that_others_can_read_is_refused_not_chmod_ed(here, tmp_path):
    path = tmp_path / "touched.db"
    path.touch()
    os.chmod(path, 0o644)
    with unchanged(path):
        refused(here, "--db", str(path), "init", says=("mode 0644", f"chmod 600 {path}", "remove it"))
    assert path.stat().st_size == 0


def test_an_sqlite_file_with_nothing_in_it_is_taken_as_new_unless_another_program_stamped_it(here, tmp_path):
    blank = tmp_path / "blank.db"
    connection = sqlite3.connect(blank)
    connection.execute("PRAGMA journal_mode = WAL")  # writes the header, and nothing else
    connection.close()
    os.chmod(blank, 0o600)
    here.ok("--db", str(blank), "init", "--school", "Hunwick Primary School")

    stamped = tmp_path / "stamped.db"
    connection = sqlite3.connect(stamped)
    connection.execute("PRAGMA application_id = 1234")
    connection.execute("PRAGMA user_version = 7")
    connection.close()
    os.chmod(stamped, 0o600)
    with unchanged(stamped):
        refused(here, "--db", str(stamped), "init", says=("not a cloudctl one",))


# ---- a read-only database serves reads and refuses writes -------------------------------------------------

READS = {
    "service list": ("service", "list"),
    "service show": ("service", "show", "My Maths"),
    "provider list": ("provider", "list"),
    "report data-map": ("report", "data-map"),
    "report overdue": ("report", "overdue-assessments"),
    "report consent": ("report", "consent", "--class", "Kestrels"),
    "report offline": ("report", "offline-alternatives"),
    "pupil list": ("pupil", "list"),
    "register publish": ("register", "publish", "--format", "text"),
    # A dry run reads; a real export is recorded in the ledger, so it is a write (below).
    "export enrolment --dry-run": ("export", "enrolment", "My Maths", "--dry-run"),
    "db status": ("db", "status"),
    "db verify": ("db", "verify"),
}
WRITES = {
    "init": ("init", "--school", "Elsewhere"),
    "provider add": ("provider", "add", "Acme Learning"),
    "register import": ("register", "import", str(HUNWICK)),
    "consent optout": ("consent", "optout", "--class", "Kestrels", "My Maths", "--by", "Office"),
    "export enrolment": ("export", "enrolment", "My Maths"),
}


def kestrel(here: Cli, path: Path) -> str:
    return here.json("--db", str(path), "pupil", "list", "--class", "Kestrels")[0]["upn"]


def test_a_file_without_write_permission_serves_every_read_and_refuses_every_write(here, school):
    upn = kestrel(here, school)
    expected = {name: here.ok("--db", str(school), *args).stdout for name, args in READS.items()}
    os.chmod(school, 0o444)
    with unchanged(school):
        for name, args in READS.items():
            assert here.ok("--db", str(school), *args).stdout == expected[name], name
        here.ok("--db", str(school), "consent", "history", upn)
        here.ok("--db", str(school), "pupil", "show", upn)
        for args in WRITES.values():
            refused(
                here,
                "--db",
                str(school),
                *args,
                says=(f"The database {school} is read-only", "no write permission", READ_ONLY_ADVICE),
            )
        refused(
            here, "--db", str(school), "consent", "optin", upn, "My Maths", "--by", "Mum", says=("read-only",)
        )
        # A backup and a copy read the database, and write only their own new files.
        here.ok("--db", str(school), "db", "backup", str(school.with_name("backup.db")))
        here.ok("--db", str(school), "db", "copy", "--to", str(school.with_name("copy.db")))
    assert mode(school.with_name("backup.db")) == 0o600


def test_a_read_only_database_is_read_with_what_its_writer_has_not_yet_checkpointed(here, school):
    """With a -wal file in use (the owner's cloudctl is running), the read sees what is in it."""
    writer = sqlite3.connect(school)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute(
            "INSERT INTO provider (name, created_at) VALUES ('Only In The WAL', '2026-11-30 09:00:00')"
        )
        writer.commit()
        assert Path(f"{school}-wal").stat().st_size > 0
        os.chmod(school, 0o444)
        names = [row["name"] for row in here.json("--db", str(school), "provider", "list")]
        assert "Only In The WAL" in names
    finally:
        writer.close()


def test_a_read_only_folder_is_named_as_the_cause(here, school, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "school.db"
    shutil.copyfile(school, path)
    os.chmod(path, 0o600)
    os.chmod(folder, 0o555)
    try:
        with unchanged(path):
            assert len(here.json("--db", str(path), "service", "list")) == 19
            here.ok("--db", str(path), "db", "status")
            refused(
                here,
                "--db",
                str(path),
                "provider",
                "add",
                "Acme Learning",
                says=(f"its folder {folder} is read-only", "school.db-wal", READ_ONLY_ADVICE),
            )
        refused(here, "--db", str(folder / "new.db"), "init", says=(f"the folder {folder} is read-only",))
        assert sorted(p.name for p in folder.iterdir()) == ["school.db"]
    finally:
        os.chmod(folder, 0o755)


def test_a_read_only_database_that_needs_upgrading_is_refused_without_a_backup(here, tmp_path):
    from cloudctl.db import migrate
    from cloudctl.db.engine import make_engine
    from cloudctl.db.location import sqlite_location

    path = tmp_path / "old.db"
    engine = make_engine(sqlite_location(path))
    migrate.upgrade(engine, "0001")
    engine.dispose()
    os.chmod(path, 0o444)
    with unchanged(path):
        refused(
            here,
            "--db",
            str(path),
            "service",
            "list",
            says=("read-only", "upgrade it from schema revision 0001 to"),
        )
        assert here.json("--db", str(path), "db", "status")["schema_revision"] == "0001"
    assert list(tmp_path.glob("*.bak")) == []


NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def nobody_can_run_cloudctl() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            "import cloudctl",
        ],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not nobody_can_run_cloudctl(), reason="needs root, setpriv and a cloudctl others can run")
def test_another_users_database_serves_reads_and_names_its_owner_for_writes(demo_database):
    """A real permission refusal: the database belongs to root, and cloudctl runs as nobody."""
    folder = Path(tempfile.mkdtemp(prefix="cloudctl-owner-"))  # pytest's own tmp_path is root's alone
    try:
        os.chmod(folder, 0o755)
        path = folder / "school.db"
        shutil.copyfile(demo_database, path)
        os.chmod(path, 0o644)

        def as_nobody(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [*NOBODY, sys.executable, "-m", "cloudctl", "--db", str(path), *args],
                capture_output=True,
                text=True,
                env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "COLUMNS": "200"},
                cwd=folder,
            )

        with unchanged(path):
            listed = as_nobody("service", "list", "--format", "json")
            assert listed.returncode == 0, listed.stderr
            assert len(json.loads(listed.stdout)) == 19
            written = as_nobody("provider", "add", "Acme Learning")
            assert written.returncode == 1
            assert "you may not write to the file, which belongs to root" in written.stderr
            assert READ_ONLY_ADVICE in written.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["school.db"]
    finally:
        shutil.rmtree(folder)


# ---- an export never replaces a database; a link to a folder is a folder; URLs and paths as written ------

NEVER_OVER = "cloudctl never writes an export over a database; choose another --out"
EVERY_OUT_COMMAND = {**OUT_COMMANDS, "register example": ("register", "example")}


@pytest.mark.parametrize("command", EVERY_OUT_COMMAND.values(), ids=EVERY_OUT_COMMAND.keys())
def test_an_export_never_replaces_the_database_even_with_force(here, school, tmp_path, command):
    before = digest(school)
    link = tmp_path / "link-to-school.db"
    link.symlink_to(school)
    for out in (school, link):
        refused(
            here,
            *("--db", str(school), *command, "--out", str(out), "--force"),
            says=(f"{out} is a database: {NEVER_OVER}",),
        )
    # Another database, not the one in use, is refused just the same.
    other = foreign_sqlite(tmp_path / "other.db")
    other_before = digest(other)
    refused(here, "--db", str(school), *command, "--out", str(other), "--force", says=(NEVER_OVER,))
    assert (digest(school), digest(other)) == (before, other_before)
    assert link.is_symlink()
    here.ok("--db", str(school), "service", "list")  # still a working database


@pytest.mark.parametrize("suffix", SIDECARS)
@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_an_export_never_replaces_a_databases_working_file(here, school, tmp_path, suffix, exists):
    working = Path(f"{school}{suffix}")
    if exists:
        working.write_bytes(b"SQLite's own bytes")
    # register example opens no database, so SQLite does not tidy the working file away meanwhile.
    refused(
        here,
        *("register", "example", "--out", str(working), "--force"),
        says=(f"{working} is part of the database {school}: {NEVER_OVER}",),
    )
    assert working.read_bytes() == b"SQLite's own bytes" if exists else not os.path.lexists(working)
    # A name that merely ends like one, with no database beside it, is an ordinary file name.
    here.ok("--db", str(school), "register", "publish", "--out", str(tmp_path / f"notes{suffix}"))


def test_backup_force_still_replaces_an_older_backup(here, school, tmp_path):
    target = tmp_path / "backup.db"
    here.ok("--db", str(school), "db", "backup", str(target))
    here.ok("--db", str(school), "provider", "add", "Acme Learning")
    here.ok("--db", str(school), "db", "backup", str(target), "--force")
    assert "Acme Learning" in here.ok("--db", str(target), "provider", "list").stdout


@pytest.mark.parametrize("command", EVERY_OUT_COMMAND.values(), ids=EVERY_OUT_COMMAND.keys())
def test_a_link_to_a_folder_is_refused_as_a_folder_even_with_force(here, school, tmp_path, command):
    folder = tmp_path / "somedir"
    folder.mkdir()
    link = tmp_path / "link"
    link.symlink_to(folder)
    refused(here, "--db", str(school), *command, "--out", str(link), "--force", says=(f"{link} is a folder",))
    assert link.is_symlink() and os.readlink(link) == str(folder)
    assert list(folder.iterdir()) == []


def test_a_link_to_a_file_is_still_replaced_with_force_and_a_dangling_link_too(here, school, tmp_path):
    target = tmp_path / "old.txt"
    target.write_text("old")
    for link in (tmp_path / "to-file", tmp_path / "dangling"):
        link.symlink_to(target if link.name == "to-file" else tmp_path / "gone.txt")
        here.ok("--db", str(school), "register", "publish", "--out", str(link), "--force")
        assert not link.is_symlink() and link.stat().st_size > 0
    assert target.read_text() == "old"


@pytest.mark.parametrize("how", ["--db", "CLOUDCTL_DB", "CLOUDCTL_DATABASE_URL"])
def test_a_database_path_ending_in_a_slash_is_refused_as_a_folder(here, tmp_path, monkeypatch, how):
    written = f"{tmp_path / 'nonexist.db'}/"
    args: tuple[str, ...] = ()
    if how == "--db":
        args = ("--db", written)
    elif how == "CLOUDCTL_DB":
        monkeypatch.setenv("CLOUDCTL_DB", written)
    else:
        monkeypatch.setenv("CLOUDCTL_DATABASE_URL", f"sqlite:///{written}")
    refused(here, *args, "init", "--school", "Somewhere", says=("ends in '/' like a folder",))
    assert not os.path.lexists(tmp_path / "nonexist.db")
    assert not (tmp_path / "xdg").exists()


def test_an_sqlite_url_with_a_query_is_refused_plainly(here, school, monkeypatch):
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", f"sqlite:///{school}?mode=ro")
    with unchanged(school):
        result = refused(
            here,
            *("provider", "add", "Acme Learning"),
            says=(
                "cloudctl opens SQLite files itself: drop '?mode=ro'",
                "a database file without write permission is opened read-only",
            ),
        )
    assert "Warning" not in result.stderr and "SAWarning" not in result.stderr
