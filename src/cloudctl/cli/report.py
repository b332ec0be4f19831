"""`cloudctl report ...`: what the data protection lead and teachers need to know."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cloudctl.cli.context import FormatOption, database, parse_date_option, say
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
        str | None, typer.Option("--as-of", help="The date to judge by (default today).")
    ] = None,
    within: Annotated[
        int, typer.Option("--within", help="Also list reviews due within this many days.")
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

    when = parse_date_option(as_of, "as-of date") or date.today()
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
    from cloudctl.reports.data_map import data_map

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
    )
