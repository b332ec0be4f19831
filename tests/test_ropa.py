"""`cloudctl report ropa`: the record of processing (UK GDPR Art. 30(1)), its files, and its gaps."""

from __future__ import annotations

import json
import stat
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloudctl.reports.ropa import GAPS, ROPA_KEYS, data_facts, transfer_text

KEYS = [
    "service", "category", "provider", "purposes", "data_subjects", "data_categories", "recipients",
    "transfers", "retention", "security_measures", "lawful_basis", "special_category_condition", "dpia_state",
    "agreement",
]  # fmt: skip
AS_OF = "2026-06-01"


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("provider", "add", "Capita")
    cli.ok(
        "service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--purpose", "Maths",
        "--data", "full name, class", "--website", "https://www.mymaths.co.uk",
    )  # fmt: skip
    cli.ok("service", "add", "SIMS", "-c", "management", "-p", "Capita", "--data", "full name, medical")
    return cli


def ropa(cli, *options: str) -> list[dict]:
    return cli.json("report", "ropa", "--as-of", AS_OF, *options)


def by_service(rows: list[dict]) -> dict[str, dict]:
    return {row["service"]: row for row in rows}


def test_one_row_per_service_in_use_with_exactly_the_art30_keys(school):
    school.ok("service", "add", "Old", "-c", "pupil", "-p", "Capita")
    school.ok("service", "retire", "Old")
    rows = ropa(school)
    assert [row["service"] for row in rows] == ["My Maths", "SIMS"]  # awaiting included, retired not
    assert all(list(row) == KEYS for row in rows)
    assert list(ROPA_KEYS) == KEYS


def test_missing_values_are_null_in_json_and_missing_for_people(school):
    row = by_service(ropa(school))["My Maths"]
    assert row == {
        "service": "My Maths", "category": "pupil", "provider": "Oxford University Press",
        "purposes": "Maths",
        "data_subjects": ["pupils"], "data_categories": ["full name", "class"],
        "recipients": ["Oxford University Press"], "transfers": None, "retention": None,
        "security_measures": None, "lawful_basis": None, "special_category_condition": "not applicable",
        "dpia_state": "awaiting", "agreement": None,
    }  # fmt: skip
    text = school.ok("report", "ropa", "--as-of", AS_OF, "--format", "csv").stdout
    header, first, _ = text.splitlines()
    assert header == ",".join(KEYS)
    assert first == (
        'My Maths,pupil,Oxford University Press,Maths,pupils,"full name, class",Oxford University Press,'
        "MISSING,MISSING,MISSING,MISSING,not applicable,awaiting,MISSING"
    )
    table = school.ok("report", "ropa", "--as-of", AS_OF).stdout
    assert "MISSING" in table


def test_the_record_carries_what_the_register_holds(school):
    school.ok(
        "service", "edit", "SIMS", "--lawful-basis", "Legal obligation", "--special-category-condition",
        "Art. 9(2)(g)", "--storage", "elsewhere", "--storage-detail", "USA, IDTA", "--retention", "6 years",
        "--controls", "Encrypted; two-factor sign-in", "--purpose", "MIS",
    )  # fmt: skip
    school.ok("assess", "record", "SIMS", "--date", "2026-01-10", "--by", "DPO", "--outcome", "approved")
    school.ok(
        "service", "contract", "SIMS", "--dpa-signed", "2024-04-01", "--dpa-reference", "CAP-7",
        "--end", "2027-03-31",
    )  # fmt: skip
    row = by_service(ropa(school))["SIMS"]
    assert row["purposes"] == "MIS"
    assert row["data_categories"] == ["full name", "medical"]
    assert row["transfers"] == "outside the UK and EEA: USA, IDTA"
    assert row["retention"] == "6 years"
    assert row["security_measures"] == "Encrypted; two-factor sign-in"
    assert row["lawful_basis"] == "Legal obligation"
    assert row["special_category_condition"] == "Art. 9(2)(g)"
    assert row["dpia_state"] == "current"
    assert row["agreement"] == "signed 2024-04-01; ref CAP-7; contract ends 2027-03-31"


