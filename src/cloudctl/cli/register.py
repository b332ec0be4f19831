"""`cloudctl register ...`: the register document, in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import ForceOption, FormatOption, database, say
from cloudctl.cli.render import OutputFormat, render

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def register_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help='The register: a document (.txt) with a heading per service and "Label: value" lines, a '
            "text table (| or tab separated), or a spreadsheet (.csv, .xlsx) with one row per service."
        ),
    ],
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            "-c",
            help="The section (pupil, management, other, statutory) of entries outside a section heading, "
            "or of rows without a Category column.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Import a register: entries are added, or updated by name and section.

    A document cut short (an entry without the lines the other entries of its section have), or a file in
    which nothing reads as a service, is refused, and nothing is written.
    """
    from cloudctl.domain.register import import_parsed_register
    from cloudctl.domain.vocabulary import parse_category
    from cloudctl.importers.register_shapes import read_register_file

    default_category = parse_category(category) if category is not None else None
    document = read_register_file(file, default_category=default_category)
    db = database(ctx)
    with db.write() as session:
        result = import_parsed_register(session, document)
        if dry_run:
            session.rollback()
    rows = [change.record() for change in result.changes]
    render(
        rows,
        fmt,
        columns=[
            ("action", "Change"),
            ("part", "Part"),
            ("service", "Service"),
            ("category", "Category"),
            ("fields", "Fields"),
        ],
        title="Register import (dry run: nothing written)" if dry_run else "Register import",
        empty="The document has no entries.",
    )
    say(f"Read {file.name} as {result.shape}.")
    for warning in result.warnings:
        say(f"Warning: {warning}")
    if result.kept_as_written:
        listed = ", ".join(f'"{label}"' for label in result.kept_as_written)
        say(
            f"Kept as written with each service (no field of cloudctl's matches them): {listed}. They are "
            "published with the register; see them with cloudctl service show NAME."
        )
    if result.unrecognised_data:
        listed = "; ".join(
            f'"{phrase}" ({", ".join(dict.fromkeys(names))})'
            for phrase, names in result.unrecognised_data.items()
        )
        say(
            f"Data shared that matches no data category, kept as written: {listed}. Where one means a "
            "category cloudctl knows (full name, date of birth, photographs, email addresses, ...), "
            'reword the service\'s data in those words with: cloudctl service edit "NAME" --data "TEXT"'
        )
    counts = {
        action: sum(1 for change in result.entries if change.action == action)
        for action in ("added", "updated", "unchanged")
    }
    summary = ", ".join(f"{count} {action}" for action, count in counts.items())
    say(f"Dry run: {summary}. Nothing was written." if dry_run else f"Imported {file.name}: {summary}.")
    if result.other_changes:
        listed = "; ".join(result.other_changes)
        say(f"The import would also change {listed}." if dry_run else f"Also changed {listed}.")


@app.command("publish")
def register_publish(
    ctx: typer.Context,
    doc_format: Annotated[
        str, typer.Option("--format", "-f", help="markdown, html, text, csv or xlsx (xlsx needs --out).")
    ] = "markdown",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (else stdout).")] = None,
    force: ForceOption = False,
    parents_section: Annotated[
        bool,
        typer.Option(
            "--parents-section",
            help="html only: add a section for parents with each pupil service's privacy policy and "
            "assessment date.",
        ),
    ] = False,
):
    """Write the register from the database, in the published document's structure, or as a spreadsheet
    (one row per service) that `register import` reads back."""
    from cloudctl.domain.register import build_register_document

    parents = None
    with database(ctx).read() as session:
        document = build_register_document(session)
        if parents_section:
            from cloudctl.domain.register_parents import parents_section as links

            parents = links(session)
    if doc_format.strip().lower() in ("csv", "xlsx"):
        if parents_section:
            from cloudctl.errors import InvalidInput

            raise InvalidInput(
                "The section for parents is published on the web page only: add --format html."
            )
        from cloudctl.exporters.register_spreadsheet import register_rows

        _write_spreadsheet(*register_rows(document), doc_format, out, force, "the register")
        return
    from cloudctl.exporters.register_document import render_register_document

    text = render_register_document(document, doc_format.strip().lower(), parents=parents)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from cloudctl.files import write_private_text

    write_private_text(out, text, force=force, what="register")
    say(f"Wrote the register to {out}.")


@app.command("template")
def register_template(
    doc_format: Annotated[str, typer.Option("--format", "-f", help="csv or xlsx.")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (csv: else stdout).")
    ] = None,
    force: ForceOption = False,
):
    """Write an empty register spreadsheet: the column headings `register import` reads, and one example
    row to overwrite."""
    from cloudctl.exporters.register_spreadsheet import template_rows

    _write_spreadsheet(*template_rows(), doc_format, out, force, "a register template")


def _write_spreadsheet(headings, rows, doc_format: str, out: Path | None, force: bool, what: str) -> None:
    from cloudctl.errors import InvalidInput
    from cloudctl.exporters.register_spreadsheet import check_format, spreadsheet_bytes, write_spreadsheet

    fmt = check_format(doc_format)
    data = spreadsheet_bytes(headings, rows, fmt)
    if out is None:
        if fmt == "xlsx":
            raise InvalidInput(
                "An .xlsx workbook cannot be written to the terminal: give the file with --out."
            )
        typer.echo(data.decode("utf-8-sig"), nl=False)
        return
    write_spreadsheet(out, data, force=force)
    import shlex

    say(f"Wrote {what} to {out}: import it with cloudctl register import {shlex.quote(str(out))}")


@app.command("example")
def register_example(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (else stdout).")] = None,
    force: ForceOption = False,
):
    """Write the register Hunwick Primary School publishes (bundled with cloudctl), to try an import with.

    It is also an example of the document `register import` reads: the sections, and the labelled
    lines of each entry.
    """
    from importlib import resources

    text = resources.files("cloudctl").joinpath("data", EXAMPLE_REGISTER).read_text(encoding="utf-8")
    if out is None:
        typer.echo(text, nl=False)
        return
    from cloudctl.files import write_private_text

    write_private_text(out, text, force=force, what="register")
    import shlex

    command = f"cloudctl register import {shlex.quote(str(out))}"
    say(f"Wrote Hunwick Primary School's register to {out}: import it with {command}")


# Bundled with cloudctl (src/cloudctl/data), as the demo uses it.
EXAMPLE_REGISTER = "hunwick-cloud-service-providers.txt"
