"""`cloudctl assess ...`: risk assessments (DPIAs) and their reviews."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.context import CategoryOption, FormatOption, database, parse_date_option, say
from cloudctl.cli.render import OutputFormat, render

app = typer.Typer(no_args_is_help=True)

ServiceArgument = Annotated[str, typer.Argument(help="The service's name as in the register.")]


@app.command("record")
def assess_record(
    ctx: typer.Context,
    service: ServiceArgument,
    when: Annotated[
        str, typer.Option("--date", help="When it was assessed: 2026-11-01, 01/11/2026 or Nov 2026.")
    ],
    by: Annotated[str, typer.Option("--by", help="Who carried out the assessment.")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="approved, approved-with-conditions or rejected.")
    ],
    next_review: Annotated[
        str | None, typer.Option("--next-review", help="When to review it (else the date plus the interval).")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Conditions, findings, actions.")] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The DPIA document's reference.")
    ] = None,
    category: CategoryOption = None,
):
    """Record a risk assessment. Assessments are history: a new one never overwrites an old one, and the
    identical one (same service, date, outcome and assessor) is recorded once."""
    from cloudctl.domain.assessments import latest_assessments, record_assessment, review_due
    from cloudctl.domain.settings import get_settings
    from cloudctl.vocab.text import for_terminal

    assessed_on = parse_date_option(when, "assessment date")
    review = parse_date_option(next_review, "next review date")
    with database(ctx).write() as session:
        result = record_assessment(
            session,
            service,
            assessed_on=assessed_on,
            assessed_by=by,
            outcome=outcome,
            next_review=review,
            notes=notes,
            reference=reference,
            category=category,
        )
        record = result.service
        due = review_due(record, latest_assessments(session).get(record.id), get_settings(session))
    say(for_terminal(f"{result.message} Next review due {due.isoformat()}."))


@app.command("history")
def assess_history(
    ctx: typer.Context,
    service: ServiceArgument,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Every assessment of a service, oldest first."""
    from cloudctl.domain.assessments import HISTORY_KEYS, assessment_history

    with database(ctx).read() as session:
        record, rows = assessment_history(session, service, category)
    render(
        rows,
        fmt,
        columns=[
            ("assessed_on", "Assessed"),
            ("assessed_by", "By"),
            ("outcome", "Outcome"),
            ("next_review", "Review due"),
            ("reference", "Reference"),
            ("notes", "Notes"),
        ],
        title=f"Assessments of {record.name} ({record.category})",
        empty=f"'{record.name}' has never been assessed.",
        all_keys=HISTORY_KEYS,
    )
