"""`cloudctl init` and `cloudctl demo`: setting a school up, and showing what cloudctl does."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.context import database, say
from cloudctl.cli.render import OutputFormat, render_record


def init(
    ctx: typer.Context,
    school: Annotated[str | None, typer.Option("--school", help="The school's name.")] = None,
    years: Annotated[
        str | None,
        typer.Option("--years", help='The year groups the school teaches, e.g. "R,1-6" (the default).'),
    ] = None,
    review_months: Annotated[
        int | None,
        typer.Option("--review-months", help="Months between risk assessment reviews (default 12)."),
    ] = None,
    consent_months: Annotated[
        int | None,
        typer.Option(
            "--consent-months",
            help="Months a parent's consent lasts before it needs renewal, e.g. 24 (0: until withdrawn, "
            "the default).",
        ),
    ] = None,
    reply_code_days: Annotated[
        int | None,
        typer.Option(
            "--reply-code-days",
            help="Days a consent form's reply code is accepted after the form is printed (default 90).",
        ),
    ] = None,
    sign_off_role: Annotated[
        str | None,
        typer.Option(
            "--sign-off-role",
            help="Who signs off a high-risk approval: DPO (the default), headteacher or governor.",
        ),
    ] = None,
    deletion_deadline_days: Annotated[
        int | None,
        typer.Option(
            "--deletion-deadline-days",
            help="Days a provider has to confirm a deletion before it is overdue (default 30).",
        ),
    ] = None,
):
    """Set up the school (or change its settings). Every other record is kept."""
    from cloudctl.domain.settings import init_school, settings_record

    db = database(ctx)
    with db.write() as session:
        settings = init_school(
            session,
            school_name=school,
            years=years,
            review_months=review_months,
            consent_months=consent_months,
            reply_code_days=reply_code_days,
            sign_off_role=sign_off_role,
            deletion_deadline_days=deletion_deadline_days,
        )
        record = settings_record(settings)
    say(f"The database is {db.location.describe()}.")
    if sign_off_role is not None:
        say(
            "Sign-offs already recorded keep their standing: each counts if it was given by the role the "
            "school required at the time (see cloudctl assess history SERVICE)."
        )
    render_record(record, OutputFormat.table, title="School settings")


def demo(
    ctx: typer.Context,
    db_path: Annotated[
        str | None,
        typer.Option(
            "--db", help="Keep the demo database in this NEW file (else a temporary one).", metavar="PATH"
        ),
    ] = None,
):
    """Import the bundled Hunwick Primary School register, a fictional class and consent; show the reports.

    The demo never uses your own database: it writes to a temporary one, or to a new file named
    with --db (a file that exists already is refused). CLOUDCTL_DB and CLOUDCTL_DATABASE_URL are
    not used.
    """
    from cloudctl.cli.report import report_consent, report_data_map, report_overdue_assessments
    from cloudctl.demo import DEMO_CLASS, new_demo_database, run_demo

    root = ctx.find_root()
    chosen = db_path if db_path is not None else root.params.get("db")
    root.params["db"] = str(new_demo_database(chosen))
    db = database(ctx)
    for line in run_demo(db):
        say(line)
    say(f"The demo database is {db.location.describe()}: try cloudctl --db {root.params['db']} service list")
    ctx.invoke(
        report_overdue_assessments, ctx=ctx, as_of=None, within=30, fail_if_any=False, fmt=OutputFormat.table
    )
    ctx.invoke(report_data_map, ctx=ctx, fmt=OutputFormat.table)
    ctx.invoke(
        report_consent, ctx=ctx, class_name=DEMO_CLASS, service=None, summary=False, fmt=OutputFormat.table
    )


def register_commands(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)
