"""Deletions followed to the end: what each provider must delete, the requests sent, the confirmations.

A deletion is DUE for a pupil and a service when the provider holds the pupil's data and must no longer:

- services for pupils or parents: the export ledger says the provider was sent the pupil's data (a full
  export, or an add or update of `--changes`) and has not confirmed deleting it since, and the pupil is not
  among those the full export would send now (`enrolment_selection`: opted out, consent needing renewal,
  left the roll, outside the service's year groups, the service no longer approved or no longer receiving
  pupil data). The status comes from the consent policy; nothing here decides consent.
- school-management services (not consent-based, no ledger): a pupil who left the roll, in the service's
  year groups, once the service's retention period (when the register gives one that reads as a period)
  has passed since they left.

`due_since` is the day the reason arose (see docs/deletions.md for the days that are not recorded as
such), never before the last file that sent the pupil. A deletion is REQUESTED once `deletion request`
has asked the provider, and CONFIRMED once the provider's confirmation is recorded: only that closes it.
It is OVERDUE when not confirmed within the school's deadline (`init --deletion-deadline-days`).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.gc_pauses import without_gc_pauses
from cloudctl.db.models import DeletionEvent, Pupil, Service
from cloudctl.domain.consent import NEEDS_RENEWAL, OPTED_IN, OPTED_OUT, ServiceRule, Standings, standings
from cloudctl.domain.deletion_facts import (
    CONFIRMED,
    REQUESTED,
    DeletionFact,
    day_text,
    deletion_facts,
    moment,
)
from cloudctl.domain.holdings import Holding, holdings, replay, values_sent_between
from cloudctl.domain.retention import describe_period, retention_ends, retention_period
from cloudctl.domain.services import get_service
from cloudctl.errors import InvalidInput, RuleRefused
from cloudctl.vocab.dates import check_event_date
from cloudctl.vocab.text import gate_text

DUE = "due"
STATUSES = (DUE, REQUESTED, CONFIRMED)
LIST_KEYS = (
    "upn", "surname", "forename", "service", "provider", "reason", "due_since", "days_waiting", "status",
    "reference",
)  # fmt: skip
# What a request names a pupil by: identifiers the provider was sent, nothing more.
IDENTIFIERS = ("upn", "forename", "surname", "surname_initial", "dob")
STATUS_WORDS = {
    "awaiting-assessment": "awaiting its risk assessment",
    "not-approved": "not approved",
    "retired": "retired",
}
# Sent-data rows of the ledger: a full export's rows, and --changes' adds and updates (a removal sends
# nothing new, and never closes a deletion).
SENT_KINDS = ("full", "changes")
SENT_ACTIONS = ("full", "add", "update")
NO_FIELDS_REASON = "the register no longer lists pupil data this service receives"


@dataclass(frozen=True)
class ServiceFacts:
    id: int
    name: str
    category: str
    status: str
    provider_id: int | None
    provider: str
    rule: ServiceRule
    sends_data: bool  # the register lists pupil fields the service receives
    changed_on: str  # the day the service's entry last changed (ISO)
    data_changed_on: str | None  # the day what it receives was last recorded (ISO)
    retention: tuple[int, str] | None


@dataclass
class Deletion:
    pupil_id: int
    service_id: int
    upn: str
    surname: str
    forename: str
    service: str
    provider: str
    reason: str
    due_since: str
    status: str
    reference: str | None
    days_waiting: int = 0
    on_date: str | None = None  # requested or confirmed on
    sent: dict = field(default_factory=dict)
    provider_id: int | None = None  # the provider that holds the data (the one it was sent to)

    def record(self) -> dict:
        return {key: getattr(self, key) for key in LIST_KEYS}


# --- reading the facts ---------------------------------------------------------------------------------


def service_facts(
    session: Session, service_ids: Sequence[int] | None = None, *, as_of: date | None = None
) -> list[ServiceFacts]:
    """Pupil and management services (the provider as an outer join: a service may have none), each with
    the consent rule the export uses, the school's consent lifetime (counted to `as_of`) in it."""
    from cloudctl.domain.consent import consent_lifetime
    from cloudctl.exporters.enrolment import allowed_columns

    lifetime = consent_lifetime(session, as_of)

    sql = (
        "SELECT s.id, s.name, s.category, s.status, s.year_scope, s.year_codes, s.data_categories, "
        "s.year_groups_text, s.provider_id, p.name, s.updated_at, s.retention, "
        "(SELECT MAX(v.recorded_at) FROM service_version v WHERE v.service_id = s.id) "
        "FROM service s LEFT OUTER JOIN provider p ON p.id = s.provider_id "
        "WHERE s.category IN (?, ?)"
    )
    params: list = ["pupil", "management"]
    if service_ids is not None:
        sql += f" AND s.id IN ({placeholders(len(service_ids))})"
        params += list(service_ids)
    facts = []
    for row in fetch_rows(session, sql + " ORDER BY s.position, s.id", params):
        rule = ServiceRule.build(*row[:7], row[7] or "", lifetime)
        facts.append(
            ServiceFacts(
                id=row[0],
                name=row[1],
                category=row[2],
                status=row[3],
                provider_id=row[8],
                provider=row[9] or "",
                rule=rule,
                sends_data=bool(allowed_columns(json.loads(row[6]))),
                changed_on=moment(row[10])[:10],
                data_changed_on=moment(row[12])[:10] if row[12] is not None else None,
                retention=retention_period(row[11]),
            )
        )
    return facts


