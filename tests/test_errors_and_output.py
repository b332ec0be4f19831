"""What every command shares: output as a table, CSV or JSON, and plain-English errors."""

from __future__ import annotations

import csv
import io
import re

import pytest

from cloudctl.cli import errors as cli_errors
from cloudctl.errors import InvalidInput
from cloudctl.exporters.csv_safe import cell_text
from tests.conftest import HUNWICK
from tests.helpers.class_lists import pupil_list, write_class_list

LISTS = [
    ("provider", "list"),
    ("service", "list"),
    ("service", "list", "--all", "--category", "management"),
    ("assess", "history", "My Maths"),
    ("report", "overdue-assessments", "--as-of", "2026-11-29"),
    ("report", "data-map"),
    ("register", "import", str(HUNWICK), "--dry-run"),
]
SHOWS = [
    ("provider", "show", "Google"),
    ("service", "show", "My Maths"),
    ("service", "show", "Google G Suite for Education", "--category", "management"),
]
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_json_of_a_list_is_a_list_of_snake_case_objects(hunwick_cli, command):
    rows = hunwick_cli.json(*command)
    assert isinstance(rows, list) and rows
    keys = list(rows[0])
    for row in rows:
        assert isinstance(row, dict)
        assert list(row) == keys, "every object has the same keys, in the same order"
    assert all(SNAKE_CASE.fullmatch(key) for key in keys), keys


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_csv_of_a_list_has_the_same_columns_and_rows_as_its_json(hunwick_cli, command):
    rows = hunwick_cli.json(*command)
    table = csv_rows(hunwick_cli.ok(*command, "--format", "csv").stdout)
    assert table[0] == list(rows[0])
    assert len(table) == len(rows) + 1
    for cells, row in zip(table[1:], rows, strict=True):
        assert cells == [cell_text(value) for value in row.values()]


@pytest.mark.parametrize("command", SHOWS, ids=" ".join)
def test_json_and_csv_of_a_show(hunwick_cli, command):
    record = hunwick_cli.json(*command)
    assert isinstance(record, dict)
    assert all(SNAKE_CASE.fullmatch(key) for key in record)
    header, *cells = csv_rows(hunwick_cli.ok(*command, "--format", "csv").stdout)
    assert header == list(record)
    assert cells == [[cell_text(value) for value in record.values()]]


@pytest.mark.parametrize("command", [*LISTS[:-1], *SHOWS], ids=" ".join)
def test_a_table_goes_to_stdout_and_nothing_to_stderr(hunwick_cli, command):
    result = hunwick_cli.ok(*command)
    assert result.stdout.strip()
    assert result.stderr == ""


def test_services_carry_the_fields_the_register_promises(hunwick_cli):
    services = hunwick_cli.json("service", "list")
    required = {
        "name": str, "provider": str, "category": str, "purpose": str, "data_shared": list,
        "service_type": str, "year_groups": list, "selected_only": bool, "year_groups_text": str,
        "status": str,
    }  # fmt: skip
    for service in services:
        for key, kind in required.items():
            assert isinstance(service[key], kind), (service["name"], key)
        assert all(isinstance(name, str) for name in service["data_shared"])
        for key in ("website", "last_assessed", "review_due"):
            assert key in service
        for key in ("last_assessed", "review_due"):
            assert service[key] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", service[key])


def test_the_overdue_report_carries_the_fields_the_issue_promises(hunwick_cli):
    rows = hunwick_cli.json("report", "overdue-assessments", "--as-of", "2026-11-29")
    for row in rows:
        assert {
            "service",
            "category",
            "provider",
            "last_assessed",
            "review_due",
            "days_overdue",
            "state",
        } <= set(row)
        assert row["state"] in ("overdue", "due-soon", "never-assessed")
        if row["state"] == "never-assessed":
            assert row["days_overdue"] is None
        else:
            assert isinstance(row["days_overdue"], int)


