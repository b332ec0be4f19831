"""What each provider holds, what it should hold, and the deletions outstanding (governors, DPO).

Per service for pupils or parents (and school-management services with deletions), and per provider (the
service's provider now, and any provider it has left that still holds pupils' data or owes a deletion):
the pupils the provider held at the end of the day asked for (`--as-of`, default today) according to
`holdings` (sent to it on or before that day, not confirmed deleted on or before it), the pupils the full
export would send now (the export's selection: the consent policy decides), the two differences, the
deletions due (not yet requested), requested and overdue (those that had arisen by that day, waiting
counted to it), and the date of the last export on or before it.

The whole report is a fixed number of queries, however many services the register holds: the ledger, the
deletion events, the pupils and the consent events are each read once, never once per service.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.gc_pauses import without_gc_pauses
from cloudctl.domain.consent import OPTED_IN, Standings, standings
from cloudctl.domain.deletion_facts import moment
from cloudctl.domain.deletions import DUE, REQUESTED, SENT_KINDS, ServiceFacts, deletions, service_facts
from cloudctl.domain.holdings import holdings
from cloudctl.domain.settings import get_settings

PROVIDER_KEYS = (
    "service", "category", "provider", "held", "should_hold", "held_not_allowed", "allowed_not_held",
    "deletions_due", "deletions_requested", "deletions_overdue", "last_export",
)  # fmt: skip

Pair = tuple[int, int | None]  # (service id, provider id)


@without_gc_pauses
def providers_report(session: Session, *, as_of: date) -> list[dict]:
    """One row per service and provider: the service's provider now, and every provider it has left that
    still holds pupils' data or has deletions outstanding (`holdings`: keyed by whom data was sent to)."""
    day = as_of.isoformat()
    deadline = get_settings(session).deletion_deadline_days
    services = service_facts(session)  # consent judged now, as the export would send today
    pupil_services = [s for s in services if s.category == "pupil"]
    held: dict[Pair, set[int]] = {}
    names: dict[Pair, str] = {}
    found = holdings(session, service_ids=[s.id for s in pupil_services], as_of=day)
    for (pupil_id, service_id, provider_id), holding in found.items():
        key = (service_id, provider_id)
        names.setdefault(key, holding.provider_name)
        if holding.held:
            held.setdefault(key, set()).add(pupil_id)
    # Consent is read once, for every service for pupils: what each should hold, and the deletions.
    latest = standings(session, service_ids=[s.id for s in pupil_services]) if pupil_services else None
    should = _should_hold(session, pupil_services, latest)
    counts: dict[Pair, dict[str, int]] = {}
    # The ledger as of today is the ledger as it stands: replayed once, for both.
    now_held = found if as_of >= date.today() else None
    for item in deletions(session, as_of=as_of, known_standings=latest, known_holdings=now_held):
        if item.due_since > day:
            continue  # arose after the day asked about: not yet due then
        key = (item.service_id, item.provider_id)
        names.setdefault(key, item.provider)
        tally = counts.setdefault(key, {"due": 0, "requested": 0, "overdue": 0})
        tally["due" if item.status == DUE else "requested"] += item.status in (DUE, REQUESTED)
        tally["overdue"] += item.days_waiting > deadline
    last = _last_exports(session, day)
    rows = []
    for service in services:
        now = (service.id, service.provider_id)
        others = sorted(
            {key for key in (*held, *counts) if key[0] == service.id and key != now},
            key=lambda key: names.get(key, ""),
        )
        for key in (now, *others):
            tally = counts.get(key, {"due": 0, "requested": 0, "overdue": 0})
            if service.category == "pupil":
                # Only the service's provider now should hold anyone; one it has left should hold nobody.
                allowed = should.get(service.id, set()) if key == now else set()
                holds = held.get(key, set())
                if not holds and not allowed and not any(tally.values()) and key not in last:
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
                    "provider": service.provider if key == now else names.get(key, ""),
                    **figures,
                    "deletions_due": tally["due"],
                    "deletions_requested": tally["requested"],
                    "deletions_overdue": tally["overdue"],
                    "last_export": last.get(key),
                }
            )
    return rows


def _last_exports(session: Session, day: str) -> dict[Pair, str]:
    """(service id, provider id) -> the day of the last export of pupils' data (full or --changes) on or
    before `day` (the ledger's times are UTC, as it records every time)."""
    rows = fetch_rows(
        session,
        "SELECT service_id, provider_id, exported_at FROM export_record "
        f"WHERE kind IN ({placeholders(len(SENT_KINDS))})",
        list(SENT_KINDS),
    )
    last: dict[Pair, str] = {}
    for service_id, provider_id, at in rows:
        sent_on = moment(at)[:10]
        if sent_on <= day and sent_on > last.get((service_id, provider_id), ""):
            last[(service_id, provider_id)] = sent_on
    return last


def _should_hold(
    session: Session, services: list[ServiceFacts], latest: Standings | None
) -> dict[int, set[int]]:
    """service id -> the pupils the full export would send now, for every service at once.

    The export's selection (`exporters.enrolment.selection`): nothing for a service that is not approved,
    has no provider or receives no pupil data; else the pupils on roll whose status, by the consent
    policy, is opted in. A pupil with no event is never opted in, so only pupils with events are judged.
    A test holds this equal to `export enrolment --dry-run` for every service."""
    open_services = [s for s in services if s.status == "approved" and s.provider_id and s.sends_data]
    if not open_services or latest is None:
        return {}
    rules = [service.rule for service in open_services]
    year_of = dict(fetch_rows(session, "SELECT id, year_group FROM pupil WHERE on_roll = ?", [True]))
    id_of = {rule.name: rule.id for rule in rules}
    should: dict[int, set[int]] = {}
    for pupil_id, name, status in latest.event_statuses(rules, year_of):
        if status == OPTED_IN:
            should.setdefault(id_of[name], set()).add(pupil_id)
    return should
