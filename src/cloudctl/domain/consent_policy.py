"""The consent policy as pure functions: a pupil's status for a service, and what recording a decision does.

Nothing here reads or writes a database (no SQLAlchemy, no SQLModel): domain/consent.py gathers the
facts, asks `decide`, and writes one event when the verdict says so. Reports, exports, forms and every
command (single, bulk, import) ask these same two functions, so no path can decide differently.
The rules are those of docs/consent.md ("Which decision stands", the rules table; issue 8, item 1).

Facts in
--------
`decide(rule, pupil, history, request) -> Verdict`

- rule: ServiceRule - the service: name, category (pupil/management/other/statutory), status
  (approved/awaiting-assessment/not-approved/retired), scope (years/selected/none), year codes, current
  data categories (case-folded), the year-groups text for messages, and the school's ConsentLifetime
  (how many months an opt-in lasts, counted to today; unlimited unless the school sets it).
- pupil: PupilFacts - upn, on_roll, year_group (an NC code), dob, left_on.
- history: the pair's events (PairEvent: id, decision, effective date, giver, bulk, selected, what the
  parent was told, time of day when known), in any order. (A Standing alone is accepted too, as a
  history of one single event.)
- request: Request - decision, effective_on (a date), given_by, reach, told (the case-folded
  categories of the service version in force on effective_on: what this parent was told), and at (the
  time of day, "HH:MM:SS", when known: an online form's submission time; None otherwise).
  reach is SINGLE (one pupil and one service: `consent optin|optout UPN SERVICE`, or one row of
  `consent import`), ONE_PUPIL_ALL_SERVICES (`consent optin|optout UPN --all-services`), or BULK
  (`--class` / `--year`).
  The request is already checked: its date is 2000..today and an opt-in has a giver
  (`ConsentRequest.checked` refuses otherwise, before any pupil is looked at).

The standing decision: a fold
-----------------------------
A parent's decision outranks any bulk operation. An event is *bulk* when it came from `--class`, `--year`
or an opt-in with `--all-services` (`is_bulk`); everything else (one pupil and one service, a row of
`consent import`, one pupil's `optout --all-services`) is a single decision. `fold` walks the pair's
events in `order_key` order: by date, then by time of day where the event carries one (an online
form's submission time), so a parent's last word stands; an event without a time cannot be placed among
the others of its day, so the safe side is taken (an opt-out without a time after every event of its day,
an opt-in without one before them all; of two at the same moment, the opt-out last); then as recorded.
A single event always becomes the standing one; a bulk event only when nothing stands yet or it has the
decision that stands. So a bulk event never overrides an opposite
decision, whichever was entered first. The *run* of the standing decision is the events since it last
changed decision; its givers (folded with `fold_name`) are who has already given that decision.

Verdict out
-----------
kind, one of:
- RECORD: write one event (action "recorded", or "reversed" when it overturns a standing decision of
  the opposite kind).
- EVIDENCE: write one event; the same decision already stood, given by someone else (the second parent).
  The status is unchanged.
- NOTHING: the same decision by the same giver already stands, or this very event is already recorded:
  write nothing (action "unchanged").
- SKIP: a bulk path leaves this pupil out (action "skipped"); message says why.
- REFUSE: the command is refused (a single path raises; a service-level refusal raises in every path).
message: what was (or was not) recorded, for the user. selects: the event to write marks the pupil
selected. bulk: the event to write is a bulk one. status_before / status_after: the pupil's status before
and after the write (after folds the history with the new event in it).

The rules, in the order `decide` applies them
---------------------------------------------
1. Not a pupil service: REFUSE (any reach). An opt-in to a service that is not approved or enrols no
   one: REFUSE (any reach).
2. A date before the pupil's birth; an opt-in for a pupil off roll or outside the service's year groups:
   REFUSE when one pupil is named (SINGLE, ONE_PUPIL_ALL_SERVICES), SKIP for BULK. A BULK opt-in to a
   selected-pupils-only service: SKIP (selection is pupil by pupil).
3. No standing event: RECORD.
4. Standing decision == request decision (for an opt-in, only when the status is opted-in; an opt-in
   that renews a needs-renewal or selects the pupil is a real change and falls to rule 7):
   a giver who already gave it in the current run (`fold_name`; no giver == no giver): NOTHING. A
   decision for one pupil repeats only the giver's own single decision, never a bulk one in their name.
   Except, kept as EVIDENCE (rule 6) so that a decision of the other kind recorded later cannot stand
   over the parent's latest word: a decision with a time of day after the standing one (a later online
   submission of the same answer), and a parent's opt-out restated on a later day than the standing
   opt-out (an opt-in of that day without a time must not override it).
5. An event identical to one already recorded for the pair (same decision, effective date, time of day
   (none == none) and giver by
   `fold_name`, the same data told, the same selection and the same reach (bulk or single), so a same-day
   renewal after the data grew, an opt-in that selects the pupil, or a parent's own form after a bulk
   run in their name, is not a repeat): NOTHING, in every path (a re-imported file, a form keyed twice).
   Never for an opt-out while an opt-in stands: a withdrawal is never taken for a repeat.
6. Rule 4 otherwise: another giver is EVIDENCE. Standing decision is the opposite: BULK never reverses
   it (SKIP, naming the date and giver that stand); ONE_PUPIL_ALL_SERVICES reverses standing opt-ins with
   an opt-out but never an opt-out with an opt-in (SKIP); SINGLE reverses it (RECORD, action "reversed")
   - unless, folded in, it does not change the standing decision: then it is recorded as history and the
   decision that stands still stands.
7. Otherwise RECORD. A decision that does not change the standing one says the later one still stands;
   an opt-in that lands as needs-renewal says so (and never claims to renew).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from cloudctl.vocab.data_containment import not_covered
from cloudctl.vocab.dates import add_months
from cloudctl.vocab.text import fold_name

if TYPE_CHECKING:
    from cloudctl.db.models import Pupil, Service

OPT_IN, OPT_OUT = "opt-in", "opt-out"

# A pupil's standing with a service, as reports show it.
OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE = (
    "opted-in",
    "opted-out",
    "no-response",
    "needs-renewal",
    "not-eligible",
)
STATUSES = (OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE)

# How far a decision reaches.
SINGLE = "single"  # one pupil, one service (a command naming both, or one row of consent import)
ONE_PUPIL_ALL_SERVICES = "one-pupil-all-services"  # consent optin|optout UPN --all-services
BULK = "bulk"  # --class or --year

# Verdicts.
RECORD, EVIDENCE, NOTHING, SKIP, REFUSE = "record", "evidence", "nothing", "skip", "refuse"
# What an outcome row says was done.
RECORDED, REVERSED, AS_EVIDENCE, UNCHANGED, SKIPPED, REFUSED = (
    "recorded",
    "reversed",
    "evidence",
    "unchanged",
    "skipped",
    "refused",
)
WRITTEN_ACTIONS = (RECORDED, REVERSED, AS_EVIDENCE)


def folded(categories: Iterable[str]) -> frozenset[str]:
    return frozenset(name.casefold() for name in categories)


# --- the facts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRule:
    """A service's consent rules, worked out once so reports can apply them to every pupil quickly."""

    id: int
    name: str
    category: str
    status: str
    scope: str
    codes: frozenset[str]
    categories: frozenset[str]
    # The year groups whose pupils on roll may be enrolled without being selected.
    open_years: frozenset[str]
    # The register's year-groups text ("Y2 - Y6"), for messages.
    years_text: str = ""
    # How long an opt-in lasts (the school's --consent-months, counted to today): the age input.
    lifetime: ConsentLifetime = field(default_factory=lambda: UNLIMITED)
    # Not approved because its high-risk approval awaits a sign-off: by whom (the school's sign-off role),
    # for messages. None otherwise.
    awaiting_sign_off: str | None = None

    @classmethod
    def of(cls, service: Service, lifetime: ConsentLifetime | None = None) -> ServiceRule:
        return cls.build(
            service.id,
            service.name,
            service.category,
            service.status,
            service.year_scope,
            service.year_codes,
            service.data_categories,
            service.year_groups_text or "",
            lifetime,
        )

    @classmethod
    def build(
        cls,
        id_: int,
        name: str,
        category: str,
        status: str,
        scope: str,
        codes_text: str,
        categories_json: str,
        years_text: str = "",
        lifetime: ConsentLifetime | None = None,
    ) -> ServiceRule:
        codes = frozenset(code for code in codes_text.split(",") if code)
        open_to_all = (category, status, scope) == ("pupil", "approved", "years")
        return cls(
            id=id_,
            name=name,
            category=category,
            status=status,
            scope=scope,
            codes=codes,
            categories=folded(json.loads(categories_json)),
            open_years=codes if open_to_all else frozenset(),
            years_text=years_text,
            lifetime=lifetime or UNLIMITED,
        )

    def in_scope(self, year_group: str, *, selected: bool) -> bool:
        """Within the service's year groups, or selected for a selected-pupils-only service."""
        if self.scope == "selected":
            return selected
        return self.scope == "years" and year_group in self.codes

    def eligible(self, on_roll: bool, year_group: str, *, selected: bool) -> bool:
        """May a pupil be enrolled, given consent?"""
        return (
            self.category == "pupil"
            and self.status == "approved"
            and on_roll
            and self.in_scope(year_group, selected=selected)
        )

    def covered_by(self, standing: Standing) -> bool:
        """Does the consent cover everything the service receives now?"""
        return self.told_covers(standing.told)

    def told_covers(self, told: frozenset[str]) -> bool:
        """Was a parent told of everything the service receives now? A category is covered by itself or
        by a whole it is a part of (vocab/data_containment: a first name by the full name), so a service
        that narrows what it receives needs no renewal of consent."""
        return self.categories <= told or not self.untold(told)

    def untold(self, told: frozenset[str]) -> list[str]:
        """What the service receives now that a parent told of `told` was not told of, sorted."""
        return sorted(not_covered(self.categories - told, told))

    def status_for(self, on_roll: bool, year_group: str, standing: Standing | None) -> str:
        if standing is None:
            return self.status_of(on_roll, year_group, None, False, frozenset(), None)
        return self.status_of(
            on_roll, year_group, standing.decision, standing.selected, standing.told, standing.effective_on
        )

    def default_status(self, year_group: str) -> str:
        """The status of a pupil on roll with no event for this service."""
        return self.status_of(True, year_group, None, False, frozenset(), None)

    def status_of(
        self,
        on_roll: bool,
        year_group: str,
        decision: str | None,
        selected: bool,
        told: frozenset[str],
        given_on: str | date | None,
    ) -> str:
        """The pupil's standing with this service: the one place the rules of status live.

        given_on: the standing decision's effective date (ISO text or a date): an opt-in older than the
        school's consent lifetime needs renewal, as one that no longer covers the data does.
        """
        if decision is None:
            return NO_RESPONSE if on_roll and year_group in self.open_years else NOT_ELIGIBLE
        if decision == OPT_OUT:
            return OPTED_OUT  # a withdrawal always shows, eligible or not; it never lapses
        if not self.eligible(on_roll, year_group, selected=selected):
            return NOT_ELIGIBLE
        if not self.told_covers(told) or self.lifetime.lapsed(given_on):
            return NEEDS_RENEWAL
        return OPTED_IN

    def renewal_reason(self, told: frozenset[str], given_on: str | date | None) -> str:
        """Why an opt-in needs renewal, in words: what the service now receives that the parent was not
        told of, or the date it lapsed."""
        missing = ", ".join(self.untold(told))
        if missing:
            return f"the form predates what '{self.name}' now receives ({missing})"
        lapsed_on = self.lifetime.lapses_on(given_on) if given_on is not None else None
        return (
            f"consent given on {_iso(given_on)} lapsed on {lapsed_on} (the school asks again after "
            f"{self.lifetime.months} months)"
        )


