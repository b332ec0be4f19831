"""`cloudctl pupil ...`: class lists from the MIS, and finding pupils."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cloudctl.cli.context import FormatOption, database, parse_as_of, say
from cloudctl.cli.render import OutputFormat, render, render_record

if TYPE_CHECKING:
    from cloudctl.domain.pupils import Progress

app = typer.Typer(no_args_is_help=True)

# Below this (about 8,000 pupils) a file imports in a moment: a bar would only flicker.
PROGRESS_MIN_BYTES = 500_000

UpnArgument = Annotated[str, typer.Argument(help="The pupil's UPN (13 characters), e.g. H801200001001.")]
LIST_COLUMNS = [
    ("upn", "UPN"),
    ("surname", "Surname"),
    ("forename", "Forename"),
    ("preferred_forename", "Known as"),
    ("year_group", "Year"),
    ("class_name", "Class"),
]
CHANGE_COLUMNS = [
    ("action", "Change"),
    ("line", "Line"),
    ("upn", "UPN"),
    ("surname", "Surname"),
    ("forename", "Forename"),
    ("year_group", "Year"),
    ("class_name", "Class"),
    ("fields", "Fields changed"),
]


@contextmanager
def import_progress(file: Path) -> Iterator[Progress | None]:
    """A progress bar on stderr for a large file, only when a person is watching (stderr is a terminal)."""
    try:
        large = file.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        large = False
    if not (large and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as ProgressBar

    with ProgressBar(
        TextColumn("Reading {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    ) as bar:
        task = bar.add_task(file.name, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command("import")
def pupil_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The class list exported from the MIS, as a CSV or .xlsx file.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="The file is part of the school (one class or year): nobody leaves."),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The date of the export: leaving date and ages (default today)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="The file's encoding, e.g. utf-8 or cp1252 (default: detected)."),
    ] = None,
    allow_leavers: Annotated[
        int | None,
        typer.Option(
            "--allow-leavers",
            min=0,
            metavar="N",
            help="Confirm that N pupils leave the roll: needed when a full list takes more than a quarter "
            "of the roll off it (the dry run shows the count).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Import a class list exported from the MIS (SIMS, Arbor, Bromcom and others).

    Pupils are matched by UPN: new ones are added, changed ones updated, and pupils missing from a full
    list leave the roll (they are kept, with their consent history). If any row is wrong, nothing is
    imported and every problem is listed with its line number. A UPN that was replaced (change-upn), or a
    new UPN for a pupil held under another, is refused; so is a full list that would take more than a
    quarter of the roll off it, unless --allow-leavers confirms the count.
    """
    from cloudctl.domain.pupils import import_class_list

    when = parse_as_of(as_of)
    db = database(ctx)
    with import_progress(file) as progress, db.read() if dry_run else db.write() as session:
        summary = import_class_list(
            session,
            file,
            as_of=when,
            partial=partial,
            dry_run=dry_run,
            encoding=encoding,
            details=dry_run,
            progress=progress,
            allow_leavers=allow_leavers,
        )
    if dry_run:
        render(
            [change.record() for change in summary.changes],
            fmt,
            columns=CHANGE_COLUMNS,
            title=f"Pupil import of {file.name} (dry run: nothing written)",
            empty="Nothing would change: every pupil in the file is already up to date.",
        )
    say(summary.describe())


