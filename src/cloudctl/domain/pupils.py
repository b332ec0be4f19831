"""Pupils: importing class lists from the MIS, finding pupils, and replacing temporary UPNs.

An import is all or nothing and runs in the caller's one transaction. It streams the file once: each valid
row is compared with the pupil already held under its UPN (by a fingerprint of the compared fields, so a
million existing pupils need not sit in memory as objects), and new and changed pupils are written with
SQLAlchemy Core bulk statements in chunks. If any row is invalid, writing stops and ImportRejected is
raised, so the caller's transaction rolls back and the database is as it was. Unchanged pupils are not
rewritten. Pupils missing from a full import leave the roll but are never deleted: their consent history
stays, and they come back on roll if a later import lists them again.

For other modules: `get_pupil` (by UPN, NotFound with a clear message), `pupils_query` / `list_pupils`
(by class, year, on roll), `pupil_record` (the dict every output uses).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, String, bindparam, func, insert, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine
from sqlmodel import Session, select

from cloudctl.db.models import Pupil, UpnChange, utcnow
from cloudctl.domain.roll_guard import check_leavers
from cloudctl.domain.upn_identity import (
    NewUpns,
    refuse_a_replaced_upn,
    replaced_upn_message,
    replaced_upns,
    same_child_problems,
)
from cloudctl.errors import Conflict, ImportRejected, InvalidInput, NotFound
from cloudctl.importers.class_list import ClassList, PupilRow, upn_key
from cloudctl.vocab.dates import format_date
from cloudctl.vocab.text import NAME_LIMIT, fold_for_search, gate_name, gate_text, search_matches
from cloudctl.vocab.upn import check_upn
from cloudctl.vocab.year_groups import YEAR_CODES, parse_year_code

if TYPE_CHECKING:
    from sqlmodel.sql.expression import SelectOfScalar

    from cloudctl.db.engine import Database

# Rows per bulk statement: big enough to be fast, small enough to keep memory flat.
CHUNK = 10_000
# Ids per "id IN (...)" query: well inside every database's limit on parameters.
IN_CHUNK = 500
# The fields an import compares and may change (the UPN is the key; created_at never changes).
COMPARED = (
    "forename",
    "surname",
    "preferred_forename",
    "preferred_surname",
    "dob",
    "gender",
    "year_group",
    "class_name",
    "admission_number",
)
# Every pupil record's keys, in order: the UPN, the compared fields, and where the pupil stands.
RECORD_KEYS = ("upn", "upn_temporary", *COMPARED, "on_roll", "left_on")
DEMO_CLASS_LIST = "demo-class-list.csv"
# The bundled class list is an export made at the start of the 2026-27 school year.
DEMO_AS_OF = date(2026, 9, 1)
_YEAR_ORDER = {code: index for index, code in enumerate(YEAR_CODES)}

Progress = Callable[[int, int], None]


# -- records and lookups ---------------------------------------------------------------------------


def pupil_record(pupil: Pupil) -> dict:
    """A pupil as every list, show and export gives it: snake_case keys, ISO dates, NC year codes."""
    return {
        "upn": pupil.upn,
        "upn_temporary": pupil.upn_temporary,
        "forename": pupil.forename,
        "surname": pupil.surname,
        "preferred_forename": pupil.preferred_forename,
        "preferred_surname": pupil.preferred_surname,
        "dob": format_date(pupil.dob),
        "gender": pupil.gender,
        "year_group": pupil.year_group,
        "class_name": pupil.class_name,
        "admission_number": pupil.admission_number,
        "on_roll": pupil.on_roll,
        "left_on": format_date(pupil.left_on),
    }


def clean_upn(text: str) -> str:
    """A UPN as typed, without spaces, in capitals; a control character in it is refused by the text gate."""
    return "".join((gate_text(text, "UPN", limit=NAME_LIMIT) or "").split()).upper()


def find_pupil(session: Session, upn: str) -> Pupil | None:
    """The pupil with this UPN (spaces and case ignored), or None."""
    return session.exec(select(Pupil).where(Pupil.upn == clean_upn(upn))).first()


def get_pupil(session: Session, upn: str) -> Pupil:
    """The pupil with this UPN; NotFound says why not (a replaced UPN, a mistyped one, or no such pupil)."""
    pupil = find_pupil(session, upn)
    if pupil is not None:
        return pupil
    key = clean_upn(upn)
    if not key:
        raise InvalidInput("Give the pupil's UPN (13 characters, e.g. H801200001001).")
    replaced = session.exec(
        select(UpnChange).where(UpnChange.old_upn == key).order_by(UpnChange.changed_at.desc())
    ).first()
    if replaced is not None:
        current = session.get(Pupil, replaced.pupil_id)
        raise NotFound(
            f"The UPN {key} was replaced by {current.upn} on {replaced.changed_at.date().isoformat()}. "
            f"Use the new one: cloudctl pupil show {current.upn}"
        )
    try:
        check_upn(key)
    except InvalidInput as error:
        raise NotFound(f"There is no pupil with UPN {key}: {error.message}") from None
    raise NotFound(
        f"There is no pupil with UPN {key}. Find a pupil by name with: cloudctl pupil search NAME "
        "(or import the class list first: cloudctl pupil import FILE)"
    )


def previous_upns(session: Session, pupil: Pupil) -> list[str]:
    """The pupil's earlier UPNs, oldest first."""
    changes = session.exec(
        select(UpnChange).where(UpnChange.pupil_id == pupil.id).order_by(UpnChange.changed_at, UpnChange.id)
    ).all()
    return [change.old_upn for change in changes]


