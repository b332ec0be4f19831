"""A register document cut short, damaged or empty is refused; gaps the school left import with warnings.

And the text gate over every line and value of a register import: any refusal names its line and refuses the
whole import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudctl.errors import InvalidInput
from cloudctl.importers.register_completeness import check_completeness
from cloudctl.importers.register_document import parse_register_document
from tests.conftest import HUNWICK

LINES = HUNWICK.read_text(encoding="utf-8").split("\n")
FULL = parse_register_document(HUNWICK.read_text(encoding="utf-8"))
ENTRIES = [(section, entry) for section in FULL.sections for entry in section.entries]


def head(count: int) -> str:
    """What `head -n COUNT` of the Hunwick register gives."""
    return "\n".join(LINES[:count]) + "\n"


def write(tmp_path: Path, text: str, name: str = "register.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(text: str) -> str | None:
    """Why the import refuses the document before touching the database, or None when it does not."""
    try:
        found = check_completeness(parse_register_document(text))
    except InvalidInput as error:
        return error.message
    return "\n".join(problem.describe() for problem in found.problems) or None


def cut_entry(count: int):
    """The entry `head -n count` cuts (its name is kept but not all its lines), if any."""
    for section, entry in ENTRIES:
        if entry.line <= count < entry.last_line:
            return section, entry
    return None


CUTTING = [count for count in range(1, len(LINES) + 1) if cut_entry(count)]


def test_every_entry_of_the_fixture_can_be_cut():
    assert len(ENTRIES) == 19
    assert {entry.name for _, entry in (cut_entry(count) for count in CUTTING)} == {
        e.name for _, e in ENTRIES
    }
    assert 60 in CUTTING


@pytest.mark.parametrize("count", CUTTING)
def test_head_n_that_cuts_an_entry_is_refused_with_the_entry_s_line(count):
    _, entry = cut_entry(count)
    message = refusal(head(count))
    assert message is not None, f"head -n {count} cuts {entry.name} and was accepted"
    if entry is ENTRIES[0][1] and count < min(entry.field_lines.values()):
        assert "The register has no entries" in message  # only the first entry's name: nothing to import
    else:
        assert f"line {entry.line}:" in message
        assert f'"{entry.name}"' in message
        assert "cut short" in message


@pytest.mark.parametrize("count", [count for count in range(1, len(LINES) + 1) if count not in CUTTING])
def test_head_n_between_entries_is_refused_only_when_it_has_no_entry(count):
    message = refusal(head(count))
    entries_kept = [entry for _, entry in ENTRIES if entry.last_line <= count]
    if not entries_kept:
        assert message is not None
        # Before the first heading the document has no sections; after it, no entries.
        if count >= FULL.sections[0].line:
            assert "no entries" in message
    else:
        assert message is None, f"head -n {count}: {message}"


def test_head_60_is_refused_naming_the_entry_and_the_missing_labels(cli, tmp_path):
    cli.ok("init", "--years", "R,1-6")
    result = cli.fails("register", "import", str(write(tmp_path, head(60))))
    assert (
        'line 53: the entry "Google G Suite for Education" has no "Data Shared:", "Service Type:", '
        '"Year Groups Enrolled:" or "Risk assessment date:" line, which the other entries of "Services for '
        'Pupils or Parents" carry: the document looks cut short'
    ) in result.stderr
    assert "nothing was imported" in result.stderr
    assert cli.json("service", "list") == []


def test_head_60_leaves_a_register_already_imported_as_it_was(hunwick_cli, tmp_path):
    before = hunwick_cli.json("service", "show", "Google G Suite for Education", "--category", "pupil")
    hunwick_cli.fails("register", "import", str(write(tmp_path, head(60))))  # the snapshot is unchanged
    after = hunwick_cli.json("service", "show", "Google G Suite for Education", "--category", "pupil")
    assert after == before and after["data_shared"] == ["full name"]


def line_of(text: str) -> int:
    return LINES.index(text) + 1


def through(category: str, name: str, label: str | None) -> int:
    """The line to cut after: the entry's label, or its name when label is None."""
    ((_, entry),) = [(s, e) for s, e in ENTRIES if (s.category, e.name) == (category, name)]
    return entry.field_lines[label] if label else entry.line


