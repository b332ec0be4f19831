"""What each provider holds, what it should hold, and the deletions outstanding (governors, DPO).

Per service for pupils or parents (and school-management services with deletions), and per provider (the
service's provider now, and any provider it has left that still holds pupils' data or owes a deletion):
the pupils the provider holds according to `holdings` (sent to it, not confirmed deleted), the pupils
the full export would send now (`enrolment.selection`: consent decides), the two differences, the
deletions due (not yet requested), requested and overdue (as of a day), and the date of the last export.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows
from cloudctl.domain.deletion_facts import moment
from cloudctl.domain.deletions import DUE, REQUESTED, deletions, service_facts
from cloudctl.domain.holdings import holdings
from cloudctl.domain.settings import get_settings
from cloudctl.errors import RuleRefused

PROVIDER_KEYS = (
    "service", "category", "provider", "held", "should_hold", "held_not_allowed", "allowed_not_held",
    "deletions_due", "deletions_requested", "deletions_overdue", "last_export",
)  # fmt: skip


def providers_report(session: Session, *, as_of: date) -> list[dict]:
    """One row per service and provider: the service's provider now, and every provider it has left that
    still holds pupils' data or has deletions outstanding (`holdings`: keyed by whom data was sent to)."""
    from cloudctl.exporters.enrolment import selection

    deadline = get_settings(session).deletion_deadline_days
    services = service_facts(session)
    pupil_ids = [s.id for s in services if s.category == "pupil"]
    held: dict[tuple[int, int | None], set[int]] = {}
    names: dict[tuple[int, int | None], str] = {}
    for (pupil_id, service_id, provider_id), holding in holdings(session, service_ids=pupil_ids).items():
        key = (service_id, provider_id)
        names.setdefault(key, holding.provider_name)
        if holding.held:
            held.setdefault(key, set()).add(pupil_id)
    counts: dict[tuple[int, int | None], dict[str, int]] = {}
    for item in deletions(session, as_of=as_of):
        key = (item.service_id, item.provider_id)
        names.setdefault(key, item.provider)
        tally = counts.setdefault(key, {"due": 0, "requested": 0, "overdue": 0})
        tally["due" if item.status == DUE else "requested"] += item.status in (DUE, REQUESTED)
        tally["overdue"] += item.days_waiting > deadline
    last = _last_exports(session)
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
                should: set[int] = set()
                if key == now:
                    # Not approved, or no provider: nobody may be sent.
                    with suppress(RuleRefused):
                        should = set(
                            selection(session, service.name, "pupil", allow_no_fields=True).pupil_ids
                        )
                holds = held.get(key, set())
                if not holds and not should and not any(tally.values()) and key not in last:
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
                    "provider": service.provider if key == now else names.get(key, ""),
                    **figures,
                    "deletions_due": tally["due"],
                    "deletions_requested": tally["requested"],
                    "deletions_overdue": tally["overdue"],
                    "last_export": last.get(key),
                }
            )
    return rows


def _last_exports(session: Session) -> dict[tuple[int, int | None], str]:
    """(service id, provider id) -> the day of the last export of pupils' data (full or --changes)."""
    rows = fetch_rows(
        session,
        "SELECT service_id, provider_id, MAX(exported_at) FROM export_record WHERE kind IN (?, ?) "
        "GROUP BY service_id, provider_id",
        ["full", "changes"],
    )
    return {(service_id, provider_id): moment(at)[:10] for service_id, provider_id, at in rows}