def show_pupil_record(session: Session, upn: str) -> dict:
    pupil = get_pupil(session, upn)
    record = pupil_record(pupil)
    record["previous_upns"] = previous_upns(session, pupil)
    return record


def clean_class(text: str) -> str:
    return gate_name(text, "class", required=False) or ""


def pupils_query(
    *, class_name: str | None = None, year: str | None = None, include_left: bool = False
) -> SelectOfScalar[Pupil]:
    """A SELECT of pupils (on roll unless include_left) in a class (any case) and/or year (any spelling).

    Compose it further (joins, more conditions) and run it with session.exec(...). Rows come unordered:
    sort with `pupil_sort_key`.
    """
    query = select(Pupil)
    if not include_left:
        query = query.where(Pupil.on_roll == True)  # noqa: E712 (SQL, not Python)
    if class_name is not None:
        query = query.where(func.lower(Pupil.class_name) == clean_class(class_name).lower())
    if year is not None:
        gate_name(year, "year group")
    if year is not None:
        query = query.where(Pupil.year_group == parse_year_code(year))
    return query


def pupil_sort_key(pupil: Pupil) -> tuple:
    """Curriculum order (N1, N2, R, 1 ... 14), then class, surname and forename."""
    return (
        _YEAR_ORDER.get(pupil.year_group, len(_YEAR_ORDER)),
        (pupil.class_name or "").casefold(),
        pupil.surname.casefold(),
        pupil.forename.casefold(),
        pupil.upn,
    )


def list_pupils(
    session: Session, *, class_name: str | None = None, year: str | None = None, include_left: bool = False
) -> list[Pupil]:
    """Pupils on roll (or all), optionally in one class and/or year, in curriculum and name order."""
    pupils = session.exec(pupils_query(class_name=class_name, year=year, include_left=include_left)).all()
    return sorted(pupils, key=pupil_sort_key)


def class_names(session: Session) -> list[str]:
    """The classes that pupils on roll are in."""
    names = session.exec(select(Pupil.class_name).where(Pupil.on_roll == True).distinct()).all()  # noqa: E712
    return sorted((name for name in names if name), key=str.casefold)


