"""The one place that turns errors into messages and exit statuses.

A user sees one plain-English line (or a short list) on stderr and exit status 1.
A traceback appears only with CLOUDCTL_DEBUG=1, because locals and messages from
deep inside may hold pupils' data.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2
# Click's status for a usage error, which cloudctl reports as bad input (1).
EXIT_USAGE = 2


def debug_enabled() -> bool:
    return os.environ.get("CLOUDCTL_DEBUG", "") not in ("", "0", "false", "no")


def message_for(error: BaseException, db_option: str | None = None) -> tuple[str, int] | None:
    """The message and exit status for an error, or None when it is not ours to explain."""
    # Looked up, not imported: a CloudctlError exists only once its module is loaded, and `--help` stays lean.
    cloudctl_errors = sys.modules.get("cloudctl.errors")
    if cloudctl_errors is not None and isinstance(error, cloudctl_errors.CloudctlError):
        return error.message, error.exit_code
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(error, sqlalchemy_exc.DBAPIError):
        from cloudctl.db.engine import describe_connection_error
        from cloudctl.db.location import resolve_location

        text = str(error.orig)
        if "are history" in text:
            return (
                "That change was refused: consent events and risk assessments are history and are "
                "never changed or deleted. Record a new event instead.",
                EXIT_USER_ERROR,
            )
        return describe_connection_error(resolve_location(db_option), error), EXIT_USER_ERROR
    if isinstance(error, KeyboardInterrupt):
        return "Stopped. Nothing more was written.", 130
    if isinstance(error, OSError):
        name = f" '{error.filename}'" if error.filename else ""
        return f"cloudctl could not use the file{name}: {error.strerror or error}.", EXIT_USER_ERROR
    return None


def report(error: BaseException, db_option: str | None = None) -> int:
    known = message_for(error, db_option)
    if known is None:
        message = (
            f"cloudctl stopped on an unexpected problem ({type(error).__name__}). Nothing more was written. "
            "Run the command again with CLOUDCTL_DEBUG=1 to see the details, and report it."
        )
        code = EXIT_INTERNAL_ERROR
    else:
        message, code = known
    if debug_enabled():
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    sys.stderr.write(f"Error: {message}\n")
    return code


class CloudctlGroup(TyperGroup):
    """The top-level command group: every command runs inside this error boundary."""

    def main(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # A mistyped command or option is bad input like any other: exit status 1, not Click's 2.
        # Click has already printed what was wrong and the `--help` to try.
        try:
            return super().main(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code == EXIT_USAGE:
                raise SystemExit(EXIT_USER_ERROR) from None
            raise

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            # Exits and usage errors from Typer carry their own message and status.
            raise
        except BrokenPipeError:
            # The reader of stdout went away (`cloudctl service list | head -1`): Typer stops quietly.
            raise
        except (Exception, KeyboardInterrupt) as error:
            raise typer.Exit(report(error, ctx.params.get("db"))) from None
