"""One child, one record: the UPNs a class list may not bring in as a new pupil.

A UPN names one child for life, and cloudctl keeps every UPN a pupil has had (upn_change). A class list can
still split a child from their record, and their consent history, in two ways; both are refused, with the
line and what to do, before anything is written:

1. **A replaced UPN.** After `cloudctl pupil change-upn OLD NEW`, a list that still carries OLD (exported
   before the MIS was corrected, or from a stale copy) would add OLD as a new pupil with no history. OLD
   never becomes a pupil again: mend the MIS or the file.
2. **The same child under a new UPN.** When the MIS replaces a UPN (a temporary one by the permanent one, or
   a mistyped permanent one corrected), the list carries the new UPN while cloudctl holds the child under
   the old one. A new UPN whose name and date of birth (and admission number, where both have one) are
   those of a pupil held under another UPN is that child: `pupil change-upn` moves the record first.

Names are compared as people mean them (`cloudctl.vocab.text.fold_name`): one Unicode spelling ("Zoe" with a
combining diaeresis is "Zoë"), no case, no invisible characters, runs of spaces as one; admission numbers
without leading zeros (Excel drops them).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from cloudctl.db.models import Pupil, UpnChange
from cloudctl.errors import Conflict, Problem
from cloudctl.importers.class_list import upn_key
from cloudctl.vocab.text import fold_name

# Dates of birth per "dob IN (...)" query: well inside every database's limit on parameters.
_IN_CHUNK = 500


@dataclass(frozen=True)
class ReplacedUpn:
    """A UPN that `pupil change-upn` replaced, and the UPN the pupil has now."""

    pupil_id: int
    current_upn: str
    changed_on: date


def replaced_upns(session: Session) -> dict[str, ReplacedUpn]:
    """Every UPN that was replaced, with its pupil's UPN now (a UPN replaced twice: the latest change)."""
    changes = Pupil.__table__.join(UpnChange.__table__, UpnChange.pupil_id == Pupil.id)
    query = (
        select(UpnChange.old_upn, UpnChange.pupil_id, UpnChange.changed_at, Pupil.upn)
        .select_from(changes)
        .order_by(UpnChange.changed_at, UpnChange.id)
    )
    replaced: dict[str, ReplacedUpn] = {}
    for old_upn, pupil_id, changed_at, current in session.connection().execute(query):
        if old_upn != current:  # a UPN changed back is the pupil's own again
            replaced[old_upn] = ReplacedUpn(pupil_id, current, _day(changed_at))
    return replaced


def replaced_upn_message(replaced: ReplacedUpn) -> str:
    current = replaced.current_upn
    return (
        f"this UPN was replaced by {current} on {replaced.changed_on.isoformat()} (cloudctl pupil "
        "change-upn), so importing it would add the pupil a second time, without their record or consent "
        f"history. Correct the pupil's UPN to {current} in the MIS and export the list again, or change it "
        "to that in this file."
    )


def refuse_a_replaced_upn(session: Session, upn: str, pupil_id: int) -> None:
    """`change-upn` may not give a pupil a UPN that was replaced on another pupil's record: it names that
    child. (Going back to the pupil's own earlier UPN, to undo a mistake, is allowed.)"""
    replaced = replaced_upns(session).get(upn)
    if replaced is not None and replaced.pupil_id != pupil_id:
        raise Conflict(
            f"The UPN {upn} was another pupil's until {replaced.changed_on.isoformat()}, when it was "
            f"replaced by {replaced.current_upn}: a UPN names one child, so it cannot be given to this "
            f"pupil. Check both UPNs against the MIS: cloudctl pupil show {replaced.current_upn}"
        )