def search_pupils(session: Session, text: str) -> list[Pupil]:
    """Pupils (on roll first, then those who left) whose names hold every word of text, or whose UPN,
    earlier UPN or admission number is the text."""
    typed = gate_name(text, "search text", required=False) or ""
    if not fold_for_search(typed):
        raise InvalidInput("Give part of a pupil's name, their UPN or their admission number to search for.")
    key = clean_upn(text)
    names = select(
        Pupil.id,
        Pupil.upn,
        Pupil.forename,
        Pupil.surname,
        Pupil.preferred_forename,
        Pupil.preferred_surname,
        Pupil.admission_number,
    )
    found: set[int] = set()
    for pupil_id, upn, *name_parts, admission_number in session.exec(names):
        if upn == key or (admission_number and admission_number.lstrip("0") == key.lstrip("0") and key):
            found.add(pupil_id)
            continue
        if search_matches(typed, " ".join(part for part in name_parts if part)):
            found.add(pupil_id)
    if len(key) == 13:
        found.update(session.exec(select(UpnChange.pupil_id).where(UpnChange.old_upn == key)).all())
    if not found:
        return []
    pupils: list[Pupil] = []
    ids = sorted(found)
    for start in range(0, len(ids), IN_CHUNK):
        pupils += session.exec(select(Pupil).where(Pupil.id.in_(ids[start : start + IN_CHUNK]))).all()
    return sorted(pupils, key=lambda pupil: (not pupil.on_roll, *pupil_sort_key(pupil)))


# -- changing a UPN --------------------------------------------------------------------------------


def change_upn(session: Session, old: str, new: str) -> tuple[Pupil, str]:
    """Give a pupil their new UPN (a permanent one for a temporary one), keeping their history.

    Returns the pupil and their old UPN; the change is recorded in upn_change.
    """
    pupil = get_pupil(session, old)
    replacement = check_upn(clean_upn(new))
    if replacement.value == pupil.upn:
        raise InvalidInput(f"The pupil's UPN is already {pupil.upn}: nothing to change.")
    refuse_a_replaced_upn(session, replacement.value, pupil.id)
    holder = find_pupil(session, replacement.value)
    if holder is not None:
        raise Conflict(
            f"The UPN {replacement.value} already belongs to another pupil's record, so it cannot be given "
            f"to the pupil with UPN {pupil.upn}. Check both UPNs against the MIS: cloudctl pupil show "
            f"{replacement.value}"
        )
    previous = pupil.upn
    session.add(UpnChange(pupil_id=pupil.id, old_upn=previous, new_upn=replacement.value))
    pupil.upn = replacement.value
    pupil.upn_temporary = replacement.temporary
    pupil.updated_at = utcnow()
    session.add(pupil)
    session.flush()
    return pupil, previous


# -- importing a class list ------------------------------------------------------------------------


@dataclass
class PupilChange:
    """One pupil an import adds, updates, brings back on roll or takes off roll."""

    action: str  # added, updated, returning, leaving
    upn: str
    surname: str
    forename: str
    year_group: str
    class_name: str | None
    fields: list[str] = field(default_factory=list)
    line: int | None = None

    def record(self) -> dict:
        return {
            "action": self.action,
            "line": self.line,
            "upn": self.upn,
            "surname": self.surname,
            "forename": self.forename,
            "year_group": self.year_group,
            "class_name": self.class_name,
            "fields": self.fields,
        }


@dataclass
class ImportSummary:
    file: str
    encoding: str
    delimiter: str
    as_of: date
    partial: bool
    dry_run: bool
    added: int = 0
    updated: int = 0
    returning: int = 0
    leaving: int = 0
    unchanged: int = 0
    temporary: int = 0  # rows with a temporary UPN
    notes_ignored: int = 0  # rows after the last pupil taken as notes
    on_roll_before: int = 0  # pupils on roll before the import
    # For a dry run that a real import would refuse without --allow-leavers: what to do.
    leavers_note: str | None = None
    changes: list[PupilChange] = field(default_factory=list)  # only when details were asked for
    # Said after the counts: the sheet read, duplicate headings resolved, columns not read.
    warnings: list[str] = field(default_factory=list)

    @property
    def pupils(self) -> int:
        return self.added + self.updated + self.returning + self.unchanged

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "returning": self.returning,
            "leaving": self.leaving,
            "unchanged": self.unchanged,
        }

    def describe(self) -> str:
        """One plain sentence: what the import did (or would do)."""
        if self.dry_run:
            parts = [
                f"{self.added} to add",
                f"{self.updated} to update",
                f"{self.returning} coming back on roll",
                f"{self.leaving} leaving the roll",
                f"{self.unchanged} unchanged",
            ]
            text = f"Dry run of {self.file}: {', '.join(parts)}. Nothing was written."
            if self.leavers_note:
                text += f" {self.leavers_note}"
        else:
            parts = [
                f"{self.added} added",
                f"{self.updated} updated",
                f"{self.returning} back on roll",
                f"{self.leaving} left the roll"
                + (f" (leaving date {self.as_of.isoformat()})" if self.leaving else ""),
                f"{self.unchanged} unchanged",
            ]
            text = f"Imported {self.file}: {', '.join(parts)}."
        if self.partial:
            text += " A partial list: nobody was taken off the roll."
        if self.notes_ignored:
            text += f" {self.notes_ignored} row(s) below the last pupil were taken as notes and ignored."
        if self.temporary:
            text += (
                f" {self.temporary} pupil(s) have a temporary UPN: when the MIS has the permanent one, run "
                "cloudctl pupil change-upn OLD NEW."
            )
        return "\n".join([text, *self.warnings])


