"""`cloudctl consent ...`: parents' opt-ins and opt-outs, and their history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import (
    ForceOption,
    FormatOption,
    RecordedByOption,
    database,
    parse_date_option,
    say,
)
from cloudctl.cli.render import OutputFormat, render
from cloudctl.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

TargetsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="UPN and SERVICE. With --class or --year, just SERVICE; with --all-services, just the UPN.",
        show_default=False,
    ),
]
ClassOption = Annotated[str | None, typer.Option("--class", help="Every pupil on roll in this class.")]
YearOption = Annotated[str | None, typer.Option("--year", help="Every pupil on roll in this year group.")]
AllServicesOption = Annotated[
    bool, typer.Option("--all-services", help="Every pupil service the pupil is eligible for.")
]
MethodOption = Annotated[str, typer.Option("--method", help="form, email, phone, in-person, app or other.")]
DateOption = Annotated[
    str | None, typer.Option("--date", help="When it was given, e.g. the date on the form (default today).")
]
RelationshipOption = Annotated[
    str | None,
    typer.Option("--relationship", help="The person's relationship to the pupil, e.g. mother, carer."),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Anything worth keeping with the record.")]
CategoryOption = Annotated[
    str | None, typer.Option("--category", "-c", help="Needed when a name is in two sections.")
]

HISTORY_COLUMNS = [
    ("date", "Date"),
    ("service", "Service"),
    ("decision", "Decision"),
    ("given_by", "Given by"),
    ("method", "How"),
    ("recorded_by", "Recorded by"),
    ("form", "Form (reply code of)"),
    ("told_purpose", "What they were told it is for"),
    ("told_data", "Data they were told of"),
    ("note", "Note"),
]
OUTCOME_COLUMNS = [
    ("upn", "UPN"),
    ("pupil", "Pupil"),
    ("service", "Service"),
    ("action", "Result"),
    ("detail", "Detail"),
]


def _split_targets(
    targets: list[str] | None, *, bulk: bool, all_services: bool
) -> tuple[str | None, str | None]:
    """Work out UPN and SERVICE from the positional arguments the other options leave room for."""
    targets = targets or []
    expected = (0 if bulk else 1) + (0 if all_services else 1)
    if len(targets) != expected:
        wanted = (
            " ".join(part for part, needed in (("UPN", not bulk), ("SERVICE", not all_services)) if needed)
            or "no UPN or SERVICE"
        )
        raise InvalidInput(
            f"Expected {wanted} here, but got {len(targets)} value(s). For example: "
            'cloudctl consent optin H801200001001 "My Maths" --by "Jane Smith", or '
            '--class 3B "My Maths", or H801200001001 --all-services.'
        )
    upn = None if bulk else targets[0]
    service = None if all_services else targets[-1]
    return upn, service


def _record(ctx, decision, targets, class_name, year, all_services, by, method, when, relationship, note,
            recorded_by, category, fmt):  # fmt: skip
    from datetime import date

    from cloudctl.domain.consent import ConsentRequest, record_consent, summary
    from cloudctl.vocab.text import for_terminal

    if class_name is not None and year is not None:
        raise InvalidInput("Give --class or --year, not both.")
    bulk = class_name is not None or year is not None
    upn, service = _split_targets(targets, bulk=bulk, all_services=all_services)
    request = ConsentRequest(
        decision=decision,
        effective_on=parse_date_option(when, "consent date") or date.today(),
        method=method,
        given_by=by,
        relationship=relationship,
        recorded_by=recorded_by,
        note=note,
    )
    # Several office staff may record at once: run again if PostgreSQL says the transaction lost a race.
    outcomes = database(ctx).retrying(
        lambda session: record_consent(
            session,
            request,
            upn=upn,
            class_name=class_name,
            year=year,
            service_name=service,
            category=category,
            all_services=all_services,
        )
    )
    if upn is not None and service is not None and fmt == OutputFormat.table:
        # One pupil and one service: the one line says what was recorded.
        (outcome,) = outcomes
        say(for_terminal(f"{outcome.pupil} ({outcome.upn}), {outcome.service}: {outcome.detail}."))
        return
    render(
        [outcome.record() for outcome in outcomes],
        fmt,
        columns=OUTCOME_COLUMNS,
        title=f"Consent: {decision}",
        empty="No pupil was eligible.",
    )
    say(f"Consent {decision}: {summary(outcomes)}.")


@app.command("optin")
def consent_optin(
    ctx: typer.Context,
    targets: TargetsArgument = None,
    by: Annotated[
        str | None, typer.Option("--by", help="The parent or carer who gave consent (required).")
    ] = None,
    class_name: ClassOption = None,
    year: YearOption = None,
    all_services: AllServicesOption = False,
    method: MethodOption = "form",
    when: DateOption = None,
    relationship: RelationshipOption = None,
    note: NoteOption = None,
    recorded_by: RecordedByOption = None,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Record a parent's opt-in: the pupil may be enrolled in the service."""
    _record(ctx, "opt-in", targets, class_name, year, all_services, by, method, when, relationship, note,
            recorded_by, category, fmt)  # fmt: skip