class _PupilRow:
    __slots__ = ("changed_on", "forename", "id", "left_on", "on_roll", "surname", "upn", "year_group")

    def __init__(self, row: tuple) -> None:
        self.id, self.upn = row[0], row[1]
        self.forename = row[4] or row[2]
        self.surname = row[5] or row[3]
        self.year_group, self.on_roll = row[6], bool(row[7])
        left_on = day_text(row[8])
        self.left_on = date.fromisoformat(left_on) if left_on else None
        self.changed_on = moment(row[9])[:10]


def _pupils(session: Session) -> dict[int, tuple]:
    """Every pupil's raw row (see _PupilRow), read lean: a whole school's worth."""
    sql = (
        "SELECT id, upn, forename, surname, preferred_forename, preferred_surname, year_group, on_roll, "
        "left_on, updated_at FROM pupil"
    )
    return {row[0]: row for row in fetch_rows(session, sql)}


# --- why a held pupil must be removed --------------------------------------------------------------------


def removal_reason(service: ServiceFacts, pupil: _PupilRow, standing) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    """(reason, the day it arose) when the full export would not send this pupil now, else None.

    Who is sent is the export's selection (the consent policy's status); the words are those of the
    --changes file (`enrolment_changes.removal_reason`), so both name a removal alike. An opt-out is
    named first even for a pupil who has left since: the deletion was due from the withdrawal.
    """
    from cloudctl.exporters.enrolment_changes import removal_reason as reason_words

    status = service.rule.status_for(pupil.on_roll, pupil.year_group, standing)
    if status == OPTED_OUT:
        return f"opted out on {standing.effective_on}", str(standing.effective_on)
    if service.status != "approved":
        words = STATUS_WORDS.get(service.status, service.status)
        return f"the service is {words}", service.changed_on
    if not service.sends_data:
        return NO_FIELDS_REASON, service.changed_on
    if status == OPTED_IN:
        return None
    reason = reason_words(service.rule, pupil, standing)
    if not pupil.on_roll:
        return reason, pupil.left_on.isoformat() if pupil.left_on else pupil.changed_on
    if status == NEEDS_RENEWAL:
        lapsed_on = service.rule.lifetime.lapses_on(standing.effective_on) if standing else None
        if lapsed_on is not None and service.rule.told_covers(standing.told):
            return reason, str(lapsed_on)  # consent older than the school allows: due from the lapse
        return reason, service.data_changed_on or service.changed_on
    return reason, pupil.changed_on


# --- the list ---------------------------------------------------------------------------------------------


