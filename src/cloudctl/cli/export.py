"""`cloudctl export ...`: minimised exports for providers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import ForceOption, FormatOption, check_recorded_by, database, say
from cloudctl.cli.render import OutputFormat, render
from cloudctl.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)


HISTORY_COLUMNS = [
    ("exported_at", "Exported at"),
    ("service", "Service"),
    ("provider", "Provider"),
    ("kind", "Kind"),
    ("pupils", "Pupils"),
    ("fields", "Fields"),
    ("recorded_by", "By"),
    ("target", "Sent to"),
    ("sha256", "SHA-256"),
]


@app.command("enrolment")
def export_enrolment(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service to export for, as named in the register.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (else stdout, or with -).")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="Needed when a name is in two.")
    ] = None,
    changes: Annotated[
        bool,
        typer.Option(
            "--changes",
            help="Only what the provider must change since the last recorded export of the service: "
            "add, update and remove rows, with the reason.",
        ),
    ] = False,
    recorded_by: Annotated[
        str | None,
        typer.Option(
            "--recorded-by",
            callback=check_recorded_by,
            help="Who is sending the file (default your login name).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the file on stdout; write and record nothing.")
    ] = False,
    force: ForceOption = False,
):
    """The pupils a provider may receive (on roll, eligible, opted in) with only the fields it may receive.

    Every export is recorded in the ledger (cloudctl export history): who sent what, when, to whom."""
    from cloudctl.domain.export_ledger import (
        ADD,
        KIND_CHANGES,
        KIND_FULL,
        REMOVE,
        STDOUT,
        UPDATE,
        provider_of,
        record_export,
        recorder,
        sha256_of,
    )

    fmt = fmt.strip().lower()
    if fmt not in ("csv", "json"):
        raise InvalidInput(f'"{fmt}" is not an export format: use csv or json.')
    to_stdout = out is None or str(out) == "-"
    sender = recorder(recorded_by)
    db = database(ctx)
    with db.read() if dry_run else db.write() as session:
        from cloudctl.exporters.enrolment import file_text

        columns, fields, rows, sent, chosen = _export_rows(session, service, category, changes=changes)
        service_name = chosen.service.name
        if changes and not rows:
            # An empty changes file carries no pupil's data, so nothing leaves cloudctl: no file, no record.
            say(_nothing_changed(session, chosen.service))
            return
        if changes and chosen.service.status != "approved":
            from cloudctl.exporters.enrolment_changes import removals_only_note

            say(removals_only_note(chosen.service, len(rows)))
        elif any(one.action != REMOVE for one in sent):
            from cloudctl.domain.export_cautions import export_cautions

            for caution in export_cautions(session, chosen.service):
                say(caution)
        text = file_text(fmt, columns, rows)
        if dry_run:
            sys.stdout.write(text)
            say(f"Dry run: {len(rows)} row(s) for '{service_name}'; nothing written or recorded.")
            return
        provider_of(session, chosen.service)  # refused before anything leaves: no provider, no record
        data = text.encode("utf-8")
        if to_stdout:
            if sys.stdout is None:  # started with standard output closed (`>&-`): nowhere to send it
                raise InvalidInput("Standard output is closed, so the file cannot go there: give --out FILE.")
            sys.stdout.flush()
            stream = getattr(sys.stdout, "buffer", None)
            if stream is not None:
                stream.write(data)
                stream.flush()
            else:
                sys.stdout.write(text)
        else:
            from cloudctl.files import write_private_text

            write_private_text(out, text, force=force, what="export")
        record = record_export(
            session,
            service=chosen.service,
            kind=KIND_CHANGES if changes else KIND_FULL,
            file_format=fmt,
            target=STDOUT if to_stdout else str(out),
            fields=fields,
            sha256=sha256_of(data),
            recorded_by=sender,
            pupils=sent,
        )
        export_id = record.id
    where = "" if to_stdout else f" to {out}"
    if changes:
        counts = {action: sum(1 for one in sent if one.action == action) for action in (ADD, UPDATE, REMOVE)}
        say(
            f"Changes for '{service_name}'{where}: {counts[ADD]} to add, {counts[UPDATE]} to update, "
            f"{counts[REMOVE]} to remove. Recorded as export {export_id} (cloudctl export history)."
        )
    else:
        say(
            f"Exported {len(rows)} pupil(s) for '{service_name}'{where}, with only: "
            f"{', '.join(columns)}. Recorded as export {export_id} (cloudctl export history)."
        )


def _nothing_changed(session, service) -> str:  # type: ignore[no-untyped-def]
    from cloudctl.domain.export_ledger import last_export

    last = last_export(session, service.id)
    if last is None:
        return (
            f"Nothing to send: no pupil is to be sent to '{service.name}' and none was sent before. No file "
            "written; nothing recorded."
        )
    return (
        f"Nothing has changed for '{service.name}' since the export of {str(last.exported_at)[:10]}: no file "
        "written; nothing recorded."
    )


def _export_rows(session, service: str, category: str | None, *, changes: bool):  # type: ignore[no-untyped-def]
    if changes:
        from cloudctl.exporters.enrolment_changes import changes_export

        found = changes_export(session, service, category)
        return found.columns, found.fields, found.rows, found.sent, found.selection
    from cloudctl.exporters.enrolment import selection, sent_pupils

    chosen = selection(session, service, category)
    return chosen.columns, chosen.columns, chosen.rows, sent_pupils(chosen), chosen


@app.command("history")
def export_history(
    ctx: typer.Context,
    service: Annotated[
        str | None, typer.Argument(help="Only this service's exports (default every service).")
    ] = None,
    upn: Annotated[
        str | None,
        typer.Option("--upn", help="Only exports that carried this pupil (a replaced UPN works too)."),
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="Needed when a name is in two.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Every recorded export: service, provider, when, who, how many pupils, the fields and the SHA-256."""
    from cloudctl.domain import export_ledger
    from cloudctl.domain.services import get_service

    with database(ctx).read() as session:
        service_id = get_service(session, service, category).id if service is not None else None
        pupil_ids = export_ledger.pupil_ids_for_upn(session, upn) if upn is not None else None
        rows = export_ledger.export_history(session, service_id=service_id, pupil_ids=pupil_ids)
    render(rows, fmt, columns=HISTORY_COLUMNS, title="Exports sent to providers", empty="No export recorded.")
