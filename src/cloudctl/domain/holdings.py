"""What each provider holds of each pupil: the one place holdings are worked out.

`deletion list`, `deletion request`, `deletion confirm`, `export enrolment --changes`, `report
providers` and `pupil show` all ask `holdings(...)`; nothing else replays the ledger.

A holding is keyed by (pupil, service, provider): the provider the data was SENT to, as the export
ledger's `export_record` names it when the file went, never the service's provider now. When a service
moves to another company, what the old one was sent stays a holding of the old one (and must be
deleted there); the new one holds nothing until it is sent something.

The events of one holding, in time order:

- a send (a row of a full export, or an add or update of `--changes`): the provider holds the pupil's
  data, with the values and the UPN sent;
- a removal told (a `--changes` remove row, or a deletion request's row): the provider was told to
  remove the pupil; it still holds the data until it confirms;
- a deletion request (`deletion_event` "requested"): open until a confirmation, whatever happens after it
  (a re-opt-in and a new send do not close it: the provider was asked to delete, and must say it did);
- a confirmation: closes every request open before it. The provider no longer holds the data sent up
  to the latest request it closes; data sent after that request is a new holding, still held.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows, fetch_rows_in, placeholders
from cloudctl.db.gc_pauses import without_gc_pauses
from cloudctl.domain.deletion_facts import CONFIRMED, REQUESTED, DeletionFact, deletion_facts, moment

# Rows of the ledger that send data, and the row that tells the provider to remove it.
SENDING_ACTIONS = frozenset({"full", "add", "update"})
REMOVE = "remove"

Key = tuple[int, int, int | None]  # (pupil id, service id, provider id)


@dataclass(slots=True)
class Holding:
    """One provider's holding of one pupil's data for one service, replayed from the ledger and deletions."""

    pupil_id: int
    service_id: int
    provider_id: int | None
    provider_name: str  # as named in the last file sent to it (or in its deletion events)
    held: bool = False  # the provider holds data sent to it and not confirmed deleted
    export_id: int | None = None  # the last file that sent data
    sent_at: str | None = None  # when (canonical time)
    first_sent_at: str | None = None
    upn_sent: str | None = None  # the pupil's UPN in the last send
    upns_sent: tuple[str, ...] = ()  # every UPN the provider was sent, oldest first
    values_text: str | None = None  # the values of the last send (for --changes)
    held_since_export: int | None = None  # the first file of the sends the provider holds now
    told_at: str | None = None  # a removal told (remove row or request) since the last send
    # Tuples, not lists: a whole school's holdings are many small objects, nearly all with none.
    open_requests: tuple[DeletionFact, ...] = ()  # requested, not yet confirmed
    # Each confirmation with the request it closed (None when it closed none), oldest first.
    confirmed: tuple[tuple[DeletionFact | None, DeletionFact], ...] = ()

    @property
    def on_roster(self) -> bool:
        """Held and not told to remove since the last send: what --changes compares values with."""
        return self.held and self.told_at is None

    @property
    def values(self) -> dict[str, object]:
        return json.loads(self.values_text) if self.values_text else {}

    @property
    def requested_since_sent(self) -> bool:
        """An open request made after the last send covers what the provider holds now."""
        if not self.open_requests:
            return False
        since = self.sent_at or ""
        return any(request.recorded_at >= since for request in self.open_requests)

    @property
    def deleted_on(self) -> str | None:
        """The day of the last confirmation (ISO), if any."""
        return self.confirmed[-1][1].on_date if self.confirmed else None

    # --- the replay -------------------------------------------------------------------------------

    def send(self, at: str, export_id: int, upn: str, values_text: str | None, provider_name: str) -> None:
        if not self.held:
            self.held_since_export = export_id
        self.held = True
        self.export_id, self.sent_at, self.upn_sent, self.told_at = export_id, at, upn, None
        self.first_sent_at = self.first_sent_at or at
        self.values_text = values_text
        self.provider_name = provider_name
        if upn not in self.upns_sent:
            self.upns_sent = (*self.upns_sent, upn)

    def tell_removal(self, at: str) -> None:
        if self.held and self.told_at is None:
            self.told_at = at

    def record(self, fact: DeletionFact) -> None:
        if fact.kind == REQUESTED:
            self.open_requests = (*self.open_requests, fact)
            self.tell_removal(fact.recorded_at)
            return
        closed, self.open_requests = self.open_requests, ()
        self.confirmed += tuple((request, fact) for request in closed) or ((None, fact),)
        covers = max((request.recorded_at for request in closed), default=fact.recorded_at)
        if self.sent_at is None or self.sent_at <= covers:
            self.held, self.told_at = False, None


def values_held(session: Session, held: Sequence[Holding]) -> dict[Key, dict]:
    """What each provider holds of each pupil (`values_sent_between` over the sends it holds now)."""
    return values_sent_between(
        session,
        [
            (h.pupil_id, h.service_id, h.provider_id, h.held_since_export, h.export_id)
            for h in held
            if h.held and h.held_since_export is not None and h.export_id is not None
        ],
    )


def values_sent_between(session: Session, spans: Sequence[tuple]) -> dict[Key, dict]:
    """For each (pupil id, service id, provider id, first export id, last export id): the values of every
    file from the first to the last that sent the pupil to that provider, merged (a later value over an
    earlier one; an empty one never over a filled one). So a provider sent names in September and only
    the class since still finds the child by name in a remove row or a deletion request. One read per
    500 pupils."""
    wanted: dict[int, list[tuple]] = {}
    for span in spans:
        wanted.setdefault(span[0], []).append(span)
    merged: dict[Key, dict] = {}
    rows = fetch_rows_in(
        session,
        "SELECT ep.pupil_id, ep.export_id, er.service_id, er.provider_id, ep.sent_values "
        "FROM export_pupil ep JOIN export_record er ON er.id = ep.export_id "
        "WHERE ep.pupil_id IN ({values}) AND ep.action <> ? ORDER BY ep.export_id",
        sorted(wanted),
        after=["remove"],
    )
    for pupil_id, export_id, service_id, provider_id, text in rows:
        for _, service, provider, first, last in wanted[pupil_id]:
            if (service, provider) == (service_id, provider_id) and first <= export_id <= last:
                values = merged.setdefault((pupil_id, service, provider), {})
                values.update((k, v) for k, v in json.loads(text).items() if v not in (None, ""))
    return merged


def replay(holding: Holding, facts: Iterable[DeletionFact]) -> Holding:
    """Apply deletion events (in the order recorded) to a holding with no ledger rows after them: for
    school-management services, whose data the MIS sends (the holding starts held)."""
    for fact in facts:
        holding.record(fact)
    return holding


@without_gc_pauses
def holdings(
    session: Session,
    *,
    service_ids: Sequence[int] | None = None,
    pupil_ids: Sequence[int] | None = None,
    with_values: bool = False,
    as_of: str | None = None,
    settled: Callable[[int, int, int | None, str], bool] | None = None,
) -> dict[Key, Holding]:
    """Every provider's holding of each pupil for these services (default all), replayed in time order.

    One read of the export records, one of their pupil rows, one of the deletion events. With
    `with_values`, the values of each last send are kept (for --changes); else they are not read. With
    `as_of` (an ISO day), the ledger as it stood at the end of that day: files sent after it and deletion
    events dated after it (a confirmation by the provider's date) had not happened.

    `settled(pupil id, service id, provider id, sent at)`: asked of each holding made of one file's send
    and nothing else (no other row, no deletion event); when it answers True the holding is left out of
    the answer, unbuilt. For a caller that needs only the holdings that may have changed since their
    send (`deletion list`: a whole school's are nearly all such single sends)."""
    sql = "SELECT id, service_id, provider_id, provider_name, exported_at FROM export_record"
    params: list = []
    if service_ids is not None:
        sql += f" WHERE service_id IN ({placeholders(len(service_ids))})"
        params += list(service_ids)
    exports = {
        row[0]: (row[1], row[2], row[3], moment(row[4]))
        for row in fetch_rows(session, sql + " ORDER BY id", params)
    }
    facts = deletion_facts(
        session,
        service_ids=list(service_ids) if service_ids is not None else None,
        pupil_ids=list(pupil_ids) if pupil_ids is not None else None,
    )
    if as_of is not None:
        exports = {key: sent for key, sent in exports.items() if sent[3][:10] <= as_of}
        facts = {
            pair: known
            for pair, events in facts.items()
            if (known := [fact for fact in events if fact.on_date <= as_of])
        }
    # Rows come in the order sent. First only the rows are sorted out: a pair with one row and no
    # deletion event (nearly all of a school) is then built whole from its row, with no replay; the
    # others keep their rows, replayed in that order (merged by time with the events where there are
    # some). Keys stay in the order first read.
    found: dict = {}  # key -> its first row, until it is built
    several: dict[Key, list[tuple]] = {}  # keys with more than one row, or with deletion events
    export_ids = list(exports)
    columns = "pupil_id, export_id, action, upn" + (", sent_values" if with_values else "")
    for start in range(0, len(export_ids), 500):
        chunk = export_ids[start : start + 500]
        part = f"SELECT {columns} FROM export_pupil WHERE export_id IN ({placeholders(len(chunk))})"
        part_params: list = list(chunk)
        if pupil_ids is not None:
            part += f" AND pupil_id IN ({placeholders(len(pupil_ids))})"
            part_params += list(pupil_ids)
        for row in fetch_rows(session, part + " ORDER BY id", part_params):
            service_id, provider_id = exports[row[1]][:2]
            key = (row[0], service_id, provider_id)
            first = found.get(key)
            if first is None:
                found[key] = row
                if (row[0], service_id) in facts:
                    several[key] = [row]
            elif key in several:
                several[key].append(row)
            else:
                several[key] = [first, row]
    rows_of, found = found, {}
    for key, row in rows_of.items():
        service_id, provider_id, provider_name, at = exports[row[1]]
        if key in several or row[2] not in SENDING_ACTIONS:
            found[key] = Holding(key[0], service_id, provider_id, provider_name)
        elif settled is not None and settled(key[0], service_id, provider_id, at):
            continue  # the caller needs it not: left out, unbuilt
        else:
            values = row[4] if with_values else None
            found[key] = Holding(
                key[0],
                service_id,
                provider_id,
                provider_name,
                True,
                row[1],
                at,
                at,
                row[3],
                (row[3],),
                values,
                row[1],
            )
    timeline: dict[Key, list[tuple]] = {
        key: [(exports[row[1]][3], 0, row, exports[row[1]][2]) for row in rows]
        for key, rows in several.items()
    }
    for (pupil_id, service_id), pair in facts.items():
        for fact in pair:
            key = _key_of(found, pupil_id, service_id, fact)
            if key not in found:
                found[key] = Holding(pupil_id, service_id, key[2], fact.provider_name)
            timeline.setdefault(key, []).append((fact.recorded_at, 1, fact, None))
    for key, events in timeline.items():
        holding = found[key]
        if key[:2] in facts:
            events.sort(key=lambda event: (event[0], event[1]))
        for at, source, item, provider_name in events:
            if source == 1:
                holding.record(item)
            else:
                _apply_row(holding, at, item, provider_name, with_values)
    return found


def _apply_row(holding: Holding, at: str, row: tuple, provider_name: str, with_values: bool) -> None:
    if row[2] in SENDING_ACTIONS:
        holding.send(at, row[1], row[3], row[4] if with_values else None, provider_name)
    elif row[2] == REMOVE:
        holding.tell_removal(at)


def _key_of(found: dict[Key, Holding], pupil_id: int, service_id: int, fact: DeletionFact) -> Key:
    """The holding a deletion event belongs to: its provider id, else (older rows) its provider's name."""
    if fact.provider_id is not None:
        return (pupil_id, service_id, fact.provider_id)
    for key, holding in found.items():
        if key[:2] == (pupil_id, service_id) and holding.provider_name == fact.provider_name:
            return key
    return (pupil_id, service_id, None)


def of_provider(found: dict[Key, Holding], service_id: int, provider_id: int | None) -> dict[int, Holding]:
    """pupil id -> holding, for one service and one provider."""
    return {
        key[0]: holding for key, holding in found.items() if key[1] == service_id and key[2] == provider_id
    }


def confirmed_deletions(session: Session, pupil_ids: Sequence[int]) -> dict[int, str]:
    """pupil id -> the day (ISO) a provider last confirmed deleting the pupil's data, for those confirmed."""
    if not pupil_ids:
        return {}
    found: dict[int, str] = {}
    ids = list(pupil_ids)
    for pupil_id, on in fetch_rows_in(
        session,
        "SELECT pupil_id, MAX(on_date) FROM deletion_event WHERE kind = ? "
        "AND pupil_id IN ({values}) GROUP BY pupil_id",
        ids,
        before=[CONFIRMED],
    ):
        found[pupil_id] = str(on)[:10]
    return found


def rejoin_warning(session: Session, pupil_ids: Sequence[int], *, dry_run: bool = False) -> list[str]:
    """The import's warning when pupils coming back on roll had their data deleted by a provider (a
    confirmed deletion): their parents' earlier consent still counts, so the next export sends them again.
    The count only: no pupil's name beyond what the user asked for."""
    deleted = confirmed_deletions(session, pupil_ids)
    if not deleted:
        return []
    coming = "coming back on roll" if dry_run else "back on roll"
    return [
        f"{len(deleted)} pupil(s) {coming} had their data deleted by a provider at the school's request "
        "(a confirmed deletion). Their parents' earlier consent still counts, so the next export or "
        "--changes sends them again: check with the parents first. See them with: "
        "cloudctl deletion list --all --on-roll"
    ]
