"""Changes since the last export: only what a provider must change to hold what a full export sends now.

What the service's provider NOW holds comes from `holdings` (every file sent to that provider for the
service, in order, and the deletions it confirmed): a provider the service has just moved to holds
nothing, so everyone the full export sends is an add. Against it, the full export's own selection
(`enrolment.selection`, the one place consent decides who is sent) gives:

- add: sent now, and not on the provider's roster (newly opted in, newly eligible, opted in again after
  a removal or a deletion request, or sent again after the provider confirmed deleting the pupil: the
  reason then says so);
- update: on the roster, sent now, but a value sent differs (class, name, UPN, a field added or dropped);
- remove: held by the provider (sent, and not confirmed deleted), not sent now; the reason says why
  (opted out, consent needs renewal, left the roll, out of the service's year groups, not selected, no
  pupil data allowed any more). A remove row is repeated in every changes file until the provider
  confirms the deletion (`deletion confirm`): until then cloudctl must take it that the provider still
  holds the pupil, as `deletion list` and `report providers` do. A remove row carries what the
  provider was last sent for the pupil (the ledger's values, as `deletion request` names it), so the
  provider can find the child even when the service no longer receives those fields; nothing new
  leaves. The file's fields are the service's fields now plus any only a remove row carries (blank on
  add and update rows), and the ledger records those fields.

When the service receives UPNs, the file has a `sent_upn` column: the UPN the provider holds the pupil
under (the one last sent; blank for an add). After `pupil change-upn`, an update row carries the new UPN
in `upn` and the one the provider knows in `sent_upn`.

Applying the file to the roster gives exactly the full export: the property tests hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from cloudctl.db.models import Pupil
from cloudctl.domain.consent_policy import NEEDS_RENEWAL, NO_RESPONSE, NOT_ELIGIBLE, OPTED_OUT, Standing
from cloudctl.domain.consent_policy import ServiceRule as Rule
from cloudctl.domain.export_ledger import ADD, REMOVE, UPDATE, SentPupil, values_text
from cloudctl.domain.holdings import holdings, of_provider, values_held
from cloudctl.exporters.enrolment import COLUMN_ORDER, Selection, selection

CHANGE_COLUMNS = ("action", "reason")
SENT_UPN = "sent_upn"  # the UPN the provider holds the pupil under, when the service receives UPNs
# Order of the file: what to remove first (the urgent part), then updates, then additions.
_ACTION_ORDER = {REMOVE: 0, UPDATE: 1, ADD: 2}


@dataclass
class Changes:
    """The --changes file: its columns (action, reason, then the fields) and rows, and the ledger's rows."""

    selection: Selection
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    sent: list[SentPupil] = field(default_factory=list)
    sent_upns: dict[int, str] = field(default_factory=dict)  # pupil id -> the UPN the provider holds
    fields: list[str] = field(default_factory=list)  # the pupil fields of the file (what the ledger records)

    @property
    def removals_only(self) -> bool:
        """The service is not approved: nothing new may be sent, the file only removes what is held."""
        return self.selection.service.status != "approved"

    def count(self, action: str) -> int:
        return sum(1 for sent in self.sent if sent.action == action)


def removal_reason(rule: Rule, pupil: Pupil, standing: Standing | None) -> str:
    """Why a pupil is no longer sent to the service, in the words the changes file and deletions use."""
    if not pupil.on_roll:
        return f"left the roll on {pupil.left_on.isoformat()}" if pupil.left_on else "left the roll"
    status = rule.status_for(pupil.on_roll, pupil.year_group, standing)
    if status == OPTED_OUT:
        return f"opted out on {standing.effective_on}" if standing else "opted out"
    if status == NEEDS_RENEWAL:
        if standing is None:
            return "consent needs renewal"
        # The policy says why: data the parent was not told of, or consent older than the school allows.
        return "consent needs renewal: " + rule.renewal_reason(standing.told, standing.effective_on)
    if status == NOT_ELIGIBLE:
        if rule.scope == "selected":
            return "not selected for the service"
        years = rule.years_text or "none"
        return f"not in the service's year groups ({years}): now in year group {pupil.year_group}"
    if status == NO_RESPONSE:
        return "no consent recorded"
    return "no longer sent"


def _changed_fields(held: dict, now: dict) -> str:
    changed = [key for key in now if key not in held or held[key] != now[key]]
    dropped = [key for key in held if key not in now]
    parts = []
    if changed:
        parts.append("changed: " + ", ".join(changed))
    if dropped:
        parts.append("no longer sent: " + ", ".join(dropped))
    return "; ".join(parts) or "changed"


def changes_export(session: Session, service_name: str, category: str | None = None) -> Changes:
    """What the service's provider must change since the last recorded export to it."""
    from cloudctl.domain.deletions import STATUS_WORDS  # the words `deletion list` uses

    chosen = selection(session, service_name, category, allow_no_fields=True, removals_only=True)
    service_id = chosen.service.id
    held = of_provider(
        holdings(session, service_ids=[service_id], with_values=True), service_id, chosen.service.provider_id
    )
    with_upn = "upn" in chosen.columns
    changes = Changes(chosen, [*CHANGE_COLUMNS, *([SENT_UPN] if with_upn else []), *chosen.columns])
    standings = chosen.standings
    for pupil_id, upn, row in zip(chosen.pupil_ids, chosen.upns, chosen.rows, strict=True):
        holding = held.pop(pupil_id, None)
        if holding is None or not holding.on_roster:
            standing = standings.get((pupil_id, service_id)) if standings else None
            reason = f"opted in on {standing.effective_on}" if standing else "opted in"
            if holding is not None and not holding.held and holding.deleted_on:
                reason += (
                    f"; sent again: {holding.provider_name} confirmed deleting this pupil's data on "
                    f"{holding.deleted_on}"
                )
            changes.sent.append(SentPupil(pupil_id, upn, ADD, row, reason))
        elif holding.values_text != values_text(row):
            reason = _changed_fields(holding.values, row)
            changes.sent.append(SentPupil(pupil_id, upn, UPDATE, row, reason))
            changes.sent_upns[pupil_id] = holding.upn_sent or ""
    held = {pupil_id: holding for pupil_id, holding in held.items() if holding.held}
    if held:
        pupils = {pupil.id: pupil for pupil in _pupils(session, list(held))}
        holds = values_held(session, list(held.values()))
        for pupil_id, holding in sorted(held.items(), key=lambda item: item[1].upn_sent or ""):
            pupil = pupils[pupil_id]
            standing = standings.get((pupil_id, service_id)) if standings else None
            if not chosen.columns:
                reason = "the register no longer lists pupil data this service receives"
            elif not changes.removals_only:
                reason = removal_reason(chosen.rule, pupil, standing)
            else:  # as `deletion list` names it: an opt-out first, else the service's status
                reason = removal_reason(chosen.rule, pupil, standing)
                if not reason.startswith("opted out"):
                    reason = (
                        f"the service is {STATUS_WORDS.get(chosen.service.status, chosen.service.status)}"
                    )
            # What the provider holds (every send since it last held nothing, as `deletion request` names
            # the pupil): the fields it holds the child under, even those the service no longer receives.
            values = holds.get((pupil_id, service_id, holding.provider_id)) or holding.values
            changes.sent.append(SentPupil(pupil_id, holding.upn_sent or pupil.upn, REMOVE, values, reason))
            changes.sent_upns[pupil_id] = holding.upn_sent or ""
    changes.sent.sort(key=lambda sent: _ACTION_ORDER[sent.action])
    # The file's fields: what the service receives now, and any field only a remove row carries (blank
    # on the other rows), in the export's column order.
    carried = {column for sent in changes.sent for column in sent.values}
    changes.fields = [column for column in COLUMN_ORDER if column in carried or column in chosen.columns]
    changes.columns = [*CHANGE_COLUMNS, *([SENT_UPN] if with_upn else []), *changes.fields]
    changes.rows = [
        {
            "action": sent.action,
            "reason": sent.reason,
            **({SENT_UPN: changes.sent_upns.get(sent.pupil_id, "")} if with_upn else {}),
            **{column: sent.values.get(column) for column in changes.fields},
        }
        for sent in changes.sent
    ]
    return changes


def removals_only_note(service, removals: int) -> str:  # type: ignore[no-untyped-def]
    """What a --changes file for a service that is not approved says on stderr."""
    from cloudctl.domain.deletions import STATUS_WORDS

    words = STATUS_WORDS.get(service.status, service.status)
    return (
        f"'{service.name}' is {words}: this file only asks the provider to remove the {removals} pupil(s) it "
        "holds; nothing new is sent."
    )


def _pupils(session: Session, ids: list[int]) -> list[Pupil]:
    from sqlmodel import select

    found: list[Pupil] = []
    for start in range(0, len(ids), 500):
        found += session.exec(select(Pupil).where(Pupil.id.in_(ids[start : start + 500]))).all()
    return found
