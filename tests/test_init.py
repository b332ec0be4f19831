"""`cloudctl init`: the school's name, its year groups and how often assessments are reviewed."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import HUNWICK


def settings_row(url: str) -> tuple:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(
                connection.execute(
                    text("SELECT school_name, year_groups, review_months FROM school_settings WHERE id = 1")
                ).one()
            )
    finally:
        engine.dispose()


def test_init_sets_the_school_up_with_the_defaults(cli):
    result = cli.ok("init", "--school", "Hunwick Primary School")
    assert settings_row(cli.url) == ("Hunwick Primary School", "R,1,2,3,4,5,6", 12)
    assert "Hunwick Primary School" in result.stdout
    assert "R-6" in result.stdout
    assert "The database is" in result.stderr


def test_init_without_options_keeps_the_defaults(cli):
    cli.ok("init")
    assert settings_row(cli.url) == ("", "R,1,2,3,4,5,6", 12)


def test_init_takes_years_and_review_months(cli):
    cli.ok(
        "init",
        "--school",
        "Low Fell Nursery and Infants",
        "--years",
        "N1, N2, R, 1-2",
        "--review-months",
        "24",
    )
    assert settings_row(cli.url) == ("Low Fell Nursery and Infants", "N1,N2,R,1,2", 24)


def test_running_init_again_updates_settings_and_keeps_every_other_row(hunwick_cli):
    hunwick_cli.ok(
        "assess", "record", "My Maths", "--date", "2025-06-01", "--by", "J Bloggs", "--outcome", "approved"
    )
    before = hunwick_cli.snapshot()

    hunwick_cli.ok("init", "--school", "Hunwick C of E Primary", "--review-months", "6")

    after = hunwick_cli.snapshot()
    assert settings_row(hunwick_cli.url) == ("Hunwick C of E Primary", "R,1,2,3,4,5,6", 6)
    for table in ("provider", "service", "risk_assessment", "register_section"):
        assert after[table] == before[table], f"init changed the {table} table"
    # The school's interval now sets each review date.
    (my_maths,) = [row for row in hunwick_cli.json("service", "list") if row["name"] == "My Maths"]
    assert my_maths["review_due"] == "2025-12-01"


def test_init_keeps_settings_it_is_not_given(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6", "--review-months", "18")
    cli.ok("init", "--review-months", "12")
    assert settings_row(cli.url) == ("Hunwick Primary School", "R,1,2,3,4,5,6", 12)


def test_changing_the_years_changes_what_all_means(cli):
    cli.ok("init", "--years", "R,1-6")
    cli.ok("register", "import", str(HUNWICK))
    cli.ok("init", "--years", "N2,R,1-6")

    services = {(row["name"], row["category"]): row for row in cli.json("service", "list")}
    assert services["My Maths", "pupil"]["year_groups"] == ["N2", "R", "1", "2", "3", "4", "5", "6"]
    assert services["My Maths", "pupil"]["year_groups_text"] == "All"
    # A service for named years is not touched.
    assert services["Accelerated Reader", "pupil"]["year_groups"] == ["2", "3", "4", "5", "6"]


def test_a_second_init_does_not_forget_the_imported_school_name(cli):
    cli.ok("register", "import", str(HUNWICK))
    assert settings_row(cli.url)[0] == "Hunwick Primary School"
    cli.ok("init", "--years", "R,1-6")
    assert settings_row(cli.url)[0] == "Hunwick Primary School"


def test_init_refuses_a_blank_school_name(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    result = cli.fails("init", "--school", "   ")
    assert "--school" in result.stderr


def test_init_refuses_years_it_cannot_read(cli):
    cli.ok("init")
    result = cli.fails("init", "--years", "R,1-6,Q")
    assert '"Q"' in result.stderr
    assert "Year 3" in result.stderr  # says what is accepted


def test_init_refuses_a_backwards_range(cli):
    cli.ok("init")
    result = cli.fails("init", "--years", "6-R")
    assert "6-R" in result.stderr


def test_init_refuses_an_impossible_review_interval(cli):
    cli.ok("init")
    for months in ("0", "121", "-3"):
        result = cli.fails("init", "--review-months", months)
        assert months in result.stderr
        assert "1 to 120" in result.stderr


def test_init_refuses_a_review_interval_that_is_not_a_number(cli):
    cli.ok("init")
    result = cli.run("init", "--review-months", "twelve")
    assert result.exit_code == 2  # a usage error, reported by Typer
    assert "--review-months" in result.stderr


@pytest.mark.parametrize("option", ["--school", "--years"])
def test_init_refuses_control_characters_and_names_the_option(cli, option):
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    result = cli.fails("init", option, "Hun\x1b[2Jwick")
    assert option in result.stderr
    assert "\x1b" not in result.stderr


# Narrowing the school's years: stored services not retired must still name only years it teaches, as
# `service add/edit` and `register import` require; the refusal names them and how to mend it.


@pytest.fixture
def infants_and_juniors(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    cli.ok("provider", "add", "Oxford University Press")
    for name, years in (
        ("My Maths", "Y2 - Y6"),
        ("Phonics Play", "R - Y2"),
        ("Times Tables Rock Stars", "Y5 - Y6"),
        ("Reading Eggs", "All"),
        ("Lexia", "Selected Students"),
        ("Purple Mash", "KS2"),
    ):
        cli.ok("service", "add", name, "-c", "pupil", "-p", "Oxford University Press", "--years", years)
    return cli


def test_narrowing_the_years_is_refused_while_services_enrol_years_no_longer_taught(infants_and_juniors):
    cli = infants_and_juniors
    result = cli.fails("init", "--years", "R,1-4")  # exit 1, a message, the database unchanged
    message = " ".join(result.stderr.split())
    assert "The school's years were not changed to R-4: 2 services not retired enrol years" in message
    assert '"My Maths" (Y2 - Y6), "Times Tables Rock Stars" (Y5 - Y6).' in message
    # "All", selected pupils and a key stage the school still teaches part of are not in the way.
    for name in ("Phonics Play", "Reading Eggs", "Lexia", "Purple Mash"):
        assert name not in message
    assert 'cloudctl service edit "My Maths" --category pupil --years "2-4"' in message
    assert "cloudctl service retire" in message
    assert settings_row(cli.url)[1] == "R,1,2,3,4,5,6"


def test_once_the_services_are_mended_the_years_can_be_narrowed(infants_and_juniors):
    cli = infants_and_juniors
    cli.ok("service", "edit", "My Maths", "--years", "2-4")
    cli.fails("init", "--years", "R,1-4")  # Times Tables Rock Stars is still in the way
    cli.ok("service", "retire", "Times Tables Rock Stars")  # a retired service keeps its years
    cli.ok("init", "--years", "R,1-4")
    assert settings_row(cli.url)[1] == "R,1,2,3,4"
    services = {row["name"]: row for row in cli.json("service", "list")}
    assert services["Reading Eggs"]["year_groups"] == ["R", "1", "2", "3", "4"]  # "All" follows the years


def test_the_refusal_names_the_first_few_services_and_counts_the_rest(cli):
    cli.ok("init", "--years", "R,1-6")
    cli.ok("provider", "add", "Oxford University Press")
    for index in range(7):
        cli.ok(
            "service",
            "add",
            f"Service {index}",
            "-c",
            "pupil",
            "-p",
            "Oxford University Press",
            "--years",
            "Y6",
        )
    result = cli.fails("init", "--years", "R-5")
    message = " ".join(result.stderr.split())
    assert "7 services not retired enrol years it would no longer teach" in message
    assert '"Service 4" (Y6) and 2 more.' in message
    assert '"Service 5"' not in message
    assert '--years "R-5"' in message  # nothing of Y6 is left: the example gives the school's years


def test_widening_or_keeping_the_years_is_never_refused(infants_and_juniors):
    cli = infants_and_juniors
    cli.ok("init", "--years", "N2,R,1-6")
    cli.ok("init", "--years", "R,1-6")
    cli.ok("init", "--years", "R-6", "--review-months", "6")