def test_special_category_data_without_a_condition_is_missing(school):
    assert by_service(ropa(school))["SIMS"]["special_category_condition"] is None


@pytest.mark.parametrize(
    ("assessed", "as_of", "state"),
    [(None, AS_OF, "awaiting"), ("2025-05-01", AS_OF, "overdue"), ("2025-06-01", AS_OF, "current")],
)
def test_the_dpia_state_follows_the_overdue_rule(school, assessed, as_of, state):
    if assessed:
        school.ok("assess", "record", "My Maths", "--date", assessed, "--by", "DPO", "--outcome", "approved")
    assert by_service(school.json("report", "ropa", "--as-of", as_of))["My Maths"]["dpia_state"] == state
    overdue = {
        row["service"]: row["state"] for row in school.json("report", "overdue-assessments", "--as-of", as_of)
    }
    assert (overdue.get("My Maths") == "overdue") == (state == "overdue")


def test_a_statutory_service_needs_no_agreement(school):
    school.ok("provider", "add", "Department for Education")
    school.ok(
        "service", "add", "Census", "-c", "statutory", "-p", "Department for Education", "--data", "UPN"
    )
    assert by_service(ropa(school))["Census"]["agreement"].startswith("not applicable")


@pytest.mark.parametrize(
    ("data", "category", "subjects", "unclear"),
    [
        ('["full name", "UPN"]', "pupil", ("pupils",), False),
        ('["parent/contact names", "telephone numbers"]', "pupil", ("parents",), False),
        ('["full name", "contact details"]', "management", ("pupils", "parents"), False),
        ('["Staff names and email addresses"]', "management", ("staff",), False),
        ('["Names of children and their parents"]', "other", ("pupils", "parents"), False),
        ('["photos or notes synchronised using iCloud"]', "other", (), True),
        ('["photos or notes synchronised using iCloud"]', "pupil", ("pupils",), False),
        ("[]", "pupil", (), False),
    ],
)
def test_data_subjects_from_the_data_shared(data, category, subjects, unclear):
    facts = data_facts(data, category)
    assert (facts.subjects, facts.unclear) == (subjects, unclear)


def test_data_shared_as_none_is_none_and_unrecorded_is_missing(school):
    school.ok("service", "add", "Blank", "-c", "other", "-p", "Capita")
    school.ok("service", "add", "Nothing", "-c", "other", "-p", "Capita", "--data", "None")
    rows = by_service(ropa(school))
    assert (rows["Blank"]["data_categories"], rows["Blank"]["data_subjects"]) == (None, None)
    assert (rows["Nothing"]["data_categories"], rows["Nothing"]["data_subjects"]) == ([], [])
    table = school.ok("report", "ropa", "--as-of", AS_OF, "--format", "csv").stdout
    nothing = next(line for line in table.splitlines() if line.startswith("Nothing,"))
    assert ",none,none," in nothing


@pytest.mark.parametrize(
    ("location", "detail", "text"),
    [
        (None, None, None),
        ("UK", None, "none: stored in the UK"),
        ("EEA", "Ireland", "to the EEA under the UK's adequacy regulations: Ireland"),
        (
            "elsewhere",
            "USA, standard contractual clauses",
            "outside the UK and EEA: USA, standard contractual clauses",
        ),
        ("elsewhere", None, "outside the UK and EEA: safeguard MISSING"),
    ],
)
def test_transfers_from_the_storage_location(location, detail, text):
    assert transfer_text(location, detail) == text


# --- files ---------------------------------------------------------------------------------------------


def test_xlsx_is_a_private_spreadsheet_with_guarded_cells(school, tmp_path):
    from openpyxl import load_workbook

    school.ok("service", "edit", "My Maths", "--purpose", "=1+1")
    out = tmp_path / "ropa.xlsx"
    result = school.ok("report", "ropa", "--as-of", AS_OF, "--format", "xlsx", "--out", str(out))
    assert "Wrote the record of processing (2 services)" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    sheet = load_workbook(out).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "Service" and len(rows) == 3
    first = dict(zip(KEYS, rows[1], strict=True))
    assert first["purposes"] == "'=1+1"
    assert first["retention"] == "MISSING"
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value is not None)