@app.command("optout")
def consent_optout(
    ctx: typer.Context,
    targets: TargetsArgument = None,
    by: Annotated[str | None, typer.Option("--by", help="Who asked for the opt-out.")] = None,
    class_name: ClassOption = None,
    year: YearOption = None,
    all_services: AllServicesOption = False,
    method: MethodOption = "phone",
    when: DateOption = None,
    relationship: RelationshipOption = None,
    note: NoteOption = None,
    recorded_by: RecordedByOption = None,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Record an opt-out. Never refused for a pupil service: withdrawing is as easy as consenting."""
    _record(ctx, "opt-out", targets, class_name, year, all_services, by, method, when, relationship, note,
            recorded_by, category, fmt)  # fmt: skip


def _current_upn(session, upn: str) -> str:
    """The pupil's UPN now; a UPN that `pupil change-upn` replaced names the same pupil, and is said so."""
    from cloudctl.domain.upn_identity import pupil_by_upn
    from cloudctl.vocab.text import for_terminal

    pupil, former = pupil_by_upn(session, upn)
    if former is not None:
        say(for_terminal(former.says(recorded=False) + "."))
    return pupil.upn


@app.command("history")
def consent_history(
    ctx: typer.Context,
    upn: Annotated[str, typer.Argument(help="The pupil's UPN.")],
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Every consent decision for a pupil, oldest first, with what the parent was told."""
    from cloudctl.domain.consent_views import consent_history as history

    with database(ctx).read() as session:
        upn = _current_upn(session, upn)
        rows = history(session, upn, service, category)
    for_service = f" for '{service}'" if service else ""
    render(
        rows,
        fmt,
        columns=HISTORY_COLUMNS,
        title=f"Consent history of {upn}",
        empty=f"No consent decision is recorded for this pupil{for_service}: no response means not enrolled.",
    )


@app.command("status")
def consent_status(
    ctx: typer.Context,
    upn: Annotated[str, typer.Argument(help="The pupil's UPN.")],
    fmt: FormatOption = OutputFormat.table,
):
    """A pupil's current standing with each service for pupils or parents."""
    from cloudctl.domain.consent_views import consent_status as status

    with database(ctx).read() as session:
        upn = _current_upn(session, upn)
        rows = status(session, upn)
    render(
        rows,
        fmt,
        columns=[
            ("service", "Service"),
            ("status", "Consent"),
            ("since", "Since"),
            ("given_by", "Given by"),
            ("service_status", "Service status"),
        ],
        title=f"Consent status of {upn}",
        empty="The register has no services for pupils or parents.",
    )


@app.command("form")
def consent_form(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The HTML file to write (print it from a browser).")
    ],
    force: ForceOption = False,
    class_name: ClassOption = None,
    upn: Annotated[str | None, typer.Option("--upn", help="One pupil's form.")] = None,
    missing_only: Annotated[
        bool,
        typer.Option(
            "--missing-only",
            help="Only pupils with no current answer for a service (see consent missing).",
        ),
    ] = False,
    codes: Annotated[
        Path | None,
        typer.Option(
            "--codes",
            help="Also write the reply codes issued to this CSV file (reply_code, upn, surname, forename, "
            "class, issued_on), for the office's records.",
        ),
    ] = None,
    reprint: Annotated[
        str | None,
        typer.Option("--reprint", help="Write again, exactly, the form issued with this reply code."),
    ] = None,
):
    """Write printable consent forms, one A4 page per pupil with its own reply code, listing the services
    the pupil may be enrolled in. Writing the forms issues the codes: a newer form replaces a pupil's
    older code."""
    from cloudctl.domain.consent import login_name
    from cloudctl.exporters.consent_forms import (
        codes_csv,
        form_plans,
        issue_forms,
        pages_of,
        render_consent_forms,
        reprint_page,
    )
    from cloudctl.files import check_output_path, write_private_text

    if reprint is not None:
        if class_name is not None or upn is not None or codes is not None:
            raise InvalidInput(
                "--reprint writes the one form a reply code was issued with: give it without --class, "
                "--upn or --codes."
            )
        check_output_path(out, force=force, what="forms")
        with database(ctx).read() as session:
            pages = reprint_page(session, reprint)
        html = render_consent_forms(pages, school_name=pages[0]["school_name"])
        write_private_text(out, html, force=force, what="forms")
        say(
            f"Wrote the form issued on {pages[0]['issued_on']} with reply code {pages[0]['reply_code']} "
            f"to {out}."
        )
        return
    check_output_path(out, force=force, what="forms")
    if codes is not None:
        check_output_path(codes, force=force, what="codes file")
        if codes.resolve() == out.resolve():
            raise InvalidInput("--codes and --out name the same file: give the codes file another name.")
    from datetime import date

    today = date.today()

    def issue(session):  # type: ignore[no-untyped-def]
        pupil_ids = None  # --missing-only (11b)
        if missing_only:
            from cloudctl.domain.consent_missing import missing_pupil_ids

            pupil_ids = missing_pupil_ids(session, class_name=class_name, upn=upn)
        plans = form_plans(session, class_name=class_name, upn=upn, pupil_ids=pupil_ids)
        issued = issue_forms(session, plans, today=today, issued_by=login_name())
        pages = pages_of(session, issued)
        school = pages[0]["school_name"] if pages else "The school"
        # Written before the transaction commits: a file that cannot be written issues no codes.
        write_private_text(out, render_consent_forms(pages, school_name=school), force=force, what="forms")
        if codes is not None:
            pupils = {plan.pupil.id: plan.pupil for plan in plans}
            write_private_text(codes, codes_csv(issued, pupils), force=force, what="codes file")
        return len(issued)

    count = database(ctx).retrying(issue)
    say(
        f"Wrote {count} consent form(s) to {out}, each with its own reply code. Open it in a browser and "
        "print it."
    )
    if codes is not None:
        say(f"Wrote the {count} reply code(s) issued to {codes}.")


@app.command("import")
def consent_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV of returned forms (UPN, Service, Decision, Given by, Date, Method), or the answers "
            "exported from Microsoft Forms or Google Forms (a Reply code column, a timestamp, a column per "
            "service)."
        ),
    ],
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="The file's encoding, if not detected.")
    ] = None,
    when: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The date the forms were signed, for rows without one (needed when the file has no date "
            "column).",
        ),
    ] = None,
    recorded_by: RecordedByOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and show what would be recorded.")
    ] = False,
    keep_email: Annotated[
        bool,
        typer.Option(
            "--keep-email",
            help="Keep the parent's e-mail address from an online form's answers (not kept otherwise).",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Record a batch of returned consent forms, all or nothing: each row is one parent's decision."""
    from cloudctl.domain.consent import import_consent_returns, summary

    default_date = parse_date_option(when, "date given with --date")

    def import_returns(session):  # type: ignore[no-untyped-def]
        outcomes = import_consent_returns(
            session,
            file,
            encoding=encoding,
            recorded_by=recorded_by,
            default_date=default_date,
            keep_email=keep_email,
        )
        if dry_run:
            session.rollback()
        return outcomes

    outcomes = database(ctx).retrying(import_returns)
    render(
        [outcome.record() for outcome in outcomes],
        fmt,
        columns=OUTCOME_COLUMNS,
        title=f"Consent forms from {file.name}",
        empty="The file has no rows.",
    )
    written = sum(1 for outcome in outcomes if outcome.written)
    if dry_run:
        say(f"Dry run: {written} decision(s) would be recorded ({summary(outcomes)}); nothing was written.")
    else:
        say(f"Recorded {written} decision(s) from {file.name}: {summary(outcomes)}.")
    flagged = sum(1 for outcome in outcomes if outcome.detail.startswith("Flagged:"))
    if flagged:
        say(f"{flagged} withdrawal(s) came on an expired reply code or for a pupil who left: flagged above.")


# `consent missing` and `consent renewals` live in their own module, registered on this app.
from cloudctl.cli import consent_collection as _consent_collection  # noqa: E402, F401
