"""Changes to a service that matter to its risk assessment, and which of them make it outdated.

The ICO expects a DPIA to be revisited when the processing changes. What counts, here:

- data shared: a category added is a widening (even if another was removed); only removed, or replaced by
  a part of it (first name for full name: cloudctl.vocab.data_containment), a narrowing;
- year groups: more year groups, or from none to selected pupils to whole years, is a widening;
- provider: any change of provider (a different company holds the data);
- storage location: further from the UK (UK, then EEA, then elsewhere) is a widening, nearer a narrowing;
  a location recorded for the first time is a widening unless it is the UK;
- lawful basis: a change from one basis to another; recording it for the first time does not outdate;
- section (`service edit --move-to`): any move between the register's sections. Each section is a footing
  the assessment judged the processing on: pupil services rest on parents' consent (opt in, opt out at any
  time, an offline alternative); school management is needed to run the school (no opt-out, the school's
  public task); other online services are data potentially shared under controls; legal requirements are
  statutory sharing (a legal obligation). A move takes away or gives parents' choice, or changes the basis
  the school relies on, so whichever way it goes the assessment is reviewed. Moves are rare and deliberate:
  a review too many costs little, an assessment left judging the wrong footing does not.

A widening or changed entry dated after the latest assessment (or on its day but recorded after it)
makes that assessment outdated: its review falls due on the day of the change. Narrowing, first-recorded
and cleared entries are kept in the history but outdate nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from cloudctl.db.models import Provider, RiskAssessment, Service, ServiceChange

# The effects that make the latest assessment outdated.
OUTDATING = frozenset({"widening", "changed"})
# Each watched field as messages and reports name it.
FIELD_LABELS = {
    "data_shared": "data shared",
    "year_groups": "year groups",
    "provider": "provider",
    "storage_location": "storage location",
    "lawful_basis": "lawful basis",
    "category": "section",
}
_STORAGE_RANK = {"UK": 0, "EEA": 1, "elsewhere": 2}
_SCOPE_RANK = {"none": 0, "selected": 1, "years": 2}


@dataclass(frozen=True)
class ServiceFacts:
    """What a service looked like, as far as its risk assessment is concerned."""

    categories: tuple[str, ...]
    year_scope: str
    year_codes: tuple[str, ...]
    year_groups_text: str
    provider_id: int | None
    storage_location: str | None
    lawful_basis: str | None
    category: str  # the register's section: pupil, management, other or statutory


def facts_of(service: Service) -> ServiceFacts:
    return ServiceFacts(
        category=service.category,
        categories=tuple(json.loads(service.data_categories or "[]")),
        year_scope=service.year_scope,
        year_codes=tuple(code for code in (service.year_codes or "").split(",") if code),
        year_groups_text=service.year_groups_text or "",
        provider_id=service.provider_id,
        storage_location=service.storage_location or None,
        lawful_basis=(service.lawful_basis or "").strip() or None,
    )


@dataclass(frozen=True)
class Difference:
    field: str
    before: str | None
    after: str | None
    effect: str  # widening, narrowing, changed, first-recorded, cleared


def _data_shared(before: ServiceFacts, after: ServiceFacts) -> Difference | None:
    from cloudctl.vocab.data_containment import not_covered, same_data

    if same_data(before.categories, after.categories):
        return None
    added = not_covered(after.categories, before.categories)
    return Difference(
        "data_shared",
        ", ".join(before.categories) or None,
        ", ".join(after.categories) or None,
        "widening" if added else "narrowing",
    )


def _year_groups(before: ServiceFacts, after: ServiceFacts) -> Difference | None:
    if (before.year_scope, set(before.year_codes)) == (after.year_scope, set(after.year_codes)):
        return None
    rank_before, rank_after = _SCOPE_RANK.get(before.year_scope, 0), _SCOPE_RANK.get(after.year_scope, 0)
    added = set(after.year_codes) - set(before.year_codes)
    wider = rank_after > rank_before or (rank_after == rank_before and added)
    effect = "widening" if wider else "narrowing"
    return Difference("year_groups", before.year_groups_text or None, after.year_groups_text or None, effect)


def _storage(before: ServiceFacts, after: ServiceFacts) -> Difference | None:
    old, new = before.storage_location, after.storage_location
    if old == new:
        return None
    if new is None:
        effect = "cleared"
    elif old is None:
        effect = "first-recorded" if new == "UK" else "widening"
    else:
        effect = "widening" if _STORAGE_RANK.get(new, 2) > _STORAGE_RANK.get(old, 2) else "narrowing"
    return Difference("storage_location", old, new, effect)


def _lawful_basis(before: ServiceFacts, after: ServiceFacts) -> Difference | None:
    old, new = before.lawful_basis, after.lawful_basis
    if (old or "").casefold() == (new or "").casefold():
        return None
    effect = "first-recorded" if old is None else "cleared" if new is None else "changed"
    return Difference("lawful_basis", old, new, effect)


def differences(before: ServiceFacts, after: ServiceFacts) -> list[Difference]:
    """What changed between two states of a service that matters to its assessment (a pure function)."""
    found = [_data_shared(before, after), _year_groups(before, after)]
    if before.provider_id != after.provider_id:
        found.append(Difference("provider", None, None, "changed"))
    found += [_storage(before, after), _lawful_basis(before, after)]
    if before.category != after.category:
        found.append(Difference("category", before.category, after.category, "changed"))
    return [difference for difference in found if difference is not None]


def record_changes(
    session: Session, service: Service, before: ServiceFacts, *, changed_on: date, source: str
) -> list[ServiceChange]:
    """Record, as history, what changed in `service` since `before` that matters to its assessment."""
    rows = []
    for difference in differences(before, facts_of(service)):
        if difference.field == "lawful_basis" and difference.effect == "first-recorded":
            difference = _after_a_clearing(session, service, difference)
        old, new = difference.before, difference.after
        if difference.field == "provider":
            old, new = (
                _provider_name(session, before.provider_id),
                _provider_name(session, service.provider_id),
            )
        rows.append(
            ServiceChange(
                service_id=service.id,
                changed_on=changed_on,
                field=difference.field,
                before=old,
                after=new,
                effect=difference.effect,
                source=source,
            )
        )
    session.add_all(rows)
    if rows:
        session.flush()
    return rows


def _after_a_clearing(session: Session, service: Service, difference: Difference) -> Difference:
    """A basis written where the last one was cleared is a change from that one, not a first recording:
    clearing a basis and then writing another is a change made in two steps."""
    from sqlmodel import select

    last = session.exec(
        select(ServiceChange)
        .where(ServiceChange.service_id == service.id, ServiceChange.field == difference.field)
        .order_by(ServiceChange.id.desc())  # type: ignore[union-attr]
    ).first()
    if last is None or last.effect != "cleared" or not last.before:
        return difference
    if last.before.casefold() == (difference.after or "").casefold():
        return difference  # the same basis back: what was assessed stands
    return Difference(difference.field, last.before, difference.after, "changed")


def _provider_name(session: Session, provider_id: int | None) -> str | None:
    provider = session.get(Provider, provider_id) if provider_id else None
    return provider.name if provider is not None else None


def describe(field: str, before: str | None, after: str | None, effect: str) -> str:
    """One change as a person reads it: 'data shared widened: full name -> full name, date of birth'."""
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    verb = {
        "widening": "widened",
        "narrowing": "narrowed",
        "changed": "changed",
        "first-recorded": "recorded",
        "cleared": "cleared",
    }.get(effect, effect)
    if field == "data_shared" and effect == "widening" and before is not None and after is not None:
        from cloudctl.vocab.data_containment import not_covered

        added = not_covered([part.strip() for part in after.split(",")], before.split(","))
        if added:
            return f"{label} {verb}: added {', '.join(added)}"
    return f"{label} {verb}: {before or '(none)'} -> {after or '(none)'}"


def outdates(
    change_on: date, change_recorded: datetime, assessed_on: date, assessment_recorded: datetime
) -> bool:
    """Whether a change (widening or changed) came after the assessment: a later day, or the same day but
    recorded after the assessment was."""
    if change_on != assessed_on:
        return change_on > assessed_on
    return _naive(change_recorded) > _naive(assessment_recorded)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def changes_since(changes: list[ServiceChange], assessment: RiskAssessment | None) -> list[ServiceChange]:
    """The outdating changes after `assessment` (all of them when there is none), oldest first."""
    return [
        change
        for change in changes
        if change.effect in OUTDATING
        and (
            assessment is None
            or outdates(change.changed_on, change.recorded_at, assessment.assessed_on, assessment.recorded_at)
        )
    ]


def outdating_changes(
    session: Session, service: Service, assessment: RiskAssessment | None
) -> list[ServiceChange]:
    """The outdating changes to `service` after `assessment` (its latest), oldest first: while there are any
    it shows as changed-since-assessed."""
    from sqlmodel import select

    changes = session.exec(
        select(ServiceChange)
        .where(ServiceChange.service_id == service.id)
        .order_by(ServiceChange.changed_on, ServiceChange.id)
    )
    return changes_since(list(changes), assessment)
