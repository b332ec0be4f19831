"""The leavers guard: a full class list may not take a large part of the roll off it by accident.

A full import takes every pupil it does not list off the roll. Imported by mistake, one class's list, a list
cut short or the wrong school's export would take most of the school off the roll (their consent still held,
but every service's enrolment export would leave them out). So when a full import would take more than a
quarter of the pupils on roll off it, it is refused unless `--allow-leavers N` confirms exactly that count:
the person importing has looked at the number (the dry run always shows it) and means it.

Below MINIMUM_LEAVERS the quarter rule does not apply: in a very small school (fewer than 16 on roll) a
handful of leavers is ordinary (a family moving away takes three children from a roll of ten), and a wrong
file would take more than that.
"""

from __future__ import annotations

from cloudctl.errors import InvalidInput, RuleRefused

MINIMUM_LEAVERS = 4
# A full import may take up to this share of the pupils on roll off it without --allow-leavers.
SHARE = 0.25


def needs_confirmation(on_roll: int, leaving: int) -> bool:
    """Whether a full import taking `leaving` of `on_roll` pupils off the roll must be confirmed."""
    return leaving >= MINIMUM_LEAVERS and leaving > on_roll * SHARE


def check_leavers(
    file: str, *, on_roll: int, leaving: int, allow_leavers: int | None, partial: bool, dry_run: bool
) -> str | None:
    """Refuse a full import that would take too many pupils off the roll unless `allow_leavers` is exactly
    that count, and any `allow_leavers` that is not the count. For a dry run, which refuses only a wrong
    count, the note to show instead of refusing (None when the import needs no confirmation)."""
    if allow_leavers is not None:
        if partial:
            raise InvalidInput(
                "--allow-leavers confirms how many pupils a full import takes off the roll, and a partial "
                "import (--partial) takes nobody off it: leave out one of the two."
            )
        if allow_leavers != leaving:
            raise RuleRefused(
                f"{file} would take {leaving} pupil(s) off the roll, not {allow_leavers}, so nothing was "
                f"imported. See who with --dry-run; if {leaving} is right, import with --allow-leavers "
                f"{leaving}."
            )
        return None
    if partial or not needs_confirmation(on_roll, leaving):
        return None
    what = (
        f"{file} would take {leaving} of the {on_roll} pupils on roll off the roll, more than a quarter. "
        "If the file is only part of the school (one class or year group), import it with --partial. If "
        f"{leaving} pupils really have left, import it with --allow-leavers {leaving} to confirm that count"
    )
    if dry_run:
        return f"A real import would be refused: {what}."
    raise RuleRefused(f"Nothing was imported: {what}.")
