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
        Path, typer.Argument(help="The register as a text file, written like the published one.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Import a published register: entries are added, or updated by name and section.

    A document cut short (an entry without the lines the other entries of its section have) or with no
    entries is refused, and nothing is written.
    """
    from cloudctl.domain.register import import_register_document
    from cloudctl.files import read_text_file

    text = read_text_file(file, "register")
    db = database(ctx)
    with db.write() as session:
        result = import_register_document(session, text)
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
    for warning in result.warnings:
        say(f"Warning: {warning}")
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
    doc_format: Annotated[str, typer.Option("--format", "-f", help="markdown, html or text.")] = "markdown",
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
    """Write the register from the database, in the published document's structure."""
    from cloudctl.domain.register import build_register_document
    from cloudctl.exporters.register_document import render_register_document

    parents = None
    with database(ctx).read() as session:
        document = build_register_document(session)
        if parents_section:
            from cloudctl.domain.register_parents import parents_section as links

            parents = links(session)
    text = render_register_document(document, doc_format.strip().lower(), parents=parents)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from cloudctl.files import write_private_text

    write_private_text(out, text, force=force, what="register")
    say(f"Wrote the register to {out}.")


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