class _Held:
    """The pupils already in the database, compactly, so that a trust's million pupils fit in memory:
    parallel arrays of id, fingerprint and on-roll flag, found by UPN through a sorted array of UPN keys
    (a few bytes a pupil, where a dict of UPN strings takes over a hundred).

    A fingerprint (hash of the compared fields) stands in for each pupil's values; a changed row is read
    back in full only when the dry run has to say which fields changed.
    """

    def __init__(self) -> None:
        self.ids = array("q")
        self.prints = array("q")
        self.on_roll = bytearray()
        self.seen = bytearray()
        self.keys = array("q")  # sorted UPN keys ...
        self.positions = array("q")  # ... and where each pupil is in the arrays above

    def load(self, session: Session, compared: Sequence[str]) -> None:
        table = Pupil.__table__
        connection = session.connection()
        # The date of birth as ISO text, last: (other compared values, dob) is what `fingerprint` hashes.
        if connection.dialect.name == "postgresql":
            dob = func.to_char(table.c.dob, "YYYY-MM-DD")
        else:
            dob = table.c.dob  # SQLite stores ISO text: read it as it is, without parsing a date per row
        columns = [table.c.id, table.c.upn, table.c.on_roll]
        columns += [table.c[name] for name in compared if name != "dob"]
        columns.append(type_coerce(dob, String).label("dob"))
        query = select(*columns).execution_options(yield_per=CHUNK)
        keys, ids, prints, on_roll = array("q"), self.ids, self.prints, self.on_roll
        for row in connection.execute(query):
            try:
                keys.append(upn_key(row[1]))
            except (ValueError, IndexError):
                keys.append(-1 - len(ids))  # not a UPN an import could hold, so it never matches one
            ids.append(row[0])
            prints.append(hash((row[3:-1], row[-1])))
            on_roll.append(row[2])
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = array("q", map(keys.__getitem__, order))
        self.positions = array("q", order)
        self.seen = bytearray(len(ids))

    def find(self, upn: str) -> int | None:
        """Where the pupil with this (valid) UPN is in the arrays, or None for a new pupil."""
        if not self.keys:
            return None  # a first import: every pupil is new
        key = upn_key(upn)
        index = bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            return self.positions[index]
        return None

    def in_file(self, upn: str) -> bool:
        """Whether the held pupil with this UPN is in the file being imported (read so far)."""
        position = self.find(upn)
        return position is not None and bool(self.seen[position])


