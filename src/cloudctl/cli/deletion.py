"""`cloudctl deletion ...`: deletions providers must make, the requests sent, and their confirmations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import (
    CategoryOption,
    FailIfAnyOption,
    ForceOption,
    FormatOption,
    RecordedByOption,
    database,
    parse_date_option,
    say,
)
from cloudctl.cli.render import OutputFormat, render

app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = [
    ("surname", "Surname"),
    ("forename", "Forename"),
    ("upn", "UPN"),
    ("service", "Service"),
    ("provider", "Provider"),
    ("reason", "Reason"),
    ("due_since", "Due since"),
    ("days_waiting", "Days waiting"),
    ("status", "Status"),
    ("reference", "Reference"),
]
ServiceArgument = Annotated[str, typer.Argument(help="The service, as named in the register.")]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Only this provider (the one the data was sent to): needed when a service moved to another "
        "and both are owed deletions.",
    ),
]
ReferenceOption = Annotated[
    str | None, typer.Option("--reference", help="The provider's or your own reference (a ticket number).")
]


@app.command("list")
def deletion_list(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    category: CategoryOption = None,
    provider: ProviderOption = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only deletions not confirmed within the school's deadline.")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Add the deletions already confirmed.")] = False,
    on_roll: Annotated[
        bool,
        typer.Option(
            "--on-roll",
            help="Only pupils on roll now (with --all: pupils whose data a provider deleted who are back, "
            "whom the next export would send again).",
        ),
    ] = False,
    fail_if_any: FailIfAnyOption = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Deletions not yet confirmed by the provider (due, or requested), the longest waiting first."""
    from cloudctl.domain.deletions import LIST_KEYS, deletions, provider_named
    from cloudctl.domain.deletions import overdue as overdue_of
    from cloudctl.domain.settings import get_settings

    with database(ctx).read() as session:
        provider_id = provider_named(session, provider)
        items = deletions(
            session,
            service_name=service,
            category=category,
            include_confirmed=show_all,
            provider_id=provider_id,
            on_roll_only=on_roll,
        )
        deadline = get_settings(session).deletion_deadline_days
    if overdue:
        items = overdue_of(items, deadline)
    rows = [item.record() for item in items]
    if overdue:
        title = f"Deletions overdue (not confirmed within {deadline} days)"
        empty = f"No deletion is overdue (not confirmed within {deadline} days)."
    elif show_all:
        title, empty = "Deletions, confirmed ones included", "No deletion has been due for any provider."
    else:
        title = "Deletions not yet confirmed by the provider"
        empty = "No deletion is waiting: every provider holds only what it may."
    render(rows, fmt, columns=LIST_COLUMNS, title=title, empty=empty, all_keys=list(LIST_KEYS))
    if fail_if_any and rows:
        say(f"{len(rows)} deletion(s) listed{' overdue' if overdue else ''}.")
        raise typer.Exit(1)


@app.command("request")
def deletion_request(
    ctx: typer.Context,
    service: ServiceArgument,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (else stdout).")] = None,
    category: CategoryOption = None,
    provider: ProviderOption = None,
    reference: ReferenceOption = None,
    recorded_by: RecordedByOption = None,
    force: ForceOption = False,
):
    """Write the request for the provider to delete every pupil due for this service, and record it.

    The file (CSV) names each pupil only by the identifiers the provider was sent. One request goes to
    one provider: when deletions are due from two (the service moved), name one with --provider."""
    from cloudctl.domain.deletions import gate_reference, prepare_request, record_request, recorder
    from cloudctl.files import write_private_text

    # Checked before anything is written, so a bad value never leaves a file unrecorded.
    gate_reference(reference)
    recorder(recorded_by)
    if out is not None and str(out) == "-":
        out = None  # "-" is standard output, as for export enrolment, never a file named "-"
    with database(ctx).write() as session:
        request = prepare_request(session, service, category, provider_name=provider)
        if out is None:
            sys.stdout.write(request.text)
        else:
            write_private_text(out, request.text, force=force, what="deletion request")
        count = record_request(
            session, request, recorded_by=recorded_by, reference=reference, target=str(out) if out else None
        )
        name = request.service.name
    where = f" in {out}" if out else ""
    say(
        f"Asked {request.provider or 'the provider'} to delete {count} pupil(s) sent for "
        f"'{name}'{where} (SHA-256 {request.sha256}), naming them only by: "
        f"{', '.join(request.columns)}. When the "
        f'provider confirms, record it: cloudctl deletion confirm "{name}" --all-requested '
        + (f'--provider "{request.provider}" ' if provider else "")
        + "--date DATE"
    )


@app.command("confirm")
def deletion_confirm(
    ctx: typer.Context,
    service: ServiceArgument,
    date_text: Annotated[str, typer.Option("--date", help="The day the provider confirmed the deletion.")],
    upn: Annotated[str | None, typer.Option("--upn", help="The pupil whose deletion was confirmed.")] = None,
    all_requested: Annotated[
        bool,
        typer.Option("--all-requested", help="Every deletion requested of the provider and not confirmed."),
    ] = False,
    category: CategoryOption = None,
    provider: ProviderOption = None,
    reference: ReferenceOption = None,
    recorded_by: RecordedByOption = None,
):
    """Record the provider's confirmation that it deleted the data: only this closes a deletion."""
    from cloudctl.domain.deletions import confirm_deletions

    on = parse_date_option(date_text, "confirmation date")
    with database(ctx).write() as session:
        confirmed = confirm_deletions(
            session,
            service,
            upn=upn,
            all_requested=all_requested,
            on=on,
            reference=reference,
            recorded_by=recorded_by,
            category=category,
            provider_name=provider,
        )
    say(
        f"Recorded the confirmation of {on.isoformat()} for {len(confirmed)} deletion(s) for "
        f"'{confirmed[0].service}'."
    )
