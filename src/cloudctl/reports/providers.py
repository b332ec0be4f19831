"""What each provider holds, what it should hold, and the deletions outstanding (governors, DPO).

Per service for pupils or parents (and school-management services with deletions): the pupils the
provider held at the end of the day asked for (`--as-of`, default today) according to the export ledger
(sent in a file on or before that day, not confirmed deleted on or before it), the pupils the full export
would send now (the export's selection: the consent policy decides), the two differences, the deletions
due (not yet requested), requested and overdue (those that had arisen by that day, waiting counted to it),
and the date of the last export on or before it.

The whole report is a fixed number of queries, however many services the register holds: the ledger, the
deletion events, the pupils and the consent events are each read once, never once per service.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.domain.consent import OPTED_IN, standings
from cloudctl.domain.deletion_facts import deletion_facts, moment, pair_state
from cloudctl.domain.deletions import (
    DUE,
    REQUESTED,
    SENT_ACTIONS,
    SENT_KINDS,
    ServiceFacts,
    deletions,
    service_facts,
)
from cloudctl.domain.settings import get_settings

PROVIDER_KEYS = (
    "service", "category", "provider", "held", "should_hold", "held_not_allowed", "allowed_not_held",
    "deletions_due", "deletions_requested", "deletions_overdue", "last_export",
)  # fmt: skip


def providers_report(session: Session, *, as_of: date) -> list[dict]:
    deadline = get_settings(session).deletion_deadline_days
    services = service_facts(session)  # consent judged now, as the export would send today
    pupil_services = [s for s in services if s.category == "pupil"]
    exports = _exports_by(session, as_of)
    held = _held(session, exports, [s.id for s in pupil_services], as_of)
    should = _should_hold(session, pupil_services)
    last: dict[int, str] = {}
    for service_id, at in exports.values():
        last[service_id] = max(last.get(service_id, ""), at[:10])
    counts: dict[int, dict[str, int]] = {}
    for item in deletions(session, as_of=as_of):
        if item.due_since > as_of.isoformat():
            continue  # arose after the day asked about: not yet due then
        tally = counts.setdefault(item.service_id, {"due": 0, "requested": 0, "overdue": 0})
        tally["due" if item.status == DUE else "requested"] += item.status in (DUE, REQUESTED)
        tally["overdue"] += item.days_waiting > deadline
    rows = []
    for service in services:
        tally = counts.get(service.id, {"due": 0, "requested": 0, "overdue": 0})
        if service.category == "pupil":
            holds, allowed = held.get(service.id, set()), should.get(service.id, set())
            if not holds and not allowed and not any(tally.values()) and service.id not in last:
                continue
            figures = {
                "held": len(holds),
                "should_hold": len(allowed),
                "held_not_allowed": len(holds - allowed),
                "allowed_not_held": len(allowed - holds),
            }
        else:
            if not any(tally.values()):
                continue
            # No ledger: cloudctl sends management services nothing.
            figures = dict.fromkeys(("held", "should_hold", "held_not_allowed", "allowed_not_held"))
        rows.append(
            {
                "service": service.name,
                "category": service.category,
                "provider": service.provider,
                **figures,
                "deletions_due": tally["due"],
                "deletions_requested": tally["requested"],
                "deletions_overdue": tally["overdue"],
                "last_export": last.get(service.id),
            }
        )
    return rows


def _exports_by(session: Session, as_of: date) -> dict[int, tuple[int, str]]:
    """export id -> (service id, when) of every file of pupils' data (a full export or --changes) sent on
    or before `as_of` (the day the ledger gives, in UTC as it records every time)."""
    day = as_of.isoformat()
    rows = fetch_rows(
        session,
        "SELECT id, service_id, exported_at FROM export_record "
        f"WHERE kind IN ({placeholders(len(SENT_KINDS))})",
        list(SENT_KINDS),
    )
    sent = ((export_id, service_id, moment(at)) for export_id, service_id, at in rows)
    return {export_id: (service_id, at) for export_id, service_id, at in sent if at[:10] <= day}


def _held(
    session: Session, exports: dict[int, tuple[int, str]], service_ids: list[int], as_of: date
) -> dict[int, set[int]]:
    """service id -> the pupils its provider held at the end of `as_of`: sent in one of `exports` (a full
    export, or an add or update of --changes) and not confirmed deleted by then."""
    day = as_of.isoformat()
    chosen = set(service_ids)
    last: dict[tuple[int, int], int] = {}
    for pupil_id, export_id in fetch_rows(
        session,
        f"SELECT pupil_id, export_id FROM export_pupil WHERE action IN ({placeholders(len(SENT_ACTIONS))})",
        list(SENT_ACTIONS),
    ):
        sent = exports.get(export_id)
        if sent is None or sent[0] not in chosen:
            continue
        key = (pupil_id, sent[0])
        if last.get(key, 0) < export_id:  # export ids grow with time: the highest is the last file
            last[key] = export_id
    facts = deletion_facts(session)
    held: dict[int, set[int]] = {}
    for key, export_id in last.items():
        pair_facts = facts.get(key)
        if pair_facts:
            # Only what was recorded by then: a request or confirmation dated later had not happened.
            known = [fact for fact in pair_facts if fact.on_date <= day]
            if not pair_state(exports[export_id][1], known).held:
                continue
        held.setdefault(key[1], set()).add(key[0])  # sent, and never a deletion event since: held
    return held


def _should_hold(session: Session, services: list[ServiceFacts]) -> dict[int, set[int]]:
    """service id -> the pupils the full export would send now, for every service at once.

    The export's selection (`exporters.enrolment.selection`): nothing for a service that is not approved,
    has no provider or receives no pupil data; else the pupils on roll whose status, by the consent
    policy, is opted in. A pupil with no event is never opted in, so only pupils with events are judged."""
    open_services = [s for s in services if s.status == "approved" and s.provider_id and s.sends_data]
    if not open_services:
        return {}
    rules = [service.rule for service in open_services]
    latest = standings(session, service_ids=[rule.id for rule in rules])
    year_of = dict(fetch_rows(session, "SELECT id, year_group FROM pupil WHERE on_roll = ?", [True]))
    id_of = {rule.name: rule.id for rule in rules}
    should: dict[int, set[int]] = {}
    for pupil_id, name, status in latest.event_statuses(rules, year_of):
        if status == OPTED_IN:
            should.setdefault(id_of[name], set()).add(pupil_id)
    return should