@pytest.mark.parametrize(
    ("empty", "full"),
    [
        (("service", "list", "--category", "statutory"), ("service", "list")),
        (("assess", "history", "Swimphony"), ("assess", "history", "My Maths")),
        (("report", "overdue-assessments", "--as-of", "2016-01-01", "--within", "0"),
         ("report", "overdue-assessments", "--as-of", "2026-11-29")),
    ],
    ids=["service list", "assess history", "overdue"],
)  # fmt: skip
def test_an_empty_csv_still_has_the_header_of_a_full_one(hunwick_cli, empty, full):
    if empty[0] == "report":
        hunwick_cli.ok("service", "retire", "Swimphony")  # else it is listed, never assessed
    assert hunwick_cli.json(*empty) == []
    header = csv_rows(hunwick_cli.ok(*empty, "--format", "csv").stdout)
    assert header == [list(hunwick_cli.json(*full)[0])]


def test_empty_provider_list_and_data_map_csv_have_their_headers(cli):
    cli.ok("init")
    assert csv_rows(cli.ok("provider", "list", "-f", "csv").stdout) == [
        ["name", "website", "notes", "services"]
    ]
    assert csv_rows(cli.ok("report", "data-map", "-f", "csv").stdout) == [
        ["data_category", "recognised", "special_category", "sensitive", "services", "providers",
         "service_count", "marking"]
    ]  # fmt: skip


def test_an_unknown_format_is_a_usage_error(hunwick_cli):
    result = hunwick_cli.run("service", "list", "--format", "xml")
    assert result.exit_code == 2  # a mistake in the command line
    assert "xml" in result.stderr


@pytest.fixture
def dangerous(cli):
    cli.ok("init")
    cli.ok(
        "service", "add", '=HYPERLINK("http://evil.example","Click")', "-c", "pupil", "-p", "@Acme",
        "--create-provider", "--purpose", "+cmd|' /C calc'!A0", "--data", "@SUM(1+1), full name",
        "--owner", "-2+3+cmd|' /C calc'!A0", "--years", "All",
    )  # fmt: skip
    return cli