def _day(value: datetime | date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _same_names(forename: str, surname: str, dob: date | str) -> int:
    return hash((fold_name(forename), fold_name(surname), dob if isinstance(dob, str) else dob.isoformat()))


_NO_ADMISSION = 0


def _admission(value: str | None) -> int:
    """An admission number as compared (a hash, without leading zeros); _NO_ADMISSION when there is none."""
    if not value or not value.strip():
        return _NO_ADMISSION
    return hash(value.strip().lstrip("0") or "0") or 1


def upn_from_key(key: int) -> str:
    """The UPN `class_list.upn_key` made this integer from."""
    rest, last = key >> 6, key & 63
    return f"{chr(rest // 10**11)}{rest % 10**11:011d}{chr(last + (48 if last < 10 else 55))}"


class NewUpns:
    """The rows an import adds under UPNs cloudctl has never held, kept compactly (32 bytes a row: a trust's
    import may add a million): their line, UPN, a hash of name and date of birth, and admission number. After
    the file is read they are compared with the pupils already held (`same_child_problems`)."""

    def __init__(self) -> None:
        self.lines = array("q")
        self.prints = array("q")
        self.upns = array("q")
        self.admissions = array("q")
        self.dobs: set[date] = set()

    def add(self, line: int, upn: str, forename: str, surname: str, dob: date, admission: str | None) -> None:
        self.lines.append(line)
        self.prints.append(_same_names(forename, surname, dob))
        self.upns.append(upn_key(upn))
        self.admissions.append(_admission(admission))
        self.dobs.add(dob)

    def __len__(self) -> int:
        return len(self.lines)


def same_child_problems(
    session: Session, new: NewUpns, in_file: Callable[[str], bool], upn_column: str
) -> list[Problem]:
    """A problem for each new UPN that is a pupil already held under another UPN (same name and date of
    birth, and admission number where both have one). `in_file(upn)` says whether that held UPN is also in
    the file being imported."""
    if not new:
        return []
    held: dict[int, list[tuple[str, int]]] = {}
    for dobs in _chunks(sorted(new.dobs), _IN_CHUNK):
        query = select(Pupil.upn, Pupil.forename, Pupil.surname, Pupil.dob, Pupil.admission_number).where(
            Pupil.dob.in_(dobs)
        )
        for upn, forename, surname, dob, admission in session.connection().execute(query):
            held.setdefault(_same_names(forename, surname, dob), []).append((upn, _admission(admission)))
    if not held:
        return []
    problems = []
    for index, found in enumerate(new.prints):
        candidates = held.get(found)
        if not candidates:
            continue
        admission = new.admissions[index]
        matches = [
            upn
            for upn, held_admission in candidates
            if _NO_ADMISSION in (admission, held_admission) or admission == held_admission
        ]
        if matches:
            upn = upn_from_key(new.upns[index])
            problems.append(
                Problem(new.lines[index], upn_column, upn, _same_child_message(upn, matches, in_file))
            )
    return problems


def _same_child_message(upn: str, matches: list[str], in_file: Callable[[str], bool]) -> str:
    same = "the same name and date of birth (and admission number, where both have one)"
    if len(matches) == 1 and not in_file(matches[0]):
        old = matches[0]
        return (
            f"this new UPN has {same} as the pupil held with UPN {old}, who is not in this file: the MIS "
            "has probably replaced that pupil's UPN. Importing it would add the pupil a second time and "
            "leave their record and consent history behind. If they are two different children, export the "
            "list with its admission number column; if it is the same child, run this and import the file "
            f"again: cloudctl pupil change-upn {old} {upn}"
        )
    listed = ", ".join(matches)
    also = " (also in this file)" if any(in_file(match) for match in matches) else ""
    return (
        f"this new UPN has {same} as the pupil(s) held with UPN {listed}{also}: one child must not have two "
        "records. Check the UPNs in the MIS. If this row is one of them with a corrected UPN, run cloudctl "
        f"pupil change-upn OLD {upn} (OLD being that pupil's UPN here) and import again; if they are "
        "different children, export the list with the admission number column."
    )


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- a pupil named by a UPN they had before -----------------------------------------------------------


@dataclass(frozen=True)
class ReplacedUpnNote:
    """A command named a pupil by a UPN that `pupil change-upn` replaced: what to tell the user."""

    old_upn: str
    current_upn: str
    changed_on: date

    def says(self, *, recorded: bool = True) -> str:
        done = "recorded for" if recorded else "looked up as"
        return (
            f"UPN {self.old_upn} was replaced by {self.current_upn} on {self.changed_on.isoformat()}; "
            f"{done} {self.current_upn}"
        )


def pupil_by_upn(session: Session, upn: str) -> tuple[Pupil, ReplacedUpnNote | None]:
    """The pupil with this UPN, or the pupil whose UPN it was before `pupil change-upn` replaced it (with a
    note saying so): one child, one record, so consent given or withdrawn under the old UPN is theirs, and a
    withdrawal is never refused for it. NotFound (as `get_pupil`) when it names no pupil at all."""
    from cloudctl.domain.pupils import clean_upn, find_pupil, get_pupil

    pupil = find_pupil(session, upn)
    if pupil is not None:
        return pupil, None
    key = clean_upn(upn)
    replaced = replaced_upns(session).get(key) if key else None
    if replaced is None:
        return get_pupil(session, upn), None  # raises NotFound / InvalidInput, saying why
    pupil = session.get(Pupil, replaced.pupil_id)
    return pupil, ReplacedUpnNote(key, pupil.upn, replaced.changed_on)