@pytest.mark.parametrize(
    ("category", "name", "label", "missing"),
    [
        ("pupil", "Accelerated Reader", "website", '"Purpose:", "Data Shared:"'),  # alone in the document
        ("management", "Google G Suite for Education", "service_provider", '"Website:", "Purpose:"'),
        ("other", "iPads/iCloud", "website", '"Potential data shared:" or "Risk assessment date:"'),
        ("other", "Social Media", "potential_data_shared", '"Controls:" or "Risk assessment date:"'),
        ("pupil", "ClassDojo", None, None),  # its name, and nothing under it
    ],
)
def test_cuts_through_the_command(cli, tmp_path, category, name, label, missing):
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, head(through(category, name, label)))))
    assert f'"{name}"' in result.stderr and "cut short" in result.stderr
    if missing:
        assert f'the entry "{name}" has no {missing}' in result.stderr
    else:
        assert "looks like the name of a service with none of its lines" in result.stderr


def test_a_damaged_entry_in_the_middle_is_refused(cli, tmp_path):
    # Lines lost from the middle of a document: an entry with no Data Shared line among entries that have one.
    text = HUNWICK.read_text(encoding="utf-8").replace("Data Shared: full name, class\n", "", 1)
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, text)))
    assert 'the entry "My Maths" has no "Data Shared:" line' in result.stderr


def test_two_damaged_entries_are_both_refused():
    text = HUNWICK.read_text(encoding="utf-8")
    for line in ("Data Shared: full name, class\n", "Data Shared: full name, DOB, class, UPN, Gender\n"):
        text = text.replace(line, "", 1)
    message = refusal(text)
    assert '"My Maths" has no "Data Shared:"' in message
    assert '"Times Tables Rock Stars" has no "Data Shared:"' in message


def test_an_empty_label_says_the_field_is_empty_and_imports_with_a_warning(cli, tmp_path):
    text = HUNWICK.read_text(encoding="utf-8").replace("Purpose: Behaviour management", "Purpose:", 1)
    cli.ok("init", "--years", "R,1-6")
    result = cli.ok("register", "import", str(write(tmp_path, text)))
    line = line_of("Purpose: Behaviour management")
    assert f'Warning: line {line}: the entry "ClassDojo" has nothing after "Purpose:"' in result.stderr
    assert 'cloudctl service edit "ClassDojo" --category pupil --purpose TEXT' in result.stderr
    assert cli.json("service", "show", "ClassDojo")["purpose"] == ""
    # Hunwick's own empty field too.
    assert 'the entry "Speech Link" has nothing after "Year Groups Enrolled:"' in result.stderr


def test_a_field_no_entry_of_a_section_has_imports_with_one_warning_and_is_never_invented(cli):
    cli.ok("init", "--years", "R,1-6")
    result = cli.ok("register", "import", str(HUNWICK))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    other = [line for line in warnings if 'no entry of "Other Online Services"' in line]
    assert len(other) == 3
    for label in ("Purpose", "Service Type", "Year Groups Enrolled"):
        assert sum(f'"{label}:"' in line for line in other) == 1
    assert len(warnings) == 4  # and Speech Link's empty year groups
    for name in ("iPads/iCloud", "Kindle", "School Website", "Social Media"):
        shown = cli.json("service", "show", name)
        assert (shown["purpose"], shown["service_type"], shown["year_groups_text"]) == ("", "", "")


def test_a_field_the_document_does_not_carry_keeps_what_the_user_filled_in(hunwick_cli):
    hunwick_cli.ok("service", "edit", "Kindle", "--purpose", "Reading books in class")
    hunwick_cli.ok("register", "import", str(HUNWICK))
    assert hunwick_cli.json("service", "show", "Kindle")["purpose"] == "Reading books in class"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            lambda: head(20),
            ['"Hunwick Primary School"', "1 section heading(s)", '"Services for Pupils or Parents"'],
        ),
        (
            lambda: (
                "Low Fell Primary\nOnline services\n\nServices for Pupils or Parents\n\n"
                "Other Online Services\nThese are other services.\n"
            ),
            ['"Low Fell Primary"', "2 section heading(s)", "1 paragraph(s)"],
        ),
    ],
    ids=["head-20", "headings-only"],
)
def test_a_document_with_no_entries_says_what_was_found_and_what_is_accepted(cli, tmp_path, text, found):
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, text())))
    assert "The register has no entries, so nothing was imported." in result.stderr
    for words in found:
        assert words in result.stderr
    assert "Service Provider: Renaissance Learning" in result.stderr  # the shape accepted