@without_gc_pauses
def deletions(
    session: Session,
    *,
    service_name: str | None = None,
    category: str | None = None,
    as_of: date | None = None,
    include_confirmed: bool = False,
    provider_id: int | None = None,
    on_roll_only: bool = False,
    known_standings: Standings | None = None,
    known_holdings: dict | None = None,
) -> list[Deletion]:
    """Every deletion not confirmed (with `include_confirmed`, the confirmed ones too), most waiting first.

    Per provider the data was sent to (`holdings`): after a service moves to another company, what the
    old one holds is due from the old one. With `provider_id`, only that provider's deletions; with
    `on_roll_only`, only pupils on roll now (with `include_confirmed`: pupils whose data a provider deleted
    and whom the next export would send again, such as a leaver who came back). `known_standings`: the
    consent standings the caller has read already (every pupil, every service for pupils), so they are
    not read again. `known_holdings`: `holdings(...)` of every service for pupils, read by the caller as
    they stand now, so the ledger is not replayed twice."""
    as_of = as_of or date.today()
    chosen = None
    if service_name is not None:
        service = get_service(session, service_name, category)
        _refuse_statutory(service)
        chosen = [service.id]
    services = service_facts(session, chosen, as_of=as_of)
    pupil_services = [s for s in services if s.category == "pupil"]
    management = [s for s in services if s.category == "management"]
    pupils = _pupils(session)
    unchanged = _unchanged_since_sent(session, pupil_services, pupils) if pupil_services else None
    if known_holdings is not None and chosen is None:
        held = known_holdings
    elif pupil_services:
        # Holdings as they were sent and still eligible are never due: left out unbuilt (nearly all).
        held = holdings(session, service_ids=[s.id for s in pupil_services], settled=unchanged)
    else:
        held = {}
    found: list[Deletion] = []
    if pupil_services:
        found += _pupil_service_deletions(session, pupil_services, held, pupils, unchanged, known_standings)
    replayed: list[Holding] = []
    if management:
        facts = deletion_facts(session, service_ids=[s.id for s in management])
        for service in management:
            found += _management_deletions(service, facts, pupils, as_of, replayed)
    if include_confirmed:
        by_id = {service.id: service for service in services}
        found += _confirmed([*held.values(), *replayed], by_id, pupils)
    if provider_id is not None:
        found = [item for item in found if item.provider_id == provider_id]
    if on_roll_only:
        found = [item for item in found if pupils[item.pupil_id][7]]
        if include_confirmed:
            found = _sent_again_next(session, found, {s.id: s for s in pupil_services}, held, pupils)
    for item in found:
        end = date.fromisoformat(item.on_date) if item.status == CONFIRMED else as_of
        item.days_waiting = max(0, (end - date.fromisoformat(item.due_since)).days)
    found.sort(
        key=lambda d: (
            d.status == CONFIRMED,
            -d.days_waiting,
            d.service,
            d.provider,
            d.surname,
            d.forename,
            d.upn,
        )
    )
    return found


def _refuse_statutory(service: Service) -> None:
    if service.category not in ("pupil", "management"):
        raise RuleRefused(
            f"'{service.name}' is not a service for pupils or parents or for school management, so cloudctl "
            "follows no deletions for it."
        )


def _open(pupil: _PupilRow, service: ServiceFacts, request: DeletionFact, holding: Holding) -> Deletion:
    return Deletion(
        pupil.id, service.id, pupil.upn, pupil.surname, pupil.forename, service.name,
        request.provider_name or holding.provider_name, request.reason or "",
        request.due_since or request.on_date, REQUESTED, request.reference, on_date=request.on_date,
        provider_id=holding.provider_id,
    )  # fmt: skip


def _pupil_service_deletions(session, services, held, pupils, unchanged, known=None) -> list[Deletion]:  # type: ignore[no-untyped-def]
    """Every open request, and every holding the full export would no longer send (to its provider).

    A request stays open until the provider confirms it, even if the pupil was sent again since (the
    provider was asked to delete; the later send is a new holding). A held pupil is due when no open
    request was made since the last send and either the data went to a provider the service no longer
    uses, or the full export would not send the pupil now. Holdings `unchanged` since their send (see
    `_unchanged_since_sent`) are not judged: the full export sends them now.
    """
    by_id = {service.id: service for service in services}
    moves = _provider_moves(session, list(by_id))
    to_judge: list[tuple] = []
    found = []
    for key, holding in held.items():
        raw = pupils.get(key[0])
        if raw is None:
            continue
        service = by_id[key[1]]
        for request in holding.open_requests:
            found.append(_open(_PupilRow(raw), service, request, holding))
        if not holding.held or holding.sent_at is None or holding.requested_since_sent:
            continue
        if unchanged(key[0], key[1], holding.provider_id, holding.sent_at):
            continue  # as it was when sent, and still eligible: the full export sends the pupil now
        to_judge.append((key, holding, raw, service, holding.provider_id != service.provider_id))
    pairs = [key[:2] for key, *_ in to_judge]
    if known is not None:
        held_standings = {pair: known.get(pair) for pair in pairs}
    else:
        held_standings = _standings_of(session, pairs, list(by_id))
    for key, holding, raw, service, moved in to_judge:
        pupil = _PupilRow(raw)
        why = removal_reason(service, pupil, held_standings.get(key[:2]))
        if moved:
            move = _move_reason(service, holding, moves.get(service.id, []))
            if why is None or move[1] < why[1]:
                why = move
        if why is None:
            continue
        reason, since = why
        found.append(
            Deletion(pupil.id, service.id, pupil.upn, pupil.surname, pupil.forename, service.name,
                     holding.provider_name, reason, max(since, holding.sent_at[:10]), DUE, None,
                     sent={"export": holding.export_id, "since": holding.held_since_export,
                           "upns": list(holding.upns_sent)},
                     provider_id=holding.provider_id)
        )  # fmt: skip
    return found


