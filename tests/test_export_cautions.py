"""An export that sends pupils to a service changed since its risk assessment, or whose agreement is with
the provider it moved from, says so (the export itself is allowed: the service is still approved)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.helpers.pupils import add_pupils

SERVICE = "My Maths"
PUPILS = [{"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"}]


def _school(cli):
    (upn,) = add_pupils(cli.url, PUPILS)
    cli.ok(
        "consent",
        "optin",
        upn,
        SERVICE,
        "--by",
        "J A",
        "--date",
        (date.today() - timedelta(days=2)).isoformat(),
    )
    return upn


def test_an_export_after_a_move_to_another_provider_cautions_of_the_assessment_and_the_agreement(hunwick_cli):
    cli = hunwick_cli
    _school(cli)
    cli.ok("service", "contract", SERVICE, "--dpa-signed", "2025-01-10", "--dpa-reference", "OUP-1")
    first = cli.ok("export", "enrolment", SERVICE, "--dry-run")
    assert "Caution" not in first.stderr
    cli.ok("provider", "add", "Newco")
    cli.ok("service", "edit", SERVICE, "--provider", "Newco")
    result = cli.ok("export", "enrolment", SERVICE, "--dry-run")
    assert "has changed since its latest risk assessment" in result.stderr
    assert "provider changed: Oxford University Press -> Newco" in result.stderr
    assert "agreement on record for 'My Maths' is with Oxford University Press" in result.stderr
    assert "Amelia" not in result.stderr and "Ashworth" not in result.stderr
    # Reassessed and a new agreement recorded: nothing to caution.
    cli.ok(
        "assess",
        "record",
        SERVICE,
        "--date",
        date.today().isoformat(),
        "--by",
        "DPO",
        "--outcome",
        "approved",
    )
    cli.ok(
        "service", "contract", SERVICE, "--dpa-signed", date.today().isoformat(), "--dpa-reference", "NEW-1"
    )
    assert "Caution" not in cli.ok("export", "enrolment", SERVICE, "--dry-run").stderr


def test_a_changes_file_of_removals_alone_carries_no_caution(hunwick_cli):
    cli = hunwick_cli
    upn = _school(cli)
    cli.ok("export", "enrolment", SERVICE)
    cli.ok("consent", "optout", upn, SERVICE, "--by", "J A")
    cli.ok("service", "edit", SERVICE, "--data", "full name, class, date of birth")
    result = cli.ok("export", "enrolment", SERVICE, "--changes", "--dry-run")
    assert "remove" in result.stdout and "Caution" not in result.stderr