def _iso(day: str | date | None) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)


@dataclass(frozen=True)
class ConsentLifetime:
    """How long an opt-in lasts: `months` (None: until withdrawn), counted to `today`.

    Consent given on day D for N months counts up to and including the day before D + N months
    (calendar months, a short month's end clamped: 31 January + 1 month is 28 February) and has lapsed
    from the START of D + N months: consent given on 2025-12-31 for 12 months counts through 2026-12-30
    and needs renewal on 2026-12-31. An opt-out never lapses.
    """

    months: int | None = None
    today: date | None = None

    def __post_init__(self) -> None:
        if self.months is not None and self.today is None:
            raise ValueError("a consent lifetime in months needs the day it is counted to")

    @property
    def unlimited(self) -> bool:
        return self.months is None

    def lapses_on(self, given_on: str | date) -> date | None:
        """The first day consent given on `given_on` no longer counts, or None when it never lapses."""
        if self.months is None:
            return None
        return _months_after(_iso(given_on), self.months)

    def lapsed(self, given_on: str | date | None) -> bool:
        if self.months is None or given_on is None:
            return False
        return self.today >= _months_after(_iso(given_on), self.months)


@lru_cache(maxsize=4096)
def _months_after(given_on: str, months: int) -> date:
    """Calendar months after an ISO date, clamped to the month's end (a report asks for each date once)."""
    return add_months(date.fromisoformat(given_on[:10]), months)