def _provider_moves(session: Session, service_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """service id -> its recorded changes of provider: (when recorded, the day it changed), oldest first."""
    moves: dict[int, list[tuple[str, str]]] = {}
    for service_id, recorded_at, changed_on in fetch_rows(
        session,
        "SELECT service_id, recorded_at, changed_on FROM service_change WHERE field = ? "
        f"AND service_id IN ({placeholders(len(service_ids))}) ORDER BY id",
        ["provider", *service_ids],
    ):
        moves.setdefault(service_id, []).append((moment(recorded_at), day_text(changed_on) or ""))
    return moves


def _move_reason(service: ServiceFacts, holding: Holding, moves: list[tuple[str, str]]) -> tuple[str, str]:
    """Why a provider the service no longer uses must delete what it was sent, and since when: the first
    change of provider recorded after the last file sent to it (else the service's last change)."""
    since = next((on for at, on in moves if at >= (holding.sent_at or "")), service.changed_on)
    if service.provider:
        return f"the service moved to {service.provider} on {since}", since
    return f"the register names no provider for the service since {since}", since


def _unchanged_since_sent(session: Session, services: list[ServiceFacts], pupils: dict):  # type: ignore[no-untyped-def]
    """`unchanged(pupil id, service id, provider id, sent at)`: True when a holding sent then cannot be due.

    A file sent a pupil only when the export's selection chose them (opted in, eligible, consent
    covering the service's data). So a held pupil's standing needs reading again only when it may have
    changed since that file: a consent event recorded after it, or a new version of what the service
    receives (every change of its data records one). For every other held pupil the standing is the one
    that was sent, and only the roll, the year group and the service's own state can have moved: the
    policy's `eligible` answers that (once per service and year group). Data sent to a provider the
    service no longer uses is never unchanged. Where the school's consent lapses with age, an opt-in can
    lapse with no event, so nothing is unchanged. Nor is anything for a service for selected pupils only:
    whether a pupil is selected is read from their events, and a service whose year groups became
    'Selected' after the file sent the pupil (no event, no new version) no longer takes a pupil nobody
    selected.
    """
    ids = [service.id for service in services]
    recorded = _consent_recorded_since_sent(session, ids)
    data_changed = _data_changed_at(session, ids)
    year_groups = {raw[6] for raw in pupils.values()}
    fast: dict[int, tuple] = {}
    for service in services:
        rule = service.rule
        if (
            rule.lifetime.months is not None
            or rule.scope == "selected"
            or service.status != "approved"
            or not service.sends_data
        ):
            continue
        years = frozenset(year for year in year_groups if rule.eligible(True, year, selected=False))
        fast[service.id] = (service.provider_id, data_changed.get(service.id, ""), years)
    off_roll = object()  # in no set of year groups (a year group may be None)
    year_on_roll = {pupil_id: raw[6] for pupil_id, raw in pupils.items() if raw[7]}

    def unchanged(pupil_id: int, service_id: int, provider_id: int | None, sent_at: str) -> bool:
        known = fast.get(service_id)
        return (
            known is not None
            and provider_id == known[0]
            and known[1] <= sent_at
            and year_on_roll.get(pupil_id, off_roll) in known[2]
            and recorded.get((pupil_id, service_id), "") < sent_at
        )

    return unchanged


def _consent_recorded_since_sent(session: Session, service_ids: list[int]) -> dict[tuple[int, int], str]:
    """(pupil id, service id) -> when its latest consent event was recorded, for the pairs with one
    recorded since the first file that sent pupils' data (none can have changed a send before it)."""
    earliest = fetch_rows(
        session,
        f"SELECT MIN(exported_at) FROM export_record WHERE kind IN ({placeholders(len(SENT_KINDS))})",
        list(SENT_KINDS),
    )[0][0]
    if earliest is None:
        return {}
    latest: dict[tuple[int, int], str] = {}
    for pupil_id, service_id, recorded_at in fetch_rows(
        session,
        "SELECT pupil_id, service_id, recorded_at FROM consent_event WHERE recorded_at >= ? "
        f"AND service_id IN ({placeholders(len(service_ids))})",
        [earliest, *service_ids],
    ):
        key, at = (pupil_id, service_id), moment(recorded_at)
        if at > latest.get(key, ""):
            latest[key] = at
    return latest


def _data_changed_at(session: Session, service_ids: list[int]) -> dict[int, str]:
    """service id -> when what it receives was last recorded (its newest version of what parents are told)."""
    rows = fetch_rows(
        session,
        "SELECT service_id, MAX(recorded_at) FROM service_version "
        f"WHERE service_id IN ({placeholders(len(service_ids))}) GROUP BY service_id",
        service_ids,
    )
    return {service_id: moment(at) for service_id, at in rows if at is not None}


def _standings_of(session: Session, keys: list[tuple[int, int]], service_ids: list[int]) -> dict:
    """The policy's standing of each (pupil id, service id) pair, read for those pairs only: per service,
    the events of the pupils judged for it (through the (pupil, service) index), never a judged pupil's
    events for services they are not judged for."""
    found: dict = {}
    by_service: dict[int, list[int]] = {}
    for pupil_id, service_id in keys:
        by_service.setdefault(service_id, []).append(pupil_id)
    for service_id in service_ids:
        pupil_ids = sorted(set(by_service.get(service_id, ())))
        for start in range(0, len(pupil_ids), 500):
            chunk = pupil_ids[start : start + 500]
            latest = standings(session, pupil_ids=chunk, service_ids=[service_id])
            for pupil_id in chunk:
                found[(pupil_id, service_id)] = latest.get((pupil_id, service_id))
    return found


def _management_deletions(
    service: ServiceFacts, facts, pupils, as_of: date, replayed: list
) -> list[Deletion]:  # type: ignore[no-untyped-def]
    rule = service.rule
    if service.status not in ("approved", "retired") or rule.scope != "years":
        # Confirmations stay on record (deletion list --all) whatever the service is now.
        replayed += _replayed(service, facts)
        return []
    found = []
    for raw in pupils.values():
        if raw[7] or raw[6] not in rule.codes:
            continue
        pupil = _PupilRow(raw)
        key = (pupil.id, service.id)
        # The MIS sends a management service its pupils' data: the provider holds it until it confirms.
        holding = replay(
            Holding(pupil.id, service.id, service.provider_id, service.provider, held=True),
            facts.get(key, []),
        )
        if facts.get(key):
            replayed.append(holding)
        for request in holding.open_requests:
            found.append(_open(pupil, service, request, holding))
        if not holding.held or holding.open_requests:
            continue
        if service.retention is None:
            continue
        left = pupil.left_on.isoformat() if pupil.left_on else pupil.changed_on
        ends = retention_ends(date.fromisoformat(left), service.retention)
        if ends > as_of:
            continue
        reason = f"left on {left}; the retention period ({describe_period(service.retention)}) has passed"
        found.append(
            Deletion(
                pupil.id,
                service.id,
                pupil.upn,
                pupil.surname,
                pupil.forename,
                service.name,
                service.provider,
                reason,
                ends.isoformat(),
                DUE,
                None,
                provider_id=service.provider_id,
            )
        )
    return found


def _replayed(service: ServiceFacts, facts) -> list[Holding]:  # type: ignore[no-untyped-def]
    return [
        replay(Holding(key[0], service.id, service.provider_id, service.provider, held=True), pair)
        for key, pair in facts.items()
        if key[1] == service.id
    ]


def _confirmed(held: list[Holding], by_id: dict, pupils) -> list[Deletion]:  # type: ignore[no-untyped-def]
    found = []
    for holding in held:
        service, raw = by_id.get(holding.service_id), pupils.get(holding.pupil_id)
        if service is None or raw is None:
            continue
        pupil = _PupilRow(raw)
        for request, confirmation in holding.confirmed:
            request = request or confirmation
            found.append(
                Deletion(pupil.id, service.id, pupil.upn, pupil.surname, pupil.forename, service.name,
                         confirmation.provider_name or holding.provider_name, request.reason or "",
                         request.due_since or request.on_date, CONFIRMED,
                         confirmation.reference or request.reference, on_date=confirmation.on_date,
                         provider_id=holding.provider_id)
            )  # fmt: skip
    return found


def _sent_again_next(session, found, by_id, held, pupils) -> list[Deletion]:  # type: ignore[no-untyped-def]
    """Of the confirmed deletions, those the next export would undo: the pupil (on roll) is not held
    again by that provider and the service's export would send them now (opted in and eligible). Open
    deletions are kept as they are; a confirmed deletion of a management service is kept too (cloudctl
    sends management services nothing, so the office must check them by hand)."""
    confirmed = [item for item in found if item.status == CONFIRMED and item.service_id in by_id]
    latest = _standings_of(session, [(item.pupil_id, item.service_id) for item in confirmed], list(by_id))
    kept = []
    for item in found:
        if item.status == CONFIRMED and item.service_id in by_id:
            holding = held.get((item.pupil_id, item.service_id, item.provider_id))
            if holding is not None and holding.held:
                continue  # sent again already: a new holding, listed by itself when it falls due
            raw = pupils[item.pupil_id]
            standing = latest.get((item.pupil_id, item.service_id))
            if by_id[item.service_id].rule.status_for(bool(raw[7]), raw[6], standing) != OPTED_IN:
                continue
        kept.append(item)
    return kept


def overdue(items: Sequence[Deletion], deadline_days: int) -> list[Deletion]:
    """Deletions not confirmed within the deadline (and, among confirmed ones, those confirmed late)."""
    return [item for item in items if item.days_waiting > deadline_days]


# --- requesting and confirming -----------------------------------------------------------------------------


def recorder(name: str | None) -> str:
    """Who records it: --recorded-by through the text gate, else the login name (as the ledger does)."""
    from cloudctl.domain.export_ledger import recorder as ledger_recorder

    return ledger_recorder(name)


def gate_reference(reference: str | None) -> str | None:
    return gate_text(
        reference, "reference (--reference)", hint="Give the provider's reference as plain text."
    )


@dataclass
class DeletionRequest:
    service: Service
    provider: str
    provider_id: int | None
    columns: list[str]
    rows: list[dict]
    deletions: list[Deletion]
    text: str = ""
    sha256: str = ""


# A column of the request, after the UPN: the other UPNs the provider was sent for the pupil (a UPN
# replaced by `pupil change-upn` and sent again since), so it can find every record it keeps.
EARLIER_UPNS = "earlier_upns"


def prepare_request(
    session: Session, service_name: str, category: str | None = None, *, provider_name: str | None = None
) -> DeletionRequest:
    """The request file for every deletion due from one provider for this service: the identifiers the
    provider was sent. Refused when deletions are due from more than one provider and none is named."""
    from cloudctl.exporters.csv_safe import write_csv
    from cloudctl.exporters.enrolment import COLUMN_ORDER, allowed_columns

    service = get_service(session, service_name, category)
    _refuse_statutory(service)
    provider_id = provider_named(session, provider_name)
    due = [d for d in deletions(session, service_name=service.name, category=service.category,
                                provider_id=provider_id)
           if d.status == DUE]  # fmt: skip
    if not due:
        to = f" from {provider_name.strip()}" if provider_name else ""
        raise RuleRefused(
            f"No deletion is due{to} for '{service.name}' (see cloudctl deletion list --service "
            f'"{service.name}"), so no request was written.'
        )
    _one_provider(due, service.name, "request", "A request goes to one provider")
    if service.category == "pupil":
        spans = [(d.pupil_id, d.service_id, d.provider_id, d.sent["since"], d.sent["export"]) for d in due]
        values = values_sent_between(session, spans)
        per_pupil = [values.get((d.pupil_id, d.service_id, d.provider_id), {}) for d in due]
    else:
        # A management service is sent data by the school's MIS, not by cloudctl: name the pupil by the
        # identifiers the register says it receives (the UPN when it lists none).
        allowed = [c for c in allowed_columns(json.loads(service.data_categories)) if c in IDENTIFIERS]
        pupils = {p.id: p for p in _orm_pupils(session, [d.pupil_id for d in due])}
        per_pupil = [_identity(pupils[d.pupil_id], allowed or ["upn"]) for d in due]
    shown: set[str] = set()
    rows = []
    for item, sent in zip(due, per_pupil, strict=True):
        row = {k: v for k, v in sent.items() if k in IDENTIFIERS}
        if "upn" not in row and "forename" not in row and "class_name" in sent:
            row["class_name"] = sent["class_name"]  # with an initial alone, the class tells pupils apart
        earlier = [upn for upn in item.sent.get("upns", []) if upn != row.get("upn")]
        if "upn" in row and earlier:
            row[EARLIER_UPNS] = "; ".join(earlier)
        shown.update(row)
        rows.append(row)
    columns = [c for c in (*COLUMN_ORDER[:1], EARLIER_UPNS, *COLUMN_ORDER[1:]) if c in shown]
    buffer = io.StringIO()
    write_csv(buffer, columns, rows)
    text = buffer.getvalue()
    return DeletionRequest(
        service, due[0].provider, due[0].provider_id, columns, rows, due, text,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )  # fmt: skip


def provider_named(session: Session, provider_name: str | None) -> int | None:
    """The provider named with --provider (refused plainly when the register has none by that name)."""
    if provider_name is None:
        return None
    from cloudctl.domain.providers import get_provider

    return get_provider(session, provider_name).id


def _one_provider(items: Sequence[Deletion], service: str, verb: str, why: str) -> None:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.provider] = counts.get(item.provider, 0) + 1
    if len({item.provider_id for item in items}) > 1:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
        raise RuleRefused(
            f"Deletions for '{service}' are waiting with {len(counts)} providers: {listed}. {why}: "
            f'give --provider NAME, e.g. cloudctl deletion {verb} "{service}" --provider "{min(counts)}" ...'
        )


