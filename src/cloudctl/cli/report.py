"""`cloudctl report ...`: what the data protection lead and teachers need to know."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.context import FormatOption, database, parse_as_of, say
from cloudctl.cli.render import OutputFormat, render

app = typer.Typer(no_args_is_help=True)

OVERDUE_COLUMNS = [
    ("service", "Service"),
    ("category", "Category"),
    ("provider", "Provider"),
    ("last_assessed", "Last assessed"),
    ("review_due", "Review due"),
    ("days_overdue", "Days overdue"),
    ("state", "State"),
]


@app.command("overdue-assessments")
def report_overdue_assessments(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The date to judge by (default today; from 2000 to ten years ahead)."),
    ] = None,
    within: Annotated[
        int,
        typer.Option("--within", help="Also list reviews due within this many days (0 to 3660)."),
    ] = 30,
    fail_if_any: Annotated[
        bool,
        typer.Option(
            "--fail-if-any", help="Exit with status 1 when anything is listed (for scheduled jobs)."
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Services whose risk assessment is overdue, due soon, or was never done; most overdue first."""
    from cloudctl.reports.overdue import overdue_assessments

    when = parse_as_of(as_of)
    with database(ctx).read() as session:
        rows = overdue_assessments(session, as_of=when, within_days=within)
    render(
        rows,
        fmt,
        columns=OVERDUE_COLUMNS,
        title=f"Risk assessments overdue or due by {when.isoformat()} (+{within} days)",
        empty=f"No risk assessment is overdue or due within {within} days of {when.isoformat()}.",
        all_keys=[key for key, _ in OVERDUE_COLUMNS] + ["status"],
    )
    if fail_if_any and rows:
        say(f"{len(rows)} service(s) need a risk assessment.")
        raise typer.Exit(1)


@app.command("data-map")
def report_data_map(ctx: typer.Context, fmt: FormatOption = OutputFormat.table):
    """For each category of pupil data, the services and providers that receive it (Article 30)."""
    from cloudctl.reports.data_map import DATA_MAP_KEYS, data_map

    with database(ctx).read() as session:
        rows = data_map(session)
    for row in rows:
        row["marking"] = (
            "special category" if row["special_category"] else "sensitive" if row["sensitive"] else ""
        )
    render(
        rows,
        fmt,
        columns=[
            ("data_category", "Data"),
            ("marking", "Marked"),
            ("services", "Services"),
            ("providers", "Providers"),
        ],
        title="Data map: who receives each kind of pupil data",
        empty="No service in the register shares any data yet.",
        all_keys=[*DATA_MAP_KEYS, "marking"],
    )


CONSENT_MARKS = {
    "opted-in": "yes",
    "opted-out": "OUT",
    "no-response": "-",
    "needs-renewal": "RENEW",
    "not-eligible": "",
}


@app.command("consent")
def report_consent(
    ctx: typer.Context,
    class_name: Annotated[str | None, typer.Option("--class", help="Only this class.")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    summary: Annotated[bool, typer.Option("--summary", help="Only the totals per service.")] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Pupils by service (opted in, opted out, no response, needs renewal, not eligible), with totals."""
    from cloudctl.reports.consent import consent_matrix

    with database(ctx).read() as session:
        matrix = consent_matrix(session, class_name=class_name, service_name=service)
    totals_columns = [
        ("service", "Service"),
        ("opted_in", "Opted in"),
        ("opted_out", "Opted out"),
        ("no_response", "No response"),
        ("needs_renewal", "Needs renewal"),
        ("not_eligible", "Not eligible"),
    ]
    if summary:
        render(matrix.totals, fmt, columns=totals_columns, title="Consent totals per service")
        return
    if fmt == OutputFormat.json:
        render(matrix.rows, fmt)
        return
    pupil_columns = [
        ("upn", "UPN"),
        ("surname", "Surname"),
        ("forename", "Forename"),
        ("class_name", "Class"),
    ]
    if fmt == OutputFormat.csv:
        flat = [{**{k: row[k] for k, _ in pupil_columns}, **row["consent"]} for row in matrix.rows]
        render(flat, fmt, all_keys=[key for key, _ in pupil_columns] + matrix.services)
        return
    # People read the table: names, not UPNs, and service numbers when the names would not fit.
    people = pupil_columns[1:]
    headings = _service_headings(
        matrix.services, sum(len(row["surname"]) + 12 for row in matrix.rows[:1]) + 30
    )
    flat = [
        {**{k: row[k] for k, _ in people}, **{s: CONSENT_MARKS[v] for s, v in row["consent"].items()}}
        for row in matrix.rows
    ]
    legend = "yes = opted in, OUT = opted out, - = no response, RENEW = needs renewal, blank = not eligible"
    if headings != matrix.services:
        legend += "; " + ", ".join(
            f"{short} = {name}" for short, name in zip(headings, matrix.services, strict=True)
        )
    render(
        flat,
        fmt,
        columns=people + list(zip(matrix.services, headings, strict=True)),
        title=f"Consent by pupil and service ({legend})",
        empty="No pupils on roll match.",
    )
    render(matrix.totals, fmt, columns=totals_columns, title="Totals per service")


def _service_headings(services: list[str], pupil_width: int) -> list[str]:
    """The services' names as headings, or S1, S2, ... (explained in the title) when they would not fit."""
    from cloudctl.cli.render import console_width

    # A heading needs room for its longest word, plus the column's padding and border.
    needed = pupil_width + sum(max(len(word) for word in name.split()) + 3 for name in services)
    if needed <= console_width():
        return services
    return [f"S{number}" for number in range(1, len(services) + 1)]


@app.command("offline-alternatives")
def report_offline_alternatives(
    ctx: typer.Context,
    class_name: Annotated[str | None, typer.Option("--class", help="Only this class.")] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """For each service and class, the eligible pupils without a current opt-in: they need the offline
    alternative."""
    from cloudctl.reports.consent import offline_alternatives

    with database(ctx).read() as session:
        rows = offline_alternatives(session, class_name=class_name)
    render(
        rows,
        fmt,
        columns=[
            ("service", "Service"),
            ("class_name", "Class"),
            ("surname", "Surname"),
            ("forename", "Forename"),
            ("upn", "UPN"),
            ("status", "Consent"),
        ],
        title="Pupils who need the offline alternative",
        empty="Every eligible pupil is opted in: nobody needs an offline alternative.",
    )


PROVIDER_COLUMNS = [
    ("service", "Service"),
    ("provider", "Provider"),
    ("held", "Held (ledger)"),
    ("should_hold", "Should hold (consent now)"),
    ("held_not_allowed", "Held, not allowed"),
    ("allowed_not_held", "Allowed, not sent"),
    ("deletions_due", "Deletions due"),
    ("deletions_requested", "Requested"),
    ("deletions_overdue", "Overdue"),
    ("last_export", "Last export"),
]


@app.command("providers")
def report_providers(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The date to judge deletions by (default today)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Per service: pupils the provider holds (ledger) and should hold (consent now), deletions due and
    overdue, and the last export."""
    from cloudctl.reports.providers import PROVIDER_KEYS, providers_report

    when = parse_as_of(as_of)
    with database(ctx).read() as session:
        rows = providers_report(session, as_of=when)
    render(
        rows,
        fmt,
        columns=PROVIDER_COLUMNS,
        title=f"What providers hold, and deletions outstanding, as of {when.isoformat()}",
        empty="No export has been recorded and no deletion is outstanding.",
        all_keys=list(PROVIDER_KEYS),
    )
