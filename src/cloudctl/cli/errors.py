"""The one place that turns errors into messages and exit statuses.

A user sees one plain-English line (or a short list) on stderr and an exit status from EXIT_STATUSES.
A traceback appears only with CLOUDCTL_DEBUG=1, because locals and messages from deep inside may
hold pupils' data.
"""

from __future__ import annotations

import os
import re
import sys

import typer
from typer.core import TyperGroup

EXIT_OK = 0
# Bad input, a refusal by the rules, or `--fail-if-any` finding something: the message says which.
EXIT_USER_ERROR = 1
# A mistake in the command line, as Click reports it: unknown command or option, bad choice, missing argument.
EXIT_USAGE = 2
# A bug in cloudctl: the "unexpected problem" message.
EXIT_INTERNAL_ERROR = 3
# Ctrl-C, as shells report a program stopped by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130

# What each exit status means, in the words of `cloudctl --help` and the docs (tests hold them together).
EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_USER_ERROR: "bad input, or refused by the rules (the message says why, and nothing was written); "
    "or --fail-if-any found something",
    EXIT_USAGE: "a command line that cannot be parsed (an unknown command or option, an option without "
    "its value, a value not among an option's fixed choices such as --format, a required argument "
    "missing); values cloudctl checks itself, such as a service name, a method or a date, are bad input (1)",
    EXIT_INTERNAL_ERROR: "an unexpected problem in cloudctl itself (run it again with CLOUDCTL_DEBUG=1 "
    "and report it)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_status_help() -> str:
    """The exit statuses as a table, for the end of `cloudctl --help` (\b keeps Click from rewrapping it)."""
    import textwrap

    lines = ["\b", "Exit status:"]
    for code, meaning in EXIT_STATUSES.items():
        wrapped = textwrap.wrap(meaning, width=66)
        lines.append(f"  {code:<5}{wrapped[0]}")
        lines += [f"       {more}" for more in wrapped[1:]]
    return "\n".join(lines)


ENCODINGS_TO_USE = "use utf-8, utf-8-sig, cp1252 or utf-16"
# codecs' words for a codec it does not have, or one that does not turn bytes into text (base64, zlib).
_UNKNOWN_CODEC = re.compile(r"unknown encoding: (.+)")
_NOT_TEXT_CODEC = re.compile(r"'(.+)' is not a text encoding")


def debug_enabled() -> bool:
    return os.environ.get("CLOUDCTL_DEBUG", "") not in ("", "0", "false", "no")


def message_for(error: BaseException, db_option: str | None = None) -> tuple[str, int] | None:
    """The message and exit status for an error, or None when it is not ours to explain."""
    # Looked up, not imported: a CloudctlError exists only once its module is loaded, and `--help` stays lean.
    cloudctl_errors = sys.modules.get("cloudctl.errors")
    if cloudctl_errors is not None and isinstance(error, cloudctl_errors.CloudctlError):
        return error.message, error.exit_code
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    sqlite3 = sys.modules.get("sqlite3")
    if (sqlalchemy_exc is not None and isinstance(error, sqlalchemy_exc.DBAPIError)) or (
        # Raised by the driver itself where cloudctl reads with a raw cursor or copies with the backup API.
        sqlite3 is not None and isinstance(error, sqlite3.DatabaseError)
    ):
        from cloudctl.db.engine import describe_connection_error
        from cloudctl.db.location import resolve_location

        text = str(getattr(error, "orig", error))
        if "are history" in text:
            return (
                "That change was refused: consent events, risk assessments, what parents were told about "
                "each service and UPN changes are history, and are never changed or deleted. Record a new "
                "event instead.",
                EXIT_USER_ERROR,
            )
        return describe_connection_error(resolve_location(db_option), error), EXIT_USER_ERROR
    if isinstance(error, KeyboardInterrupt):
        return (
            "Stopped. Anything cloudctl had already reported as done is kept; nothing more was written.",
            EXIT_INTERRUPTED,
        )
    if isinstance(error, OverflowError):
        # Date arithmetic past the year 9999, or a number too big to store: the input, not a bug.
        return (
            "A date or number given is too far out of range for cloudctl to work with, so nothing was "
            "written. Check the dates (from 2000, at most ten years ahead) and numbers in the command or "
            "the file, and run it again.",
            EXIT_USER_ERROR,
        )
    if isinstance(error, LookupError) and (encoding := _codec_named(error)) is not None:
        return encoding_message(encoding), EXIT_USER_ERROR
    if isinstance(error, OSError):
        name = f" '{error.filename}'" if error.filename else ""
        return f"cloudctl could not use the file{name}: {error.strerror or error}.", EXIT_USER_ERROR
    return None


def _codec_named(error: LookupError) -> str | None:
    """The encoding an error from `codecs` names, or None if the error is not about an encoding."""
    text = str(error)
    match = _UNKNOWN_CODEC.fullmatch(text) or _NOT_TEXT_CODEC.match(text)
    return match[1] if match else None


def encoding_message(encoding: str) -> str:
    return (
        f"'{encoding}' is not a text encoding cloudctl can read: {ENCODINGS_TO_USE}, or leave out "
        "--encoding to let cloudctl detect it."
    )


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
    # A message may quote what the user typed (a class name, a file's cell): never replay a terminal
    # control sequence it holds.
    from cloudctl.vocab.text import for_terminal

    prefix = "" if code == EXIT_OK else "Error: "  # NothingToDo: said, and not a failure
    sys.stderr.write(f"{prefix}{for_terminal(message)}\n")
    return code


class CloudctlGroup(TyperGroup):
    """The top-level command group: every command runs inside this error boundary.

    Mistakes in the command line never reach it: Click reports them itself, with the usage and
    the `--help` to try, and exits with its own status for them, EXIT_USAGE.
    """

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