def test_csv_cells_that_could_run_as_formulas_are_quoted(dangerous):
    header, row = csv_rows(dangerous.ok("service", "list", "--format", "csv").stdout)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert cells["purpose"] == "'+cmd|' /C calc'!A0"
    assert cells["provider"] == "'@Acme"
    assert cells["data_shared"] == "'@SUM(1+1); full name"
    assert cells["owner"] == "'-2+3+cmd|' /C calc'!A0"
    # Every cell that starts with a dangerous character, whatever the column.
    assert not [cell for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n")]


def test_formula_guard_in_every_csv(dangerous):
    name = '=HYPERLINK("http://evil.example","Click")'
    for command in (
        ("provider", "list"),
        ("provider", "show", "@Acme"),
        ("service", "show", name),
        ("report", "overdue-assessments"),
        ("report", "data-map"),
    ):
        text = dangerous.ok(*command, "--format", "csv").stdout
        for row in csv_rows(text):
            assert not [cell for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n")], command


def test_json_keeps_the_values_as_they_are(dangerous):
    (service,) = dangerous.json("service", "list")
    assert service["name"] == '=HYPERLINK("http://evil.example","Click")'
    assert service["purpose"] == "+cmd|' /C calc'!A0"


def test_a_table_shows_names_with_brackets_as_written(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    cli.ok("init")
    cli.ok("service", "add", "Maths [/] :smile: [bold]Hub", "-c", "pupil", "-p", "Acme", "--create-provider")
    result = cli.ok("service", "show", "Maths [/] :smile: [bold]Hub")
    assert "Service: Maths [/] :smile: [bold]Hub" in result.stdout
    assert "Maths [/] :smile: [bold]Hub" in cli.ok("service", "list").stdout


@pytest.mark.parametrize(
    "command",
    [
        ("assess", "record", "My Maths", "--date", "31/02/2026", "--by", "J Bloggs", "--outcome", "approved"),
        ("assess", "record", "My Maths", "--date", "2025-01-01", "--by", "J", "--outcome", "approved",
         "--next-review", "31/02/2026"),
        ("report", "overdue-assessments", "--as-of", "31/02/2026"),
    ],
    ids=["--date", "--next-review", "--as-of"],
)  # fmt: skip
def test_an_impossible_date_gives_exit_1_naming_the_value(hunwick_cli, command):
    result = hunwick_cli.fails(*command)
    assert '"31/02/2026"' in result.stderr
    assert "2026-11-01" in result.stderr  # an example of what is accepted
    assert result.stderr.count("\n") == 1, "one clear message"


@pytest.mark.parametrize(
    "command",
    [
        ("service", "add", "Seesaw", "--category", "parents", "-p", "Google"),
        ("service", "add", "Seesaw", "--category", "teachers", "-p", "Google"),
        ("service", "list", "--category", "teachers"),
        ("service", "show", "My Maths", "--category", "teachers"),
        ("assess", "history", "My Maths", "--category", "teachers"),
    ],
    ids=["alias accepted", "add", "list", "show", "history"],
)
def test_an_unknown_category_names_the_value_and_what_is_accepted(hunwick_cli, command):
    if "parents" in command:
        hunwick_cli.ok(*command)  # an alias of pupil
        return
    result = hunwick_cli.fails(*command)
    assert '"teachers"' in result.stderr
    assert "pupil, management, other, statutory" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("service", "show", "Google G Suite for Education"),
        ("service", "edit", "Google G Suite for Education", "--owner", "IT lead"),
        ("service", "retire", "Google G Suite for Education"),
        ("assess", "record", "Google G Suite for Education", "--date", "2025-01-01", "--by", "J", "--outcome",
         "approved"),
        ("assess", "history", "google g suite for education"),
    ],
    ids=["show", "edit", "retire", "record", "history"],
)  # fmt: skip
def test_an_ambiguous_name_asks_for_category_and_lists_both(hunwick_cli, command):
    result = hunwick_cli.fails(*command)
    assert "more than once" in result.stderr
    assert "Google G Suite for Education (--category pupil)" in result.stderr
    assert "Google G Suite for Education (--category management)" in result.stderr


@pytest.mark.parametrize(
    ("command", "closest"),
    [
        (("service", "show", "My Math"), "My Maths"),
        (("service", "show", "Clasdojo"), "ClassDojo"),
        (("service", "show", "times tables rockstars"), "Times Tables Rock Stars"),
        (("assess", "record", "Acelerated Reader", "--date", "2025-01-01", "--by", "J", "--outcome",
          "approved"), "Accelerated Reader"),
        (("provider", "show", "Renaisance Learning"), "Renaissance Learning"),
        (("service", "add", "X", "-c", "pupil", "-p", "Oxford Univ Press"), "Oxford University Press"),
    ],
)  # fmt: skip
def test_a_misspelt_name_gets_the_closest_names_suggested(hunwick_cli, command, closest):
    result = hunwick_cli.fails(*command)
    assert f"'{closest}'" in result.stderr
    assert "Did you mean" in result.stderr


def test_an_unknown_service_with_nothing_close_says_how_to_list_them(hunwick_cli):
    result = hunwick_cli.fails("service", "show", "Zzzzzz")
    assert "There is no service called 'Zzzzzz'." in result.stderr
    assert "Did you mean" not in result.stderr
    assert "service list" in result.stderr


def test_a_misspelt_command_is_suggested(hunwick_cli):
    result = hunwick_cli.run("servce", "list")
    assert result.exit_code == 2
    assert "Did you mean 'service'?" in result.stderr


def test_no_traceback_without_cloudctl_debug(hunwick_cli, monkeypatch):
    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    result = hunwick_cli.fails("service", "show", "My Math")
    assert result.stderr.startswith("Error: ")


def test_cloudctl_debug_shows_the_traceback(hunwick_cli, monkeypatch):
    monkeypatch.setenv("CLOUDCTL_DEBUG", "1")
    result = hunwick_cli.run("service", "show", "My Math")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "NotFound" in result.stderr
    assert "Error: There is no service called 'My Math'." in result.stderr


@pytest.mark.parametrize("value", ["0", "", "false", "no"])
def test_cloudctl_debug_off_values(hunwick_cli, monkeypatch, value):
    monkeypatch.setenv("CLOUDCTL_DEBUG", value)
    assert "Traceback" not in hunwick_cli.run("service", "show", "My Math").stderr


def test_an_unexpected_error_says_how_to_see_more_and_hides_its_detail(monkeypatch, capsys):
    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    # The detail of an unexpected error may hold a pupil's name, so it is not shown.
    code = cli_errors.report(RuntimeError("Smith John 2015-03-04"))
    message = capsys.readouterr().err
    assert code == 3
    assert "Smith" not in message and "Traceback" not in message
    assert "CLOUDCTL_DEBUG=1" in message

    monkeypatch.setenv("CLOUDCTL_DEBUG", "1")
    try:
        raise RuntimeError("Smith John 2015-03-04")
    except RuntimeError as error:
        assert cli_errors.report(error) == 3
    assert "Traceback" in capsys.readouterr().err


def test_a_typed_error_is_exit_1_with_its_message(capsys, monkeypatch):
    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    assert cli_errors.report(InvalidInput("That was wrong: do this.")) == 1
    assert capsys.readouterr().err == "Error: That was wrong: do this.\n"


def test_a_file_that_is_not_a_database_is_refused_plainly(tmp_path, monkeypatch):
    from tests.helpers.cli import Cli

    path = tmp_path / "notes.db"
    path.write_bytes(b"These are my notes, not a database." * 200)
    monkeypatch.delenv("CLOUDCTL_DATABASE_URL", raising=False)
    result = Cli(f"sqlite:///{path}").run("--db", str(path), "service", "list")
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_stops_quietly(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    database = tmp_path / "pipe.db"
    cloudctl = Path(sys.executable).parent / "cloudctl"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}
    subprocess.run(
        [cloudctl, "--db", database, "register", "import", HUNWICK], env=env, check=True, capture_output=True
    )
    # As `cloudctl service list | head -1` when head has gone: the reader closes before anything is written.
    process = subprocess.Popen(
        [cloudctl, "--db", database, "service", "list", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait()
    assert stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["service", "list", "--bogus"],
        ["servise", "list"],
        ["init", "--review-months", "twelve"],
        ["service", "list", "--format", "xml"],
        ["provider", "add"],
        ["assess", "record", "My Maths", "--by", "J Bloggs", "--outcome", "approved"],  # no --date
        ["report"],
        [],
    ],
    ids=["unknown option", "unknown command", "not a number", "bad choice", "missing argument",
         "missing option", "no verb", "nothing"],
)  # fmt: skip
def test_a_mistyped_command_or_option_exits_2_and_says_what_to_try(hunwick_cli, args):
    before = hunwick_cli.snapshot()
    result = hunwick_cli.run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Usage: cloudctl" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert hunwick_cli.snapshot() == before


def test_a_usage_mistake_exits_2_from_the_installed_command(tmp_path):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}
    result = subprocess.run(
        [sys.executable, "-m", "cloudctl", "--db", str(tmp_path / "x.db"), "servce", "list"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Did you mean 'service'?" in result.stderr
    assert not (tmp_path / "x.db").exists()


# --- one exit status for each kind of ending, and the help and the docs say the same -------------------


def test_each_exit_status_is_distinct_and_as_the_lead_decided():
    assert cli_errors.EXIT_OK == 0
    assert cli_errors.EXIT_USER_ERROR == 1
    assert cli_errors.EXIT_USAGE == 2
    assert cli_errors.EXIT_INTERNAL_ERROR == 3
    assert cli_errors.EXIT_INTERRUPTED == 130


def test_the_top_level_help_lists_every_exit_status(cli):
    text = cli.ok("--help").stdout
    listed = text[text.index("Exit status:") :]
    for code, meaning in cli_errors.EXIT_STATUSES.items():
        assert re.search(rf"^ +{code} +{re.escape(meaning.split()[0])}", listed, re.MULTILINE), (code, listed)
    assert "CLOUDCTL_DEBUG=1" in listed


def test_exit_0_when_done(hunwick_cli):
    assert hunwick_cli.run("service", "list").exit_code == 0


def test_exit_1_for_bad_input_and_for_a_refusal(hunwick_cli):
    assert "There is no service" in hunwick_cli.fails("service", "show", "Zzzzzz").stderr
    # --fail-if-any finding something is 1 too (test_reports_register.py has the full story).
    result = hunwick_cli.run("report", "overdue-assessments", "--fail-if-any")
    assert result.exit_code == 1 and "need a risk assessment" in result.stderr


def boom(error: BaseException):  # type: ignore[no-untyped-def]
    def raise_it(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    return raise_it


def test_exit_3_for_a_bug_with_no_detail_shown(hunwick_cli, monkeypatch):
    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    # A bug in a report: the kind of failure nobody anticipated.
    monkeypatch.setattr("cloudctl.reports.data_map.data_map", boom(KeyError("Smith John")))
    result = hunwick_cli.run("report", "data-map")
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: cloudctl stopped on an unexpected problem (KeyError). Nothing more was written. "
        "Run the command again with CLOUDCTL_DEBUG=1 to see the details, and report it.\n"
    )


def test_exit_130_when_interrupted(hunwick_cli, monkeypatch):
    monkeypatch.setattr("cloudctl.reports.data_map.data_map", boom(KeyboardInterrupt()))
    result = hunwick_cli.run("report", "data-map")
    assert result.exit_code == 130
    assert result.stderr == (
        "Error: Stopped. Anything cloudctl had already reported as done is kept; nothing more was written.\n"
    )


# --- what used to end in "unexpected problem" ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "9999-12-31"], "The as-of date 9999-12-31 is out of range"),
        (["--as-of", "0001-01-01"], "The as-of date 0001-01-01 is out of range"),
        (["--within", "1000000000000"], "--within 1000000000000 is out of range"),
        (["--within", "3661"], "from 0 to 3660"),
        (["--within", "-1"], "from 0 to 3660"),
        (["--as-of", "2036-01-01", "--within", "3660"], None),  # the bounds themselves are fine
    ],
    ids=["as-of far ahead", "as-of year 1", "within huge", "within over", "within negative", "at the bounds"],
)
def test_report_dates_and_windows_are_bounded(hunwick_cli, args, message):
    if message is None:
        hunwick_cli.ok("report", "overdue-assessments", *args)
        return
    result = hunwick_cli.fails("report", "overdue-assessments", *args)
    assert message in result.stderr
    assert "unexpected" not in result.stderr