def test_html_escapes_and_marks_missing(school, tmp_path):
    school.ok("service", "edit", "My Maths", "--purpose", "<script>alert(1)</script>")
    out = tmp_path / "ropa.html"
    school.ok("report", "ropa", "--as-of", AS_OF, "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<td class="missing">MISSING</td>' in page
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_json_and_csv_go_to_a_file_too(school, tmp_path):
    out = tmp_path / "ropa.json"
    school.ok("report", "ropa", "--as-of", AS_OF, "--format", "json", "--out", str(out))
    assert [row["service"] for row in json.loads(out.read_text())] == ["My Maths", "SIMS"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--format", "xlsx"), "A spreadsheet is written to a file: add --out FILE.xlsx."),
        (("--out", "ropa.txt"), "--out writes csv, json, xlsx or html"),
        (("--gaps", "--format", "html"), "--gaps is listed as a table, csv or json."),
        (("--fail-if-any",), "--fail-if-any goes with --gaps"),
        (("--as-of", "1999-01-01"), "out of range"),
    ],
)
def test_refusals(school, options, message):
    result = school.fails("report", "ropa", *options)
    assert message in result.stderr


def test_an_existing_file_is_not_replaced_without_force(school, tmp_path):
    out = tmp_path / "ropa.xlsx"
    out.write_text("keep me")
    result = school.fails("report", "ropa", "--format", "xlsx", "--out", str(out))
    assert "already exists" in result.stderr and out.read_text() == "keep me"
    school.ok("report", "ropa", "--format", "xlsx", "--out", str(out), "--force")
    assert out.read_bytes()[:2] == b"PK"


# --- gaps ----------------------------------------------------------------------------------------------


def gaps(cli) -> dict[str, list[str]]:
    return {row["service"]: row["gap_keys"] for row in ropa(cli, "--gaps")}


def test_gaps_are_most_serious_first(school):
    found = gaps(school)
    assert found["SIMS"][:2] == ["special-data-without-lawful-basis", "special-data-without-art9-condition"]
    assert found["SIMS"][-1] == "no-website"
    for keys in found.values():
        assert keys == sorted(keys, key=[key for key, _, _ in GAPS].index)
    # Services by their most serious gap: special-category data without a lawful basis first.
    assert [row["service"] for row in ropa(school, "--gaps")] == ["SIMS", "My Maths"]


def test_the_severity_order_is_the_documented_one():
    assert [key for key, _, _ in GAPS] == [
        "special-data-without-lawful-basis", "special-data-without-art9-condition",
        "transfer-without-safeguard", "no-lawful-basis", "no-agreement", "dpia-awaiting", "dpia-outdated",
        "dpia-overdue",
        "no-provider", "no-data-categories",
        "data-subjects-unclear", "no-storage-location", "no-retention", "no-security-measures", "no-purpose",
        "no-privacy-policy", "no-website",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "gone", "kept"),
    [
        (
            ("--lawful-basis", "Public task"),
            "special-data-without-lawful-basis",
            "special-data-without-art9-condition",
        ),
        (
            ("--special-category-condition", "9(2)(g)"),
            "special-data-without-art9-condition",
            "special-data-without-lawful-basis",
        ),
        (("--storage", "UK"), "no-storage-location", "no-retention"),
        (("--retention", "6 years"), "no-retention", "no-storage-location"),
        (("--controls", "Encrypted"), "no-security-measures", "no-purpose"),
        (("--purpose", "MIS"), "no-purpose", "no-security-measures"),
        (("--privacy-url", "https://capita.example/privacy"), "no-privacy-policy", "no-website"),
        (("--website", "https://capita.example"), "no-website", "no-privacy-policy"),
    ],
)
def test_each_gap_closes_when_its_field_is_filled(school, options, gone, kept):
    assert {gone, kept} <= set(gaps(school)["SIMS"])
    school.ok("service", "edit", "SIMS", *options)
    after = set(gaps(school)["SIMS"])
    assert gone not in after and kept in after


