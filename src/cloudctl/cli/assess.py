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
    residual_risk: Annotated[
        str | None,
        typer.Option("--residual-risk", help="The risk left after the measures: low, medium or high."),
    ] = None,
    conditions: Annotated[
        str | None,
        typer.Option("--conditions", help='What must be done, e.g. "turn off parent messaging".'),
    ] = None,
    conditions_due: Annotated[
        str | None, typer.Option("--conditions-due", help="When the conditions must be met by.")
    ] = None,
    category: CategoryOption = None,
):
    """Record a risk assessment. Assessments are history: a new one never overwrites an old one, and the
    identical one (same service, date, outcome and assessor) is recorded once. An approval whose residual
    risk is high is recorded as pending sign-off: the service is not approved until the school's sign-off
    role (DPO unless set with cloudctl init --sign-off-role) signs it off with assess sign-off."""
    from cloudctl.domain.assessments import latest_assessments, record_assessment, review_due
    from cloudctl.domain.service_changes import describe, outdating_changes
    from cloudctl.domain.settings import get_settings
    from cloudctl.vocab.text import for_terminal

    assessed_on = parse_date_option(when, "assessment date")
    review = parse_date_option(next_review, "next review date")
    due_by = parse_date_option(conditions_due, "date the conditions are due")
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
            residual_risk=residual_risk,
            conditions=conditions,
            conditions_due=due_by,
        )
        record = result.service
        latest = latest_assessments(session).get(record.id)
        due = review_due(record, latest, get_settings(session))
        since = outdating_changes(session, record, latest)
        if since and latest is not None:
            # The service changed after the latest assessment's date: a review date would mislead.
            first = since[0]
            message = (
                f"{result.message} But '{record.name}' changed on {first.changed_on.isoformat()} "
                f"({describe(first.field, first.before, first.after, first.effect)}), after the date of "
                f"its latest assessment ({latest.assessed_on.isoformat()}), so it still shows as "
                "changed-since-assessed until an assessment dated on or after the change is recorded."
            )
        else:
            message = f"{result.message} Next review due {due.isoformat()}."
    say(for_terminal(message))


@app.command("history")
def assess_history(
    ctx: typer.Context,
    service: ServiceArgument,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Every screening and assessment of a service, oldest first, with what changed in the service since
    each assessment."""
    from cloudctl.domain.assessments import HISTORY_KEYS, assessment_history

    with database(ctx).read() as session:
        record, rows = assessment_history(session, service, category)
    if fmt == OutputFormat.table:
        rows = [_shown(row) for row in rows]
    render(
        rows,
        fmt,
        columns=[
            ("assessed_on", "Date"),
            ("assessed_by", "By"),
            ("shown_outcome", "Outcome"),
            ("residual_risk", "Risk"),
            ("shown_conditions", "Conditions"),
            ("next_review", "Review due"),
            ("changed_since", "Changed since"),
            ("reference", "Reference"),
            ("notes", "Notes"),
        ],
        title=f"Assessments of {record.name} ({record.category})",
        empty=f"'{record.name}' has never been assessed.",
        all_keys=HISTORY_KEYS,
    )


def _shown(row: dict) -> dict:
    """A history row for the table: the steps, sign-offs and conditions folded into a few columns."""
    outcome = row["outcome"] if row["step"] == "assessment" else f"screening: {row['outcome']}"
    if row["signed_off"]:
        outcome += f"; signed off by {row['signed_off']}"
    conditions = row["conditions"]
    if conditions:
        when = [f"due {row['conditions_due']}"] if row["conditions_due"] else []
        when += [f"met {row['conditions_met']}"] if row["conditions_met"] else ["open"]
        conditions += f" ({'; '.join(when)})"
    return {**row, "shown_outcome": outcome, "shown_conditions": conditions}


@app.command("screen")
def assess_screen(
    ctx: typer.Context,
    service: ServiceArgument,
    answers: Annotated[
        str,
        typer.Option(
            "--answers",
            help="Every screening question answered, e.g. special-category=yes,children=no,... "
            "(the questions: cloudctl assess questions).",
        ),
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who did the screening.")] = None,
    when: Annotated[str | None, typer.Option("--date", help="When (default today).")] = None,
    category: CategoryOption = None,
):
    """Screen a service with the ICO's DPIA screening questions: the answers decide whether a full DPIA
    is required, and the screening is kept in the assessment history."""
    from cloudctl.domain.assessment_workflow import screen_service
    from cloudctl.vocab.text import for_terminal

    on = parse_date_option(when, "screening date")
    with database(ctx).write() as session:
        result = screen_service(session, service, answers, on=on, by=by, category=category)
    say(for_terminal(result.message))


@app.command("questions")
def assess_questions(fmt: FormatOption = OutputFormat.table):
    """The screening questions assess screen asks, and the rule that decides whether a full DPIA is needed."""
    from cloudctl.domain.assessment_workflow import QUESTIONS, RULE, STANDALONE

    rows = [
        {"key": key, "question": question, "required_on_its_own": key in STANDALONE}
        for key, question in QUESTIONS.items()
    ]
    render(
        rows,
        fmt,
        columns=[("key", "Answer as"), ("question", "Question"), ("required_on_its_own", "Alone")],
        title="DPIA screening questions",
        empty="",
        all_keys=["key", "question", "required_on_its_own"],
    )
    say(RULE)


@app.command("sign-off")
def assess_sign_off(
    ctx: typer.Context,
    service: ServiceArgument,
    by: Annotated[str, typer.Option("--by", help="Who signs off.")],
    role: Annotated[str, typer.Option("--role", help="DPO, headteacher or governor.")],
    when: Annotated[str | None, typer.Option("--date", help="When (default today).")] = None,
    category: CategoryOption = None,
):
    """Sign off the service's latest assessment. A high-risk approval is approved once the school's
    sign-off role has signed it off."""
    from cloudctl.domain.assessment_workflow import sign_off
    from cloudctl.vocab.text import for_terminal

    on = parse_date_option(when, "sign-off date")
    with database(ctx).write() as session:
        result = sign_off(session, service, by=by, role=role, on=on, category=category)
    say(for_terminal(result.message))


@app.command("condition-met")
def assess_condition_met(
    ctx: typer.Context,
    service: ServiceArgument,
    when: Annotated[str, typer.Option("--date", help="When the conditions were met.")],
    category: CategoryOption = None,
):
    """Record that the conditions of the service's latest assessment were met: they are no longer open."""
    from cloudctl.domain.assessment_workflow import condition_met
    from cloudctl.vocab.text import for_terminal

    on = parse_date_option(when, "date the conditions were met")
    with database(ctx).write() as session:
        result = condition_met(session, service, on=on, category=category)
    say(for_terminal(result.message))