UNLIMITED = ConsentLifetime()


class Standing(NamedTuple):
    """A pupil's latest event for a service, with what the parent was told."""

    decision: str
    effective_on: str  # ISO date
    given_by: str | None
    # A selected opt-in exists for the pair (any event, not only this one).
    selected: bool
    # The data categories the parent was told about, case-folded.
    told: frozenset[str]


class PairEvent(NamedTuple):
    """One recorded event of a pupil and service, as the fold reads it."""

    id: int
    decision: str
    effective_on: str  # ISO date
    given_by: str | None
    # From --class, --year or an opt-in with --all-services (False for rows from before this was kept).
    bulk: bool
    selected: bool
    told: frozenset[str]
    # The time of day the decision was made ("HH:MM:SS"), when known: an online form's submission time.
    # None for a paper form, a phone call or an e-mail keyed in with a date alone.
    at: str | None = None


# Where a decision falls among those of its day (`order_key`): a decision with no time of day cannot be
# placed among the others of its day, so an opt-out goes after them all and an opt-in before them all.
_BEFORE_ANY_TIME, _AFTER_ANY_TIME = "", "~"


def order_key(effective_on: str, at: str | None, decision: str, id_: int) -> tuple[str, str, bool, int]:
    """The order the fold reads a pair's events in: THE rule of which decision is a parent's last word.

    By date; within a day, by time of day when the decision carries one (an online form's submission
    time), so the later of two submissions stands. A decision with no time (a paper form, a phone call)
    cannot be placed among the others of its day, so the safe side is taken: an opt-out without a time
    comes after every decision of its day, and an opt-in without a time before them all. Two decisions at
    the same time (or two without one) of opposite kinds: the opt-out comes last. Then the order recorded.
    """
    slot = (_BEFORE_ANY_TIME if decision == OPT_IN else _AFTER_ANY_TIME) if at is None else at
    return (effective_on, slot, decision == OPT_OUT, id_)