def test_agreement_dpia_and_transfer_gaps(school):
    school.ok("service", "edit", "My Maths", "--storage", "elsewhere")
    found = gaps(school)["My Maths"]
    assert found[:4] == ["transfer-without-safeguard", "no-lawful-basis", "no-agreement", "dpia-awaiting"]
    school.ok("service", "edit", "My Maths", "--storage-detail", "USA, IDTA")
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-01-01")
    school.ok("assess", "record", "My Maths", "--date", "2025-01-01", "--by", "DPO", "--outcome", "approved")
    found = gaps(school)["My Maths"]
    assert "transfer-without-safeguard" not in found and "no-agreement" not in found
    assert "dpia-overdue" in found and "dpia-awaiting" not in found


def test_a_complete_record_has_no_gaps_and_fail_if_any(school):
    school.ok("service", "retire", "SIMS")
    result = school.run("report", "ropa", "--gaps", "--fail-if-any")
    assert result.exit_code == 1 and "1 service(s) have gaps" in result.stderr
    school.ok(
        "service", "edit", "My Maths", "--lawful-basis", "Public task", "--storage", "UK",
        "--retention", "1 year",
        "--controls", "SSO", "--privacy-url", "https://www.mymaths.co.uk/privacy",
    )  # fmt: skip
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-01-01")
    school.ok("assess", "record", "My Maths", "--date", "2026-01-01", "--by", "DPO", "--outcome", "approved")
    assert ropa(school, "--gaps") == []
    result = school.ok("report", "ropa", "--gaps", "--fail-if-any", "--as-of", AS_OF)
    assert "lacks nothing" in result.stderr


def test_special_category_condition_refusals_write_nothing(school):
    result = school.fails("service", "edit", "SIMS", "--special-category-condition", "9(2)(g)\x07")
    assert "control character" in result.stderr


# --- the register document and the parents' section ----------------------------------------------------


def test_the_condition_is_published_and_read_back(school, tmp_path):
    school.ok("service", "edit", "SIMS", "--special-category-condition", "Art. 9(2)(g)")
    text = school.ok("register", "publish", "--format", "text").stdout
    assert "Special Category Condition: Art. 9(2)(g)" in text
    school.ok("service", "edit", "SIMS", "--special-category-condition", "")
    path = tmp_path / "register.txt"
    path.write_text(text, encoding="utf-8")
    school.ok("register", "import", str(path))
    assert by_service(ropa(school))["SIMS"]["special_category_condition"] == "Art. 9(2)(g)"


def test_the_parents_section_lists_pupil_services_with_privacy_links(school):
    school.ok("service", "edit", "My Maths", "--privacy-url", "https://www.mymaths.co.uk/privacy")
    school.ok("assess", "record", "My Maths", "--date", "March 2026", "--by", "DPO", "--outcome", "approved")
    page = school.ok("register", "publish", "--format", "html", "--parents-section").stdout
    section = page[page.index('id="for-parents"') :]
    assert '<a href="https://www.mymaths.co.uk/privacy">' in section
    assert "<td>March 2026</td>" in section
    assert "SIMS" not in section  # school management: not a service parents choose
    assert 'id="for-parents"' not in school.ok("register", "publish", "--format", "html").stdout


def test_the_parents_section_says_when_a_link_is_missing_and_refuses_other_formats(school):
    page = school.ok("register", "publish", "--format", "html", "--parents-section").stdout
    assert "Not yet recorded: ask the school office" in page
    assert "Awaiting Assessment" in page[page.index('id="for-parents"') :]
    result = school.fails("register", "publish", "--format", "markdown", "--parents-section")
    assert "add --format html" in result.stderr


def test_service_show_carries_the_condition(school):
    school.ok("service", "edit", "SIMS", "--special-category-condition", "Art. 9(2)(h)")
    assert school.json("service", "show", "SIMS")["special_category_condition"] == "Art. 9(2)(h)"