def test_pupil_import_as_of_is_bounded(hunwick_cli, tmp_path):
    path = write_class_list(tmp_path / "class.csv", pupil_list(5))
    result = hunwick_cli.fails("pupil", "import", str(path), "--as-of", "9999-12-31")
    assert "The as-of date 9999-12-31 is out of range" in result.stderr


@pytest.mark.parametrize("command", ["pupil", "consent"])
@pytest.mark.parametrize("encoding", ["base64", "zlib_codec", "hex"])
def test_an_encoding_that_is_not_text_is_refused_plainly(hunwick_cli, tmp_path, command, encoding):
    path = tmp_path / "file.csv"
    path.write_text("UPN,Service,Decision,Given by,Date\n", encoding="utf-8")
    result = hunwick_cli.fails(command, "import", str(path), "--encoding", encoding)
    assert (
        f"'{encoding}' is not a text encoding cloudctl can read: use utf-8, utf-8-sig, cp1252 or utf-16"
        in (result.stderr)
    )


def test_an_unknown_encoding_is_refused_plainly(hunwick_cli, tmp_path):
    path = tmp_path / "file.csv"
    path.write_text("UPN,Surname\n", encoding="utf-8")
    result = hunwick_cli.fails("pupil", "import", str(path), "--encoding", "klingon")
    assert "klingon" in result.stderr and "unexpected" not in result.stderr


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (LookupError("unknown encoding: klingon"), "'klingon' is not a text encoding cloudctl can read"),
        (
            LookupError("'base64' is not a text encoding; use codecs.decode() to handle arbitrary codecs"),
            "'base64' is not a text encoding cloudctl can read",
        ),
    ],
)
def test_the_boundary_explains_a_codec_error_wherever_it_comes_from(capsys, error, words):
    assert cli_errors.report(error) == 1
    assert words in capsys.readouterr().err