def event_order(event: PairEvent) -> tuple[str, str, bool, int]:
    return order_key(event.effective_on, event.at, event.decision, event.id)


# The id the event being decided on takes in the fold: after every event recorded.
NEW_EVENT_ID = 2**63


def is_bulk(reach: str, decision: str) -> bool:
    """Is an event recorded with this reach a bulk one? (--class, --year, or an opt-in with --all-services;
    one pupil's opt-out of every service is that parent's own decision.)"""
    return reach == BULK or (reach == ONE_PUPIL_ALL_SERVICES and decision == OPT_IN)


class Folded(NamedTuple):
    """The fold of a pair's events: the standing event, and the run of its decision by giver."""

    standing: PairEvent | None
    # fold_name(giver) -> that giver's latest event in the run of the standing decision (their latest
    # single one, when they have one: a bulk run in a parent's name is not that parent's own decision).
    run: dict[str, PairEvent]


def fold(events: Iterable[PairEvent]) -> Folded:
    """The standing event of a pair, and the run of its decision: see the module docstring."""
    standing: PairEvent | None = None
    run: dict[str, PairEvent] = {}
    for event in sorted(events, key=event_order):
        if standing is not None and event.bulk and event.decision != standing.decision:
            continue  # a bulk event never overrides the opposite decision
        if standing is None or event.decision != standing.decision:
            run = {}
        giver = fold_name(event.given_by)
        held = run.get(giver)
        # A giver's own (single) decision is kept over a bulk one given in their name.
        if held is None or held.bulk or not event.bulk:
            run[giver] = event
        standing = event
    return Folded(standing, run)