def test_a_widening_change_after_the_assessment_outdates_the_dpia(school):
    school.ok("assess", "record", "My Maths", "--date", "2026-01-10", "--by", "DPO", "--outcome", "approved")
    assert by_service(ropa(school))["My Maths"]["dpia_state"] == "current"
    school.ok("service", "edit", "My Maths", "--data", "full name, class, date of birth")
    assert by_service(school.json("report", "ropa"))["My Maths"]["dpia_state"] == "changed-since-assessed"
    outdated = {row["service"]: row["gap_keys"] for row in school.json("report", "ropa", "--gaps")}
    assert "dpia-outdated" in outdated["My Maths"]
    # A new assessment makes it current again, and a narrowing change does not outdate it.
    today = date.today().isoformat()
    school.ok("assess", "record", "My Maths", "--date", today, "--by", "DPO", "--outcome", "approved")
    school.ok("service", "edit", "My Maths", "--data", "full name")
    assert by_service(school.json("report", "ropa"))["My Maths"]["dpia_state"] == "current"


@given(
    special=st.booleans(),
    fields=st.fixed_dictionaries(
        {
            key: st.one_of(st.none(), st.just("x"))
            for key in ("provider", "purposes", "retention", "security_measures", "lawful_basis", "agreement")
        }
    ),
    transfers=st.sampled_from([None, "none: stored in the UK", "outside the UK and EEA: safeguard MISSING"]),
    dpia=st.sampled_from(["awaiting", "changed-since-assessed", "overdue", "current"]),
    website=st.one_of(st.none(), st.just("https://x.example")),
)
def test_gaps_are_always_in_the_order_of_seriousness(special, fields, transfers, dpia, website):
    from cloudctl.reports.ropa import GAP_RANK, RopaRow, data_facts, gaps_of

    facts = data_facts('["medical"]' if special else '["full name"]', "pupil")
    record = {
        **fields, "transfers": transfers, "dpia_state": dpia, "data_categories": list(facts.categories),
        "special_category_condition": None if special else "not applicable",
    }  # fmt: skip
    found = gaps_of(RopaRow(record, facts, website, None))
    assert found == sorted(set(found), key=GAP_RANK.__getitem__)
    # The most serious gap the record can have comes first whenever it is there.
    if special and not fields["lawful_basis"]:
        assert found[0] == "special-data-without-lawful-basis"
    assert found[-1] == ("no-website" if not website else "no-privacy-policy")


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(1, 120),
)
@example(date(2026, 1, 31), date(2026, 3, 1), 1)
@example(date(2026, 1, 31), date(2026, 2, 28), 1)
@example(date(2026, 2, 28), date(2026, 3, 31), 1)
@example(date(2026, 1, 30), date(2026, 2, 28), 1)
@example(date(2024, 2, 29), date(2025, 2, 28), 12)
@example(date(2024, 2, 29), date(2025, 3, 1), 12)
@example(date(2025, 8, 31), date(2025, 9, 30), 1)
def test_the_overdue_threshold_agrees_with_adding_months(assessed_on, as_of, months):
    """The record of processing compares ISO text with a threshold; the overdue report adds months."""
    from dateutil.relativedelta import relativedelta

    from cloudctl.reports.ropa import overdue_before

    overdue = assessed_on + relativedelta(months=months) < as_of
    assert (assessed_on.isoformat() < overdue_before(as_of, months)) == overdue


def test_out_dash_is_standard_output_and_a_spreadsheet_is_refused_there(school, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = school.fails("report", "ropa", "--as-of", AS_OF, "--format", "xlsx", "--out", "-")
    assert result.exit_code == 1
    assert "A spreadsheet is a binary file" in result.stderr and "--out FILE.xlsx" in result.stderr
    assert result.stdout == ""
    # csv, json and --gaps with --out - go to standard output: no file named "-" is ever written.
    rows = school.json("report", "ropa", "--as-of", AS_OF, "--out", "-")
    assert {row["service"] for row in rows} == {"My Maths", "SIMS"}
    assert "My Maths" in school.ok("report", "ropa", "--as-of", AS_OF, "--format", "csv", "--out", "-").stdout
    gaps = school.json("report", "ropa", "--as-of", AS_OF, "--gaps", "--out", "-")
    assert {row["service"] for row in gaps} == {"My Maths", "SIMS"}
    assert not (tmp_path / "-").exists()