def _bind_processor(type_: TypeEngine, dialect: Dialect) -> Callable | None:
    """What SQLAlchemy does to a value of this type before the driver gets it (the dialect's own form:
    SQLite's DATE and DATETIME are text)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


class _Bulk:
    """A Core statement compiled once and run with executemany, a chunk of rows at a time.

    Executing a Core statement with a list of dicts makes SQLAlchemy run every column's bind processor on
    every value of every row, which cost more than SQLite's own work for a large class list. Here the same
    processors (so the database receives the same values) run once per distinct value, from a cache:
    dates of birth repeat, flags and timestamps are constant, and names need no processing.
    """

    def __init__(self, connection: Connection, statement: Executable, column_keys: list[str] | None = None):
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.connection = connection
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        self.processors = []
        for index, name in enumerate(self.names):
            process = _bind_processor(compiled.binds[name].type, dialect)
            if process is not None:
                self.processors.append((index, process, {}))
        self.pending: list[tuple | dict] = []

    def add(self, values: list) -> None:
        """One row's values, in the order of `names`."""
        for index, process, cache in self.processors:
            value = values[index]
            if value is not None:
                done = cache.get(value)
                if done is None:
                    done = process(value)
                    if len(cache) < 100_000:
                        cache[value] = done
                values[index] = done
        self.pending.append(tuple(values) if self.positional else dict(zip(self.names, values, strict=True)))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.connection.exec_driver_sql(self.sql, self.pending)
            self.pending = []


class _Writer:
    """The import's inserts, updates and leavers, each a bulk statement; or nothing at all (a dry run)."""

    def __init__(self, session: Session, compared: Sequence[str], *, write: bool) -> None:
        self.connection = session.connection() if write else None
        self.now = utcnow()
        table = Pupil.__table__
        if self.connection is None:
            return
        row_fields = [name for name in PupilRow._fields if name != "line"]
        constants = {"on_roll": True, "left_on": None, "created_at": self.now, "updated_at": self.now}
        self.inserts = _Bulk(self.connection, insert(table), [*row_fields, *constants])
        # Values come from the row, then the constants: check the compiled order agrees.
        if self.inserts.names != [*row_fields, *constants]:
            raise RuntimeError(f"unexpected column order in {self.inserts.sql}")
        dialect = self.connection.dialect
        self.process_dob = _bind_processor(table.c.dob.type, dialect) or (lambda value: value)
        process_flag = _bind_processor(table.c.upn_temporary.type, dialect) or (lambda value: value)
        self.flags = {False: process_flag(False), True: process_flag(True)}
        self.dob_params: dict[date, object] = {}
        self.insert_constants = tuple(
            value
            if value is None or (process := _bind_processor(table.c[name].type, dialect)) is None
            else process(value)
            for name, value in constants.items()
        )
        changes = {name: bindparam(f"b_{name}") for name in (*compared, "on_roll", "left_on", "updated_at")}
        self.updates = _Bulk(
            self.connection, update(table).where(table.c.id == bindparam("b_id")).values(changes)
        )
        self.update_constants = {"b_on_roll": True, "b_left_on": None, "b_updated_at": self.now}
        leave = {name: bindparam(f"b_{name}") for name in ("on_roll", "left_on", "updated_at")}
        self.leavers = _Bulk(
            self.connection, update(table).where(table.c.id == bindparam("b_id")).values(leave)
        )

    def add(self, row: PupilRow) -> None:
        if self.connection is None:
            return
        # The row's values are already in the columns' order (checked above); only the date of birth and
        # the flag need the dialect's processing, and both repeat, so the processed forms are cached.
        dob = self.dob_params.get(row[7])
        if dob is None:
            dob = self.dob_params[row[7]] = self.process_dob(row[7])
        inserts = self.inserts
        # PupilRow is (line, upn, upn_temporary, forename, surname, preferred forename, preferred surname,
        # dob, gender, year_group, class_name, admission_number): indexed, not sliced, for a million rows.
        values = (
            row[1],
            self.flags[row[2]],
            row[3],
            row[4],
            row[5],
            row[6],
            dob,
            row[8],
            row[9],
            row[10],
            row[11],
            *self.insert_constants,
        )
        pending = inserts.pending
        pending.append(values if inserts.positional else dict(zip(inserts.names, values, strict=True)))
        if len(pending) >= CHUNK:
            inserts.flush()

    def change(self, pupil_id: int, values: dict) -> None:
        if self.connection is not None:
            params = {"b_id": pupil_id, **self.update_constants}
            params.update((f"b_{name}", value) for name, value in values.items())
            self.updates.add([params[name] for name in self.updates.names])

    def flush(self) -> None:
        if self.connection is not None:
            self.inserts.flush()
            self.updates.flush()

    def discard(self) -> None:
        """Stop writing: a problem was found, so the transaction will be rolled back anyway."""
        if self.connection is not None:
            self.inserts.pending.clear()
            self.updates.pending.clear()
        self.connection = None

    def leave(self, ids: Sequence[int], on: date) -> None:
        if self.connection is None:
            return
        params = {"b_on_roll": False, "b_left_on": on, "b_updated_at": self.now}
        for pupil_id in ids:
            params["b_id"] = pupil_id
            self.leavers.add([params[name] for name in self.leavers.names])
        self.leavers.flush()