def _provider_of(session: Session, request: DeletionRequest):  # type: ignore[no-untyped-def]
    from cloudctl.db.models import Provider
    from cloudctl.domain.export_ledger import provider_of

    if request.provider_id is None:
        return provider_of(session, request.service)  # refused plainly: the register names no provider
    provider = session.get(Provider, request.provider_id)
    if provider is None:
        raise RuleRefused(
            f"The provider that holds these pupils' data for '{request.service.name}' is no longer in the "
            "register, so cloudctl cannot record whom the request went to. Add it again "
            "(cloudctl provider add)."
        )
    return provider


def _orm_pupils(session: Session, ids: list[int]) -> list[Pupil]:
    from sqlmodel import select

    return list(session.exec(select(Pupil).where(Pupil.id.in_(ids))))  # type: ignore[attr-defined]


def _identity(pupil: Pupil, columns: list[str]) -> dict:
    from cloudctl.exporters.enrolment import _value

    return {column: _value(pupil, column) for column in columns}


def record_request(
    session: Session,
    request: DeletionRequest,
    *,
    recorded_by: str | None = None,
    reference: str | None = None,
    target: str | None = None,
    today: date | None = None,
) -> int:
    """Record the request (after its file was written): one 'requested' event per pupil."""
    from cloudctl.domain.export_ledger import KIND_DELETION_REQUEST, REMOVE, STDOUT, SentPupil, record_export

    today = today or date.today()
    who = recorder(recorded_by)
    reference = gate_reference(reference)
    # The request carries pupils' identifiers out of cloudctl: it is in the export ledger too, addressed
    # to the provider that holds the data (not necessarily the service's provider now).
    record_export(
        session,
        service=request.service,
        provider=_provider_of(session, request),
        kind=KIND_DELETION_REQUEST,
        file_format="csv",
        target=target or STDOUT,
        fields=request.columns,
        sha256=request.sha256,
        recorded_by=who,
        pupils=[
            SentPupil(item.pupil_id, str(row.get("upn") or item.upn), REMOVE, row, item.reason)
            for item, row in zip(request.deletions, request.rows, strict=True)
        ],
    )
    for item in request.deletions:
        session.add(
            DeletionEvent(
                pupil_id=item.pupil_id, service_id=item.service_id, provider_id=item.provider_id,
                provider_name=item.provider, kind=REQUESTED, on_date=today, reason=item.reason,
                due_since=date.fromisoformat(item.due_since), reference=reference, recorded_by=who,
                request_sha256=request.sha256,
            )
        )  # fmt: skip
    session.flush()
    return len(request.deletions)