def test_a_document_ending_with_a_heading_leaves_that_section_s_text_alone(hunwick_cli, tmp_path):
    heading = FULL.sections[-1].line  # Legal Requirements, with its two paragraphs in the register
    result = hunwick_cli.ok("register", "import", str(write(tmp_path, head(heading))), "--format", "json")
    assert {row["action"] for row in json.loads(result.stdout)} == {"unchanged"}
    published = hunwick_cli.ok("register", "publish", "--format", "text").stdout
    assert "please see our privacy notice for pupils." in published


def test_a_note_ending_a_document_is_accepted_when_it_ends_with_a_full_stop(cli, tmp_path):
    cli.ok("init")
    mable = through("pupil", "Mable", "risk_assessment_date")
    cli.fails("register", "import", str(write(tmp_path, head(mable) + "\nUpdated May 2024\n")))
    cli.ok("register", "import", str(write(tmp_path, head(mable) + "\nUpdated May 2024.\n")))


# --- every change is listed: the title, the opening text, the sections' text -----------------------------


def edited(tmp_path: Path) -> Path:
    text = HUNWICK.read_text(encoding="utf-8")
    for old, new in (
        ("Cloud Service Providers", "Online Services We Use"),
        ("Before using these services the school will undertake", "Before using any service the school runs"),
        ("The school may share limited information", "The school may share some information"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    return write(tmp_path, text, "edited.txt")


def test_the_dry_run_lists_the_title_opening_text_and_introductions(hunwick_cli, tmp_path):
    before = hunwick_cli.snapshot()
    result = hunwick_cli.ok("register", "import", str(edited(tmp_path)), "--dry-run", "--format", "json")
    assert hunwick_cli.snapshot() == before
    changed = [row for row in json.loads(result.stdout) if row["action"] != "unchanged"]
    assert changed == [
        {"action": "updated", "part": "document", "service": None, "category": None,
         "fields": ["title", "opening text"]},
        {"action": "updated", "part": "section", "service": None, "category": "pupil",
         "fields": ["introduction"]},
    ]  # fmt: skip
    assert (
        'The import would also change the title (was "Cloud Service Providers", now "Online Services We '
        'Use"); the opening text (3 paragraphs replaced by 3 paragraphs); the introduction of '
        '"Services for Pupils or Parents" (2 paragraphs replaced by 2 paragraphs).'
    ) in result.stderr
    table = hunwick_cli.ok("register", "import", str(edited(tmp_path)), "--dry-run").stdout
    assert "document" in table and "opening text" in table and "introduction" in table


def test_the_import_summary_lists_them_and_a_second_import_changes_nothing(hunwick_cli, tmp_path):
    result = hunwick_cli.ok("register", "import", str(edited(tmp_path)))
    assert "Imported edited.txt: 0 added, 0 updated, 19 unchanged." in result.stderr
    assert (
        'Also changed the title (was "Cloud Service Providers", now "Online Services We Use")'
        in result.stderr
    )
    published = hunwick_cli.ok("register", "publish", "--format", "text").stdout
    assert "Online Services We Use" in published and "Before using any service the school runs" in published
    again = hunwick_cli.ok("register", "import", str(edited(tmp_path)), "--format", "json")
    assert "Also changed" not in again.stderr
    assert {row["action"] for row in json.loads(again.stdout)} == {"unchanged"}


def test_a_document_without_opening_text_says_it_removes_it(hunwick_cli, tmp_path):
    text = HUNWICK.read_text(encoding="utf-8")
    start, end = text.index("The school uses cloud"), text.index("Services for Pupils or Parents")
    result = hunwick_cli.ok(
        "register", "import", str(write(tmp_path, text[:start] + text[end:])), "--dry-run"
    )
    assert "the opening text (3 paragraphs removed)" in result.stderr


# --- the text gate over the document ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("Purpose: Reading assessment", "Purpose: Reading\x00 assessment", "a NUL character (U+0000)"),
        ("ClassDojo", "Class\x1b[31mDojo", "an escape character (U+001B"),
        ("Service Type: Free", "Service Type: Fr\u202eee", "an invisible direction-changing character"),
        ("Purpose: Behaviour management", "Purpose: Behaviour\u2028management", "a line break (U+2028)"),
        (LINES[16], LINES[16].replace("The school", "The school\x07"), "a control character (U+0007)"),
    ],
    ids=["nul", "escape", "bidi", "line-separator", "bell-in-prose"],
)
def test_control_characters_anywhere_refuse_the_import_with_the_line(hunwick_cli, tmp_path, old, new, said):
    lines = list(LINES)
    line = line_of(old)
    lines[line - 1] = new
    result = hunwick_cli.fails("register", "import", str(write(tmp_path, "\n".join(lines))))
    assert f"line {line}: The line contains {said}" in result.stderr
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr


def test_values_too_long_for_their_field_are_refused_with_their_lines(cli, tmp_path):
    text = HUNWICK.read_text(encoding="utf-8")
    text = text.replace("Purpose: Reading assessment", "Purpose: " + "x" * 10_001, 1)
    text = text.replace("Service Type: Free\n", "Service Type: " + "y" * 501 + "\n", 1)
    text = text.replace("Service Provider: Capita", "Service Provider: " + "C" * 201, 1)
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, text)))
    assert "3 problem(s) found" in result.stderr
    purpose, kind, provider = (
        line_of("Purpose: Reading assessment"),
        line_of("Service Type: Free"),
        line_of("Service Provider: Capita"),
    )
    assert f'line {purpose}: The purpose of "Accelerated Reader" is 10,001 characters long' in result.stderr
    assert f'line {kind}: The service type of "ClassDojo" is 501 characters long' in result.stderr
    assert (
        f'line {provider}: The provider name of "SIMS" is 201 characters long, and cloudctl keeps at most 200'
        in (result.stderr)
    )
    assert "shorten it" in result.stderr


@pytest.mark.parametrize(
    ("written", "said"),
    [("0001-01-01", "is before 2000"), ("01/11/0026", "is before 2000"), ("March 2099", "is in the future")],
)
def test_risk_assessment_dates_out_of_range_are_refused(cli, tmp_path, written, said):
    text = HUNWICK.read_text(encoding="utf-8").replace(
        "Risk assessment date: March 2018", f"Risk assessment date: {written}", 1
    )
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, text)))
    line = line_of("Risk assessment date: March 2018")
    assert f'line {line}: the entry "Accelerated Reader": The risk assessment date' in result.stderr
    assert said in result.stderr


def test_a_website_that_is_not_a_web_address_is_refused_with_its_line(cli, tmp_path):
    text = HUNWICK.read_text(encoding="utf-8").replace(
        "Website: <https://www.classdojo.com>", "Website: javascript:alert(1)", 1
    )
    cli.ok("init")
    result = cli.fails("register", "import", str(write(tmp_path, text)))
    line = line_of("Website: <https://www.classdojo.com>")
    assert f'line {line}: The website "javascript:alert(1)" is not a web address' in result.stderr


def test_a_page_break_from_word_is_layout_not_text(cli, tmp_path):
    text = HUNWICK.read_text(encoding="utf-8").replace(
        "\nServices for School Management", "\n\fServices for School Management"
    )
    cli.ok("init")
    cli.ok("register", "import", str(write(tmp_path, text)))
    assert len(cli.json("service", "list", "--category", "management")) == 8


def test_an_empty_label_is_named_as_written_and_an_empty_review_interval_is_no_warning(cli, tmp_path):
    """The warning quotes the label the file uses ("Purpose of data:", not cloudctl's "Purpose:"), and an
    empty "Review every:" warns of nothing: it leaves the service's interval as it is."""
    text = HUNWICK.read_text(encoding="utf-8").replace(
        "Purpose: Behaviour management", "Purpose of data:\nReview every:", 1
    )
    cli.ok("init", "--years", "R,1-6")
    result = cli.ok("register", "import", str(write(tmp_path, text)))
    assert 'the entry "ClassDojo" has nothing after "Purpose of data:"' in result.stderr
    assert "Review" not in result.stderr
