"""What each provider holds, what it should hold, and the deletions outstanding (governors, DPO).

Per service for pupils or parents (and school-management services with deletions): the pupils the
provider holds according to the export ledger (sent, not confirmed deleted), the pupils the full export
would send now (`enrolment.selection`: consent decides), the two differences, the deletions due (not yet
requested), requested and overdue (as of a day), and the date of the last export.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows
from cloudctl.domain.deletion_facts import deletion_facts, moment, pair_state
from cloudctl.domain.deletions import DUE, REQUESTED, deletions, last_sends, service_facts
from cloudctl.domain.settings import get_settings
from cloudctl.errors import RuleRefused

PROVIDER_KEYS = (
    "service", "category", "provider", "held", "should_hold", "held_not_allowed", "allowed_not_held",
    "deletions_due", "deletions_requested", "deletions_overdue", "last_export",
)  # fmt: skip


def providers_report(session: Session, *, as_of: date) -> list[dict]:
    from cloudctl.exporters.enrolment import selection

    deadline = get_settings(session).deletion_deadline_days
    services = service_facts(session)
    pupil_ids = [s.id for s in services if s.category == "pupil"]
    sends = last_sends(session, pupil_ids)
    facts = deletion_facts(session)
    held: dict[int, set[int]] = {service_id: set() for service_id in pupil_ids}
    for (pupil_id, service_id), (sent_at, _) in sends.items():
        if pair_state(sent_at, facts.get((pupil_id, service_id), [])).held:
            held[service_id].add(pupil_id)
    counts: dict[int, dict[str, int]] = {}
    for item in deletions(session, as_of=as_of):
        tally = counts.setdefault(item.service_id, {"due": 0, "requested": 0, "overdue": 0})
        tally["due" if item.status == DUE else "requested"] += item.status in (DUE, REQUESTED)
        tally["overdue"] += item.days_waiting > deadline
    last = _last_exports(session)
    rows = []
    for service in services:
        tally = counts.get(service.id, {"due": 0, "requested": 0, "overdue": 0})
        if service.category == "pupil":
            try:
                should = set(selection(session, service.name, "pupil", allow_no_fields=True).pupil_ids)
            except RuleRefused:
                should = set()  # not approved: nobody may be sent
            holds = held[service.id]
            if not holds and not should and not any(tally.values()) and service.id not in last:
                continue
            figures = {
                "held": len(holds),
                "should_hold": len(should),
                "held_not_allowed": len(holds - should),
                "allowed_not_held": len(should - holds),
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


def _last_exports(session: Session) -> dict[int, str]:
    """service id -> the day of its last export of pupils' data (a full export or --changes)."""
    rows = fetch_rows(
        session,
        "SELECT service_id, MAX(exported_at) FROM export_record WHERE kind IN (?, ?) GROUP BY service_id",
        ["full", "changes"],
    )
    return {service_id: moment(at)[:10] for service_id, at in rows}