def confirm_deletions(
    session: Session,
    service_name: str,
    *,
    upn: str | None,
    all_requested: bool,
    on: date,
    reference: str | None = None,
    recorded_by: str | None = None,
    category: str | None = None,
    today: date | None = None,
    provider_name: str | None = None,
) -> list[Deletion]:
    """Record the provider's confirmation for one pupil's request, or for every open request: one
    confirmation per pupil and provider, closing every request made of that provider before it."""
    from cloudctl.domain.upn_identity import pupil_by_upn

    today = today or date.today()
    if upn is not None and all_requested:
        raise InvalidInput(
            "Give --upn UPN (one pupil) or --all-requested (every deletion requested), not both."
        )
    if upn is None and not all_requested:
        raise InvalidInput(
            "Say which deletions the provider confirmed: --upn UPN for one pupil, or --all-requested."
        )
    check_event_date(on, "confirmation date", today)
    reference = gate_reference(reference)
    who = recorder(recorded_by)
    service = get_service(session, service_name, category)
    _refuse_statutory(service)
    pupil = pupil_by_upn(session, upn)[0] if upn is not None else None
    provider_id = provider_named(session, provider_name)
    open_requests = [
        d for d in deletions(session, service_name=service.name, category=service.category, as_of=today,
                             provider_id=provider_id)
        if d.status == REQUESTED and (pupil is None or d.pupil_id == pupil.id)
    ]  # fmt: skip
    if not open_requests:
        _refuse_a_repeated_confirmation(session, service, pupil)
        of = f"'{service.name}'" + (f" (provider '{provider_name}')" if provider_name else "")
        if pupil is not None:
            raise RuleRefused(
                f"No deletion of pupil {pupil.upn}'s data has been requested of {of}, so there is nothing "
                "to confirm. Request it first (cloudctl deletion request), then record the provider's "
                "confirmation."
            )
        raise RuleRefused(f"No deletion requested of {of} is waiting for confirmation.")
    _one_provider(open_requests, service.name, "confirm", "Say which provider confirmed")
    latest = max(d.on_date for d in open_requests)
    if on.isoformat() < latest:
        raise InvalidInput(
            f"The confirmation date {on.isoformat()} is before the request of {latest}: a provider "
            "confirms a deletion after it is asked. Check the date."
        )
    done: set[tuple[int, int | None]] = set()
    for item in open_requests:
        if (item.pupil_id, item.provider_id) in done:
            continue  # one confirmation closes every request made of that provider before it
        done.add((item.pupil_id, item.provider_id))
        session.add(
            DeletionEvent(
                pupil_id=item.pupil_id, service_id=item.service_id, provider_id=item.provider_id,
                provider_name=item.provider, kind=CONFIRMED, on_date=on,
                reference=reference or item.reference, recorded_by=who,
            )
        )  # fmt: skip
    session.flush()
    return open_requests