def test_an_overflowing_date_is_bad_input_not_a_bug(capsys, monkeypatch):
    import datetime

    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    try:
        datetime.date(9999, 12, 31) + datetime.timedelta(days=30)
    except OverflowError as error:
        assert cli_errors.report(error) == 1
    message = capsys.readouterr().err
    assert "too far out of range" in message and "unexpected" not in message


def test_an_overflowing_date_inside_a_command_is_bad_input(hunwick_cli, monkeypatch):
    import datetime

    def overflow(*args, **kwargs):  # type: ignore[no-untyped-def]
        return datetime.date.max + datetime.timedelta(days=1)

    monkeypatch.setattr("cloudctl.reports.data_map.data_map", overflow)
    result = hunwick_cli.fails("report", "data-map")
    assert "too far out of range" in result.stderr


# --- a damaged database file ---------------------------------------------------------------------------


def damage(path, table: str) -> None:  # type: ignore[no-untyped-def]
    """Overwrite the page that holds `table`'s rows in the middle of a real SQLite file, as a failing disk
    or a half-finished copy would."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything into the main file
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.close()
    assert 1 < root < pages, "a page in the middle of the file"
    with open(path, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes([0xA5]) * page_size)


@pytest.fixture
def damaged_school(sqlite_cli, tmp_path):
    """A school with a register and pupils, whose database file then has pages overwritten."""
    from sqlalchemy.engine import make_url

    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    sqlite_cli.ok("pupil", "import", str(write_class_list(tmp_path / "class.csv", pupil_list(60))))
    return sqlite_cli, make_url(sqlite_cli.url).database


@pytest.mark.parametrize(
    ("table", "command"),
    [
        ("service", ["service", "list"]),
        ("service", ["report", "overdue-assessments"]),
        ("service", ["service", "add", "Seesaw", "-c", "pupil", "-p", "Google"]),
        ("pupil", ["pupil", "list"]),
        ("pupil", ["report", "consent", "--summary"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_damaged_page_is_named_with_what_to_do(damaged_school, monkeypatch, table, command):
    cli, path = damaged_school
    monkeypatch.delenv("CLOUDCTL_DEBUG", raising=False)
    damage(path, table)
    result = cli.run(*command)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: The database {path} is damaged")
    assert "restore the latest backup (made with cloudctl db backup)" in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr


def test_the_damaged_message_comes_from_sqlites_own_words(tmp_path):
    import sqlite3

    from cloudctl.db.engine import describe_connection_error
    from cloudctl.db.location import sqlite_location

    location = sqlite_location(tmp_path / "school.db")
    for words in ("database disk image is malformed", "malformed database schema (service) - invalid"):
        message = describe_connection_error(location, sqlite3.DatabaseError(words))
        assert message.startswith(f"The database {tmp_path / 'school.db'} is damaged ({words})")
        assert "cloudctl db backup" in message


def test_messages_never_replay_a_terminal_control_sequence_the_user_typed(hunwick_cli):
    """A refusal may quote what was typed (a class name): the escape is shown, never sent raw."""
    hostile = "x\x1b]0;PWNED\x07\x1b[2J"
    for command in (
        ["report", "consent", "--class", hostile],
        ["report", "offline-alternatives", "--class", hostile],
    ):
        result = hunwick_cli.run(*command)
        assert result.exit_code == 1
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr
