"""`cloudctl export ...`: minimised exports for providers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import ForceOption, database, say
from cloudctl.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)


@app.command("enrolment")
def export_enrolment(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service to export for, as named in the register.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (else stdout).")] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="Needed when a name is in two.")
    ] = None,
    force: ForceOption = False,
):
    """The pupils a provider may receive (on roll, eligible, opted in) with only the fields it may receive."""
    import io
    import json

    from cloudctl.exporters.csv_safe import write_csv
    from cloudctl.exporters.enrolment import enrolment_export
    from cloudctl.files import write_private_text

    fmt = fmt.strip().lower()
    if fmt not in ("csv", "json"):
        raise InvalidInput(f'"{fmt}" is not an export format: use csv or json.')
    with database(ctx).read() as session:
        columns, rows = enrolment_export(session, service, category)
    if fmt == "csv":
        buffer = io.StringIO()
        write_csv(buffer, columns, rows)
        text = buffer.getvalue()
    else:
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_private_text(out, text, force=force, what="export")
    where = f" to {out}" if out else ""
    say(f"Exported {len(rows)} pupil(s) for '{service}'{where}, with only: {', '.join(columns)}.")