def standing_of(events: Sequence[PairEvent]) -> Standing | None:
    """The Standing that reports show, from a pair's events."""
    event = fold(events).standing
    if event is None:
        return None
    selected = any(e.selected for e in events)
    return Standing(event.decision, event.effective_on, event.given_by, selected, event.told)


@dataclass(frozen=True)
class PupilFacts:
    upn: str
    on_roll: bool
    year_group: str
    dob: date
    left_on: date | None = None

    @classmethod
    def of(cls, pupil: Pupil) -> PupilFacts:
        return cls(pupil.upn, pupil.on_roll, pupil.year_group, pupil.dob, pupil.left_on)


@dataclass(frozen=True)
class Request:
    """A decision to record for one pupil and one service."""

    decision: str
    effective_on: date
    given_by: str | None
    reach: str = SINGLE
    # The case-folded data categories of the service version in force on effective_on.
    told: frozenset[str] = frozenset()
    # The time of day the decision was made ("HH:MM:SS"), when known (an online form's submission time).
    at: str | None = None


@dataclass(frozen=True)
class Verdict:
    kind: str  # RECORD, EVIDENCE, NOTHING, SKIP or REFUSE
    action: str  # recorded, reversed, evidence, unchanged, skipped or refused
    message: str
    status_before: str
    status_after: str
    # The event to write marks the pupil selected for a selected-pupils-only service.
    selects: bool = False
    # The event to write is a bulk one (`is_bulk`).
    bulk: bool = False

    @property
    def writes(self) -> bool:
        return self.kind in (RECORD, EVIDENCE)


def same_person(first: str | None, second: str | None) -> bool:
    """Two givers are the same when their names fold alike (`fold_name`); no name matches no name."""
    return fold_name(first) == fold_name(second)


def _history(standing: Standing | Sequence[PairEvent] | None) -> list[PairEvent]:
    if standing is None:
        return []
    if isinstance(standing, Standing):
        event = PairEvent(1, standing.decision, standing.effective_on, standing.given_by, False,
                          standing.selected, standing.told)  # fmt: skip
        return [event]
    return list(standing)


# --- the policy ------------------------------------------------------------------------------------------


def decide(
    rule: ServiceRule,
    pupil: PupilFacts,
    history: Standing | Sequence[PairEvent] | None,
    request: Request,
) -> Verdict:
    """What recording `request` for this pupil and service does: see the module docstring."""
    events = _history(history)
    decision, when = request.decision, request.effective_on.isoformat()
    folded_before = fold(events)
    standing = standing_of(events)
    before = rule.status_for(pupil.on_roll, pupil.year_group, standing)
    one_pupil = request.reach in (SINGLE, ONE_PUPIL_ALL_SERVICES)
    bulk = is_bulk(request.reach, decision)

    def refuse(reason: str) -> Verdict:
        return Verdict(REFUSE, REFUSED, reason, before, before)

    def refuse_or_skip(reason: str) -> Verdict:
        return refuse(reason) if one_pupil else Verdict(SKIP, SKIPPED, reason, before, before)

    def nothing(text: str) -> Verdict:
        return Verdict(NOTHING, UNCHANGED, f"{text}: nothing recorded", before, before)

    # 1. The service.
    refusal = service_refusal(rule, decision)
    if refusal:
        return refuse(refusal)
    # 2. The pupil.
    if request.effective_on < pupil.dob:
        return refuse_or_skip(f"the date {when} is before pupil {pupil.upn} was born: check it.")
    selects = decision == OPT_IN and rule.scope == "selected"
    if decision == OPT_IN:
        refusal = pupil_refusal(rule, pupil)
        if refusal:
            return refuse_or_skip(refusal)
        if selects and request.reach == BULK:
            reason = f"'{rule.name}' is for selected pupils only: opt each pupil in by UPN."
            return Verdict(SKIP, SKIPPED, reason, before, before)

    recorded = f"recorded the {decision} of {_moment(when, request.at)}{_by(request.given_by)}"
    # What the standing decision and the status become if the event is written: the same fold.
    new = PairEvent(NEW_EVENT_ID, decision, when, request.given_by, bulk, selects, request.told, request.at)
    standing_after = fold([*events, new]).standing
    changes = folded_before.standing is None or standing_after.id != folded_before.standing.id
    selected_after = selects or (standing is not None and standing.selected)
    told_after = standing_after.told
    given_after = standing_after.effective_on
    after = rule.status_of(
        pupil.on_roll, pupil.year_group, standing_after.decision, selected_after, told_after, given_after
    )

    def record(text: str, action: str = RECORDED, kind: str = RECORD) -> Verdict:
        status = _status_words(rule, before, after, told_after, given_after)
        return Verdict(kind, action, f"{text}: {status}", before, after, selects, bulk)

    # 3. Nothing stands yet.
    if standing is None:
        return record(recorded)
    standing_event = folded_before.standing
    stands = (
        f"the {standing.decision} of {_moment(standing.effective_on, standing_event.at)}"
        f"{_by(standing.given_by, 'given by')}"
    )
    giver = fold_name(request.given_by)
    same_standing = standing.decision == decision and (decision == OPT_OUT or before == OPTED_IN)
    # 4. The same decision stands, and this giver already gave it in its current run. A decision for
    # one pupil repeats only the giver's own decision, never a bulk one in their name.
    given = folded_before.run.get(giver)
    # Kept all the same (as evidence), so that a decision of the other kind recorded later cannot stand over
    # the parent's latest word: a submission timed after the standing decision, or a withdrawal restated on
    # a later day (which keeps that day's safe side: an opt-in of that day without a time never overrides it).
    later = (
        request.at is not None
        and order_key(when, request.at, decision, NEW_EVENT_ID) > event_order(standing_event)
    ) or (decision == OPT_OUT and not bulk and when > standing_event.effective_on)
    if same_standing and given is not None and (bulk or not given.bulk) and not later:
        already = "opted in" if decision == OPT_IN else "opted out"
        return nothing(f"already {already}{_by(given.given_by)} on {given.effective_on}")
    # 5. This very event is already recorded (a file imported again, a form keyed twice). Never for a
    # withdrawal while an opt-in stands: a parent who changes their mind back the same day is heard.
    withdrawal = decision == OPT_OUT and standing.decision == OPT_IN
    for event in [] if withdrawal else events:
        if (
            event.decision, event.effective_on, event.at, fold_name(event.given_by), event.told,
            event.selected, event.bulk,
        ) == (decision, when, request.at, giver, request.told, selects, bulk):  # fmt: skip
            moment = _moment(when, request.at)
            return nothing(f"this {decision} is already recorded on {moment}{_by(event.given_by)}")
    # 6. The same decision stands, from another giver: evidence.
    if same_standing:
        return record(f"{recorded} as further evidence; {stands} already stood", AS_EVIDENCE, EVIDENCE)
    # The opposite decision stands.
    if standing.decision != decision:
        if request.reach == BULK or (request.reach == ONE_PUPIL_ALL_SERVICES and decision == OPT_IN):
            command = "optin" if decision == OPT_IN else "optout"
            by = ' --by "NAME"' if decision == OPT_IN else ""
            return Verdict(
                SKIP, SKIPPED,
                f"{stands} stands, and a decision for a class, a year or every service never overturns a "
                "parent's decision. If it has changed, record it for this pupil and service alone: "
                f'cloudctl consent {command} {pupil.upn} "{rule.name}"{by}',
                before, before,
            )  # fmt: skip
        if changes:
            return record(f"{recorded}; it reverses {stands}", REVERSED)
    # 7. A decision that leaves the standing one as it was, or a real change (a renewal, a selection).
    if not changes:
        if when < standing_event.effective_on:
            return record(f"{recorded} as history, dated before {stands}, which still stands")
        if request.at is not None and standing_event.at is not None:
            if (when, request.at) == (standing_event.effective_on, standing_event.at):
                why = " (of two answers at the same moment, a withdrawal counts as the later)"
                return record(
                    f"{recorded} as history: it was made in the same second as {stands}, which still "
                    f"stands{why if standing_event.decision == OPT_OUT != decision else ''}"
                )
            return record(f"{recorded} as history, made before {stands}, which still stands")
        if standing_event.decision != OPT_OUT:
            return record(
                f"{recorded} as history, counted before {stands} of the same day, which still stands"
            )
        return record(
            f"{recorded} as history: it is dated the same day as {stands}, with no time of day to tell "
            "which came later, so the withdrawal still stands (an opt-in of the same day never overrides "
            "one). If the parent has opted in again since, record it again on a later day, dated that "
            "day, so it is clearly the later decision"
        )
    if before == NEEDS_RENEWAL:
        if after == NEEDS_RENEWAL:
            why = (
                "this form too predates the change"
                if not rule.told_covers(told_after)
                else "this consent too is older than consent lasts"
            )
            return record(f"{recorded}; it does not renew {stands}, because {why}")
        why = (
            "which no longer covered what the service receives"
            if not rule.covered_by(standing)
            else "which had lapsed"
        )
        return record(f"{recorded}; it renews {stands}, {why}")
    if selects and before == NOT_ELIGIBLE:
        return record(f"{recorded}; it selects the pupil for '{rule.name}'")
    return record(recorded)


def service_refusal(rule: ServiceRule, decision: str) -> str | None:
    """Why this decision cannot be recorded for any pupil of this service, or None."""
    if rule.category != "pupil":
        return not_consent_based(rule.name, rule.category, decision)
    if decision == OPT_OUT:
        return None  # a withdrawal from a pupil service is never refused
    if rule.status == "not-approved" and rule.awaiting_sign_off:
        role = rule.awaiting_sign_off
        return (
            f"'{rule.name}' is approved pending sign-off: its risk assessment awaits a sign-off by the "
            f"{role}, so nobody may be enrolled in it until then. Once the {role} has signed it off, record "
            f'it with: cloudctl assess sign-off "{rule.name}" --by NAME --role {role}'
        )
    if rule.status != "approved":
        reason = {
            "awaiting-assessment": "is awaiting its risk assessment",
            "not-approved": "was not approved at its risk assessment",
            "retired": "is retired",
        }.get(rule.status, f"is {rule.status}")
        return f"'{rule.name}' {reason}, so nobody may be enrolled in it."
    if rule.scope == "none":
        return f"'{rule.name}' enrols no children ({rule.years_text or 'no year groups'})."
    return None


def not_consent_based(name: str, category: str, decision: str) -> str:
    if category == "management":
        if decision == OPT_OUT:
            return (
                f"'{name}' is a school management service: it is needed to run the school, so it has no "
                "opt-out. Parents may ask how their data is used by contacting the school office."
            )
        return (
            f"'{name}' is a school management service: it is needed to run the school and does not "
            "depend on parents' consent, so there is nothing to opt in to."
        )
    section = "other online services" if category == "other" else "legal requirements (statutory)"
    return (
        f"'{name}' is in the register's {section}, which are not consent-based: consent is recorded only "
        "for services for pupils or parents."
    )


def pupil_refusal(rule: ServiceRule, pupil: PupilFacts) -> str | None:
    """Why this pupil may not be opted in to this (approved) service, or None."""
    if not pupil.on_roll:
        return f"pupil {pupil.upn} is no longer on roll (left {pupil.left_on}), so cannot be enrolled."
    if rule.scope == "years" and pupil.year_group not in rule.codes:
        years = rule.years_text or ", ".join(sorted(rule.codes))
        return f"pupil {pupil.upn} is in year {pupil.year_group}, and '{rule.name}' is for {years} only."
    return None


def _moment(effective_on: str, at: str | None) -> str:
    """A decision's date, and its time of day when known: "2026-09-12" or "2026-09-12 at 10:31:22"."""
    return f"{effective_on} at {at}" if at else effective_on


def _by(name: str | None, word: str = "by") -> str:
    return f" {word} {name}" if name else ""


def _status_words(
    rule: ServiceRule, before: str, after: str, told: frozenset[str], given_on: str | None
) -> str:
    """The pupil's status after the decision, in words."""
    if after == NEEDS_RENEWAL:
        return (
            f"needs renewal, because {rule.renewal_reason(told, given_on)}, so the pupil is not enrolled "
            "until a new opt-in is recorded"
        )
    words = {
        OPTED_IN: "opted in",
        OPTED_OUT: "opted out",
        NOT_ELIGIBLE: "not eligible",
        NO_RESPONSE: "no response",
    }
    return f"{'still' if after == before else 'now'} {words[after]}"