def import_class_list(
    session: Session,
    path: Path,
    *,
    as_of: date | None = None,
    partial: bool = False,
    dry_run: bool = False,
    encoding: str | None = None,
    details: bool = False,
    progress: Progress | None = None,
    allow_leavers: int | None = None,
) -> ImportSummary:
    """Import a class list exported from the MIS: add new pupils, update changed ones by UPN, take pupils
    missing from a full list off the roll (leaving date = as_of, default today) and bring back any who
    reappear. All or nothing: raises ImportRejected (nothing written by this function survives, as the
    caller's transaction rolls back) if any row is invalid, names a replaced UPN or a pupil held under
    another UPN (`upn_identity`); RuleRefused if a full list would take more than a quarter of the roll off
    it and `allow_leavers` does not confirm the count (`roll_guard`).

    dry_run writes nothing; details collects every change (with the fields) in the summary's `changes`.
    """
    as_of = as_of or date.today()
    from cloudctl.domain.settings import get_settings, school_years

    taught = school_years(get_settings(session))
    with ClassList(path, as_of=as_of, encoding=encoding, taught=taught) as class_list:
        present = class_list.present
        compared = [name for name in COMPARED if name in present]
        fingerprint = _fingerprinter(compared)
        held = _Held()
        held.load(session, compared)
        summary = ImportSummary(
            file=path.name,
            encoding=class_list.encoding,
            delimiter=class_list.delimiter,
            as_of=as_of,
            partial=partial,
            dry_run=dry_run,
            on_roll_before=held.on_roll.count(1),
        )
        # One child, one record: replaced UPNs may not come back, and new UPNs are compared (once the file
        # is read) with the pupils held under other UPNs. Neither is possible in an empty database.
        replaced = replaced_upns(session) if held.ids else {}
        new_upns = NewUpns() if held.ids else None
        upn_column = class_list.heading.column("upn")
        writer = _Writer(session, compared, write=not dry_run)
        pending: list[tuple[int, PupilRow]] = []  # changed rows whose old values the details need
        problems = class_list.problems
        values_of = attrgetter(*compared)
        position_of, seen, prints, on_roll, ids = (
            held.find,
            held.seen,
            held.prints,
            held.on_roll,
            held.ids,
        )
        added = unchanged = temporary = 0
        returning_ids: list[int] = []  # pupils back on roll: a provider may have deleted their data
        for count, row in enumerate(class_list.rows(), start=1):
            if progress is not None and count % 5000 == 0:
                progress(class_list.bytes_read, class_list.size)
            position = position_of(row.upn) if ids else None  # nothing held: every pupil is new
            if position is None and replaced and row.upn in replaced:
                problems.add(row.line, upn_column, row.upn, replaced_upn_message(replaced[row.upn]))
            if problems.total:
                writer.discard()
                continue
            temporary += row.upn_temporary
            if position is None:
                added += 1
                writer.add(row)
                if new_upns is not None:
                    new_upns.add(row.line, row.upn, row.forename, row.surname, row.dob, row.admission_number)
                if details:
                    summary.changes.append(_change("added", row))
                continue
            seen[position] = 1
            same = fingerprint(row) == prints[position]
            if same and on_roll[position]:
                unchanged += 1
                continue
            if same or not on_roll[position]:
                summary.returning += 1
                returning_ids.append(ids[position])
            else:
                summary.updated += 1
            writer.change(ids[position], dict(zip(compared, values_of(row), strict=True)))
            if details:
                pending.append((ids[position], row))
                if len(pending) >= CHUNK:
                    _describe_changes(session, pending, compared, summary)
        summary.added, summary.unchanged, summary.temporary = added, unchanged, temporary
        summary.notes_ignored = class_list.notes_ignored
        summary.warnings = class_list.warnings
        if returning_ids and not problems:
            from cloudctl.domain.holdings import rejoin_warning

            summary.warnings += rejoin_warning(session, returning_ids, dry_run=dry_run)
        if progress is not None:
            progress(class_list.size, class_list.size)
        if problems:
            raise problems.rejection(path.name)
        if class_list.rows_read == 0:
            raise InvalidInput(
                f"{path.name} has a heading row but no pupils under it. Export the class list again, with "
                "the pupils' rows, and import that."
            )
        if new_upns is not None and (
            same_child := same_child_problems(session, new_upns, held.in_file, upn_column)
        ):
            raise ImportRejected(path.name, same_child)
        leaving = [] if partial else _leaving(held)
        summary.leaving = len(leaving)
        summary.leavers_note = check_leavers(
            path.name,
            on_roll=summary.on_roll_before,
            leaving=len(leaving),
            allow_leavers=allow_leavers,
            partial=partial,
            dry_run=dry_run,
        )
        writer.flush()
        if details:
            _describe_changes(session, pending, compared, summary)
        if details and leaving:
            _describe_leavers(session, leaving, summary)
        writer.leave(leaving, as_of)
    return summary


