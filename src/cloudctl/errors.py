"""Typed errors raised below the CLI.

Every error carries a plain-English message that says what was wrong and how to
mend it. The CLI turns them into a message on stderr and an exit status in one
place (`cloudctl.cli.errors`); nothing below the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass


class CloudctlError(Exception):
    """Base of every error a user can cause. `str(error)` is the message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def also_say(self, sentence: str) -> CloudctlError:
        """The same error, its message followed by a sentence the caller knows (where a file was read)."""
        self.message = f"{self.message}\n{sentence}"
        self.args = (self.message,)
        return self


class InvalidInput(CloudctlError):
    """A value given on the command line or in a file is not acceptable."""


class NotFound(CloudctlError):
    """A named provider, service or pupil does not exist."""


class Ambiguous(CloudctlError):
    """A name matches more than one record; the message lists the candidates."""


class RuleRefused(CloudctlError):
    """The school's policy or the register's rules refuse the action."""


class Conflict(CloudctlError):
    """The action clashes with what is already recorded (a duplicate, an entry in use)."""


class NothingToDo(CloudctlError):
    """What was asked is already recorded, so nothing was written: not a failure (exit 0), as a decision
    already standing is not. The message starts "Nothing recorded:" and says what stands."""

    exit_code = 0


class DatabaseUnavailable(CloudctlError):
    """The database cannot be opened, reached or upgraded."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an imported file: where it is and what is wrong."""

    line: int
    column: str
    value: str
    message: str

    def describe(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        if self.value:
            return f"{where}: {self.message} (value: '{self.value}')"
        return f"{where}: {self.message}"


class ImportRejected(CloudctlError):
    """A file had problems, so nothing from it was written."""

    SHOWN = 50

    def __init__(self, what: str, problems: list[Problem], *, total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        lines = [f"{what}: {self.total} problem(s) found, so nothing was imported."]
        lines += [f"  {problem.describe()}" for problem in problems[: self.SHOWN]]
        if self.total > self.SHOWN:
            lines.append(f"  ... and {self.total - self.SHOWN} more.")
        lines.append("Mend the file and import it again.")
        super().__init__("\n".join(lines))
