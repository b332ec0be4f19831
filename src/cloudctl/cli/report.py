"""`cloudctl report ...`: what the data protection lead and teachers need to know."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import (
    AsOfOption,
    FailIfAnyOption,
    ForceOption,
    FormatOption,
    database,
    parse_as_of,
    say,
)
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
    ("detail", "What changed / condition"),
]


@app.command("overdue-assessments")
def report_overdue_assessments(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    within: Annotated[
        int,
        typer.Option("--within", help="Also list reviews due within this many days (0 to 3660)."),
    ] = 30,
    fail_if_any: FailIfAnyOption = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Services whose risk assessment is overdue, due soon, outdated by a change to the service
    (changed-since-assessed), or was never done, and conditions past their due date; most overdue first."""
    from cloudctl.reports.overdue import OVERDUE_KEYS, overdue_assessments

    when = parse_as_of(as_of)
    with database(ctx).read() as session:
        rows = overdue_assessments(session, as_of=when, within_days=within)
    render(
        rows,
        fmt,
        columns=OVERDUE_COLUMNS,
        title=f"Risk assessments overdue or due by {when.isoformat()} (+{within} days)",
        empty=f"No risk assessment is overdue or due within {within} days of {when.isoformat()}.",
        all_keys=OVERDUE_KEYS,
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


CONTRACT_COLUMNS = [
    ("service", "Service"),
    ("category", "Category"),
    ("state", "State"),
    ("date", "Date"),
    ("days_left", "Days left"),
    ("dpa_signed_on", "Agreement signed"),
    ("action", "What to do"),
]


@app.command("contracts")
def report_contracts(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    within: Annotated[
        int,
        typer.Option("--within", help="Also list contracts ending, or notice due, within this many days."),
    ] = 90,
    fail_if_any: FailIfAnyOption = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Data-processing agreements missing for services that receive pupils' data, contracts ended, and
    contracts ending or needing notice within --within days; most urgent first."""
    from cloudctl.reports.contracts import CONTRACT_REPORT_KEYS, contracts_report

    when = parse_as_of(as_of)
    with database(ctx).read() as session:
        rows = contracts_report(session, as_of=when, within_days=within)
    render(
        rows,
        fmt,
        columns=CONTRACT_COLUMNS,
        title=f"Agreements and contracts to act on, as of {when.isoformat()} (+{within} days)",
        empty=(
            f"Every service that receives pupils' data has an agreement, and no contract ends or needs "
            f"notice within {within} days of {when.isoformat()}."
        ),
        all_keys=CONTRACT_REPORT_KEYS,
    )
    if fail_if_any and rows:
        say(f"{len(rows)} agreement(s) or contract(s) need attention.")
        raise typer.Exit(1)


class RopaFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"
    html = "html"


# The table is an overview for a terminal; csv, json, xlsx and html carry every column.
ROPA_TABLE_COLUMNS = [
    ("service", "Service"),
    ("category", "Category"),
    ("data_categories", "Data"),
    ("transfers", "Transfers"),
    ("lawful_basis", "Lawful basis"),
    ("special_category_condition", "Art. 9 condition"),
    ("dpia_state", "DPIA"),
    ("agreement", "Agreement"),
]
GAPS_COLUMNS = [
    ("service", "Service"),
    ("category", "Category"),
    ("gap_count", "Gaps"),
    ("gaps", "What the record lacks (most serious first)"),
]


@app.command("ropa")
def report_ropa(
    ctx: typer.Context,
    fmt: Annotated[
        RopaFormat,
        typer.Option(
            "--format", "-f", help="table, csv, json, xlsx (needs --out) or html.", case_sensitive=False
        ),
    ] = RopaFormat.table,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (csv, json, xlsx or html).")
    ] = None,
    force: ForceOption = False,
    gaps: Annotated[
        bool, typer.Option("--gaps", help="Instead: per service, what the record still lacks.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The date the DPIA states are judged by (default today)."),
    ] = None,
    fail_if_any: Annotated[
        bool, typer.Option("--fail-if-any", help="With --gaps: exit with status 1 when any gap is listed.")
    ] = False,
):
    """The record of processing (UK GDPR Art. 30(1)): one row per service not retired. MISSING marks what
    the register does not hold (null in JSON)."""
    from cloudctl.errors import InvalidInput

    if out is not None and fmt == RopaFormat.table:
        raise InvalidInput("--out writes csv, json, xlsx or html: add --format csv (or json, xlsx, html).")
    if out is not None and str(out) == "-":
        # "-" is standard output, as for export enrolment, never a file named "-".
        if fmt == RopaFormat.xlsx:
            raise InvalidInput(
                "A spreadsheet is a binary file, not text for standard output: give a file name, "
                "--out FILE.xlsx (or --format csv, json or html for standard output)."
            )
        out = None
    if fmt == RopaFormat.xlsx and out is None:
        raise InvalidInput("A spreadsheet is written to a file: add --out FILE.xlsx.")
    if gaps and fmt in (RopaFormat.xlsx, RopaFormat.html):
        raise InvalidInput("--gaps is listed as a table, csv or json.")
    if fail_if_any and not gaps:
        raise InvalidInput("--fail-if-any goes with --gaps (the record itself always has rows).")
    when = parse_as_of(as_of)
    if gaps:
        _ropa_gaps(ctx, when, fmt, out, force, fail_if_any)
        return
    from cloudctl.domain.settings import get_settings
    from cloudctl.reports.ropa import ROPA_KEYS, ropa, shown_record

    with database(ctx).read() as session:
        rows = ropa(session, as_of=when)
        school = get_settings(session).school_name
    title = "Record of processing activities"
    if fmt in (RopaFormat.table, RopaFormat.csv) and out is None:
        render(
            [shown_record(row) for row in rows],
            OutputFormat(fmt.value),
            columns=ROPA_TABLE_COLUMNS,
            title=(
                f"{title} as of {when.isoformat()} (MISSING: not in the register; every column: "
                "--format xlsx, html or csv)"
            ),
            empty="The register has no services in use.",
            all_keys=ROPA_KEYS,
        )
        return
    from cloudctl.exporters.ropa_files import ropa_csv, ropa_html, ropa_xlsx

    if fmt == RopaFormat.json:
        import json

        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    elif fmt == RopaFormat.csv:
        text = ropa_csv([shown_record(row) for row in rows], ROPA_KEYS)
    elif fmt == RopaFormat.html:
        text = ropa_html(
            [shown_record(row) for row in rows], ROPA_KEYS, title=title, school=school, as_of=when.isoformat()
        )
    else:
        from cloudctl.files import write_private_bytes

        assert out is not None
        data = ropa_xlsx([shown_record(row) for row in rows], ROPA_KEYS, title=title)
        write_private_bytes(out, data, force=force, what="record of processing")
        say(f"Wrote the record of processing ({len(rows)} services) to {out}.")
        return
    if out is None:
        typer.echo(text, nl=False)
        return
    from cloudctl.files import write_private_text

    write_private_text(out, text, force=force, what="record of processing")
    say(f"Wrote the record of processing ({len(rows)} services) to {out}.")


def _ropa_gaps(ctx: typer.Context, when, fmt: RopaFormat, out: Path | None, force: bool, fail: bool) -> None:
    from cloudctl.reports.ropa import GAPS_KEYS, ropa_gaps

    with database(ctx).read() as session:
        rows = ropa_gaps(session, as_of=when)
    empty = "The record of processing lacks nothing the register can hold."
    if out is None:
        render(
            rows,
            OutputFormat(fmt.value),
            columns=GAPS_COLUMNS,
            title="What the record of processing lacks, most serious first",
            empty=empty,
            all_keys=GAPS_KEYS,
        )
    else:
        import json

        from cloudctl.exporters.ropa_files import ropa_csv
        from cloudctl.files import write_private_text

        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n" if fmt == RopaFormat.json else ""
        write_private_text(out, text or ropa_csv(rows, GAPS_KEYS), force=force, what="record of processing")
        say(f"Wrote the gaps of {len(rows)} services to {out}.")
    if fail and rows:
        say(f"{len(rows)} service(s) have gaps in the record of processing.")
        raise typer.Exit(1)


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