def _refuse_a_repeated_confirmation(session: Session, service: Service, pupil: Pupil | None) -> None:
    """NothingToDo when the deletion asked for was confirmed already and nothing is due since: a
    confirmation recorded twice (a second e-mail from the provider, a job run again) adds nothing."""
    from cloudctl.errors import NothingToDo

    chosen = [pupil.id] if pupil is not None else None
    facts = deletion_facts(session, service_ids=[service.id], pupil_ids=chosen)
    latest = [pair[-1] for pair in facts.values()]
    if not latest or any(fact.kind != CONFIRMED for fact in latest):
        return
    if any(
        d.status == DUE and (pupil is None or d.pupil_id == pupil.id)
        for d in deletions(session, service_name=service.name, category=service.category)
    ):
        return  # due again since (sent again, then withdrawn): to be requested, not confirmed
    last = max(latest, key=lambda fact: (fact.on_date, fact.id))
    reference = f" (reference {last.reference})" if last.reference else ""
    if pupil is not None:
        raise NothingToDo(
            f"Nothing recorded: the deletion of pupil {pupil.upn}'s data sent for '{service.name}' was "
            f"already confirmed on {last.on_date}{reference}, and no deletion of it is waiting."
        )
    raise NothingToDo(
        f"Nothing recorded: every deletion requested of '{service.name}' was already confirmed, the last "
        f"on {last.on_date}{reference}, and none is waiting."
    )


# --- the subject-access view -------------------------------------------------------------------------------


def pupil_deletions(session: Session, pupil_id: int) -> list[dict]:
    """Every deletion request and confirmation for one pupil, oldest first (for `pupil show`)."""
    facts = deletion_facts(session, pupil_ids=[pupil_id])
    names = dict(fetch_rows(session, "SELECT id, name FROM service"))
    events = sorted((fact for pair in facts.values() for fact in pair), key=lambda fact: fact.id)
    return [
        {
            "service": names.get(fact.service_id, ""),
            "provider": fact.provider_name,
            "kind": fact.kind,
            "date": fact.on_date,
            "reason": fact.reason,
            "due_since": fact.due_since,
            "reference": fact.reference,
            "recorded_by": fact.recorded_by,
            "recorded_at": fact.recorded_at[:19],
        }
        for fact in events
    ]