@app.command("list")
def pupil_list(
    ctx: typer.Context,
    class_name: Annotated[
        str | None, typer.Option("--class", help="Only this class (registration group or form).")
    ] = None,
    year: Annotated[
        str | None, typer.Option("--year", help="Only this year group: R, 3, Year 3, Y3.")
    ] = None,
    include_left: Annotated[
        bool, typer.Option("--include-left", help="Include pupils who have left the roll.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """List the pupils on roll, in year and class order."""
    from cloudctl.domain.pupils import RECORD_KEYS, class_names, list_pupils, pupil_record

    with database(ctx).read() as session:
        pupils = list_pupils(session, class_name=class_name, year=year, include_left=include_left)
        rows = [pupil_record(pupil) for pupil in pupils]
        empty = "No pupils yet. Import the class list with: cloudctl pupil import FILE"
        if class_name is not None and not rows:
            known = ", ".join(class_names(session)) or "none yet"
            empty = f"No pupils on roll in class '{class_name}'. The classes are: {known}."
        elif not rows and (year is not None or include_left):
            empty = "No pupils match."
    columns = LIST_COLUMNS + ([("on_roll", "On roll"), ("left_on", "Left on")] if include_left else [])
    render(rows, fmt, columns=columns, title="Pupils", empty=empty, all_keys=list(RECORD_KEYS))


@app.command("show")
def pupil_show(ctx: typer.Context, upn: UpnArgument, fmt: FormatOption = OutputFormat.table):
    """Everything held about one pupil: the record, every service holding their data now, and their
    consent history (the subject-access view). A UPN replaced by change-upn finds the pupil too."""
    from cloudctl.cli.consent import HISTORY_COLUMNS
    from cloudctl.domain.consent_views import subject_access
    from cloudctl.domain.upn_identity import pupil_by_upn

    with database(ctx).read() as session:
        former = pupil_by_upn(session, upn)[1]
        record = subject_access(session, upn)
    if former is not None:
        # A subject-access request may quote the UPN the data was sent under: one child, one record.
        say(
            f"UPN {former.old_upn} was changed to {former.current_upn} on {former.changed_on.isoformat()} "
            f"(cloudctl pupil change-upn): this is the same pupil, shown under {former.current_upn}."
        )
    render_record(record, fmt, title=f"Pupil {record['upn']}")
    if fmt != OutputFormat.table:
        return
    render(
        record["services_holding_data"],
        fmt,
        columns=[
            ("service", "Service"),
            ("provider", "Provider"),
            ("basis", "Why it holds the data"),
            ("data_shared", "Data it receives"),
        ],
        title="Services that hold this pupil's data now",
        empty="No service holds this pupil's data now.",
    )
    render(
        record["consent_history"],
        fmt,
        columns=HISTORY_COLUMNS,
        title="Consent history",
        empty="No consent decision has been recorded for this pupil.",
    )
    render(
        record["exports"],
        fmt,
        columns=[
            ("exported_at", "Sent at"),
            ("service", "Service"),
            ("provider", "Provider"),
            ("action", "As"),
            ("upn_sent", "UPN sent"),
            ("fields", "Fields sent"),
        ],
        title="Exports that carried this pupil's data",
        empty="No recorded export has carried this pupil's data.",
    )
    render(
        record["deletions"],
        fmt,
        columns=[
            ("date", "Date"),
            ("kind", "Deletion"),
            ("service", "Service"),
            ("provider", "Provider"),
            ("reason", "Reason"),
            ("reference", "Reference"),
        ],
        title="Deletions asked of providers, and their confirmations",
        empty="No deletion has been asked of a provider for this pupil.",
    )
    render(
        record["held_by"],
        fmt,
        columns=[
            ("service", "Service"),
            ("provider", "Provider"),
            ("status", "Status"),
            ("last_sent", "Last sent"),
            ("deletion_requested_on", "Deletion requested"),
            ("deleted_on", "Deleted (confirmed)"),
        ],
        title="Providers sent this pupil's data, and where each stands",
        empty="No provider has been sent this pupil's data.",
    )


@app.command("search")
def pupil_search(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(help="Part of a name (accents optional), a UPN or an admission number.")
    ],
    fmt: FormatOption = OutputFormat.table,
):
    """Find pupils by name, UPN or admission number (pupils who have left too)."""
    from cloudctl.domain.pupils import RECORD_KEYS, pupil_record, search_pupils

    with database(ctx).read() as session:
        rows = [pupil_record(pupil) for pupil in search_pupils(session, text)]
    render(
        rows,
        fmt,
        columns=[*LIST_COLUMNS, ("on_roll", "On roll")],
        title=f"Pupils matching '{text}'",
        empty=f"No pupil matches '{text}'.",
        all_keys=list(RECORD_KEYS),
    )


@app.command("change-upn")
def pupil_change_upn(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The UPN the pupil has now (usually a temporary one).")],
    new: Annotated[str, typer.Argument(help="The UPN from the MIS that replaces it.")],
):
    """Replace a pupil's temporary UPN by the permanent one; their history and consent stay with them."""
    from cloudctl.domain.pupils import change_upn

    with database(ctx).write() as session:
        pupil, previous = change_upn(session, old, new)
        say(
            f"The pupil with UPN {previous} now has UPN {pupil.upn}"
            + (" (still a temporary one)" if pupil.upn_temporary else "")
            + ". Their records are kept; the old UPN is noted in their history."
        )