def _fingerprinter(compared: Sequence[str]) -> Callable[[PupilRow], int]:
    """hash((the other compared values, the date of birth as ISO text)), as `_Held.load` hashes rows read
    from the database. 64 bits: two different sets of values share one with a chance of about 1 in 10^19.
    """
    others = attrgetter(*(name for name in compared if name != "dob"))
    iso: dict[date, str] = {}

    def fingerprint(row: PupilRow) -> int:
        text = iso.get(row.dob)
        if text is None:
            text = iso[row.dob] = row.dob.isoformat()
        return hash((others(row), text))

    return fingerprint


def _change(action: str, row: PupilRow, fields: list[str] | None = None) -> PupilChange:
    return PupilChange(
        action, row.upn, row.surname, row.forename, row.year_group, row.class_name, fields or [], row.line
    )


def _describe_changes(
    session: Session, pending: list[tuple[int, PupilRow]], compared: Sequence[str], summary: ImportSummary
) -> None:
    """Read back the old values of changed pupils to say which fields an import changes."""
    table = Pupil.__table__
    columns = [table.c.id, table.c.on_roll, *(table.c[name] for name in compared)]
    for start in range(0, len(pending), IN_CHUNK):
        part = pending[start : start + IN_CHUNK]
        query = select(*columns).where(table.c.id.in_([pupil_id for pupil_id, _ in part]))
        old = {row.id: row for row in session.connection().execute(query)}
        for pupil_id, row in part:
            before = old[pupil_id]
            fields = [name for name in compared if getattr(before, name) != getattr(row, name)]
            summary.changes.append(_change("updated" if before.on_roll else "returning", row, fields))
    pending.clear()


def _leaving(held: _Held) -> list[int]:
    on_roll, seen, ids = held.on_roll, held.seen, held.ids
    return [ids[position] for position in range(len(ids)) if on_roll[position] and not seen[position]]


def _describe_leavers(session: Session, leaving: list[int], summary: ImportSummary) -> None:
    pupils: list[Pupil] = []
    for start in range(0, len(leaving), IN_CHUNK):
        pupils += session.exec(select(Pupil).where(Pupil.id.in_(leaving[start : start + IN_CHUNK]))).all()
    for pupil in sorted(pupils, key=pupil_sort_key):
        summary.changes.append(
            PupilChange(
                "leaving", pupil.upn, pupil.surname, pupil.forename, pupil.year_group, pupil.class_name
            )
        )


# -- the demo --------------------------------------------------------------------------------------


def import_demo_pupils(db: Database) -> ImportSummary:
    """Import the bundled, fictional class list (R to Y6) into the demo database."""
    from importlib import resources

    source = resources.files("cloudctl").joinpath("data", DEMO_CLASS_LIST)
    with resources.as_file(source) as path, db.write() as session:
        return import_class_list(session, path, as_of=DEMO_AS_OF)
