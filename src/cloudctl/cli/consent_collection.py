"""`cloudctl consent missing` and `cloudctl consent renewals`: chasing forms and the next round of them.

Registered on the `consent` noun's app (cli/consent.py imports this module at its end).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.consent import app
from cloudctl.cli.context import FormatOption, database, parse_as_of, say
from cloudctl.cli.render import OutputFormat, render

MISSING_COLUMNS = [
    ("class_name", "Class"),
    ("upn", "UPN"),
    ("forename", "Forename"),
    ("surname", "Surname"),
    ("service", "Service"),
    ("status", "Consent"),
    ("last_form_issued", "Last form issued"),
]
RENEWAL_COLUMNS = [
    ("lapses_on", "Lapses on"),
    ("class_name", "Class"),
    ("upn", "UPN"),
    ("forename", "Forename"),
    ("surname", "Surname"),
    ("service", "Service"),
    ("given_on", "Given on"),
    ("given_by", "Given by"),
    ("status", "Consent now"),
]


@app.command("missing")
def consent_missing(
    ctx: typer.Context,
    class_name: Annotated[str | None, typer.Option("--class", help="Only this class.")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    fail_if_any: Annotated[
        bool, typer.Option("--fail-if-any", help="Exit with status 1 when anything is listed.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Pupils on roll with no current answer (no response, or consent that needs renewal) for a service
    they may be enrolled in, with the day their last consent form was issued."""
    from cloudctl.domain.consent_missing import missing_answers

    with database(ctx).read() as session:
        rows = missing_answers(session, class_name=class_name, service_name=service)
    render(
        rows,
        fmt,
        columns=MISSING_COLUMNS,
        title="Consent forms to chase",
        empty="Every pupil on roll has a current answer for every service they may be enrolled in.",
        all_keys=[*dict(MISSING_COLUMNS), "year_group"],
    )
    if rows:
        pupils = len({row["upn"] for row in rows})
        say(
            f"{pupils} pupil(s) with {len(rows)} answer(s) missing. Print forms for just them with: "
            "cloudctl consent form --missing-only --class CLASS --out FILE"
        )
    if fail_if_any and rows:
        raise typer.Exit(1)


@app.command("renewals")
def consent_renewals(
    ctx: typer.Context,
    within: Annotated[
        int,
        typer.Option("--within", help="List consent lapsing within this many days (0 to 3660; default 30)."),
    ] = 30,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Count from this date (default today; from 2000 to ten years ahead)."),
    ] = None,
    class_name: Annotated[str | None, typer.Option("--class", help="Only this class.")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Opt-ins that have lapsed, or lapse within --within days, under the school's --consent-months: the
    pupils and services for the next round of forms. Soonest first."""
    from cloudctl.domain.consent import consent_lifetime
    from cloudctl.domain.renewal import consent_renewals as renewals

    when = parse_as_of(as_of)
    with database(ctx).read() as session:
        lifetime = consent_lifetime(session, when)
        rows = renewals(session, within=within, class_name=class_name, service_name=service, today=when)
    if lifetime.unlimited:
        say(
            "Consent at this school lasts until it is withdrawn, so none lapses. Set how long it lasts with: "
            "cloudctl init --consent-months 24"
        )
    render(
        rows,
        fmt,
        columns=RENEWAL_COLUMNS,
        title=f"Consent lapsing by {when.isoformat()} (+{within} days)",
        empty=f"No consent lapses within {within} days of {when.isoformat()}.",
        all_keys=[*dict(RENEWAL_COLUMNS)],
    )
