"""A small, plainly written reference model of the consent policy (issue 8; the rules of docs/consent.md).

Written from the rules, not from src/cloudctl/domain/consent.py, so that tests/test_consent_properties.py
holds two independent readings of the rules against each other. Nothing here imports cloudctl: the model
knows pupils, services and decisions as plain values and keeps its own history of events.

The standing decision is a fold (docs/consent.md): events in (effective date, order recorded) order,
except that on one day (the model's decisions carry no time of day, so their order within a day is
unknown) every opt-in comes before every opt-out: the withdrawal is the safe side. A single decision
always becomes the standing one; a bulk one (--class, --year, an opt-in with --all-services) only when
nothing stands or it has the decision that stands. A decision identical to one recorded records nothing;
neither does the same decision from a giver already in its current run.

Every change returns a `Result`: whether the step must be refused as a whole (`refused`), whether a refusal
would be acceptable although the model records nothing either way (`may_refuse`: a bulk command whose every
pair is refused by the rules, an identical assessment), and, for consent, what happened to each pupil and
service (`outcomes`), so the test can also hold the messages to what the rules say they state.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

OPT_IN, OPT_OUT = "opt-in", "opt-out"
OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE = (
    "opted-in",
    "opted-out",
    "no-response",
    "needs-renewal",
    "not-eligible",
)
STATUSES = (OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE)
APPROVED, AWAITING, NOT_APPROVED, RETIRED = "approved", "awaiting-assessment", "not-approved", "retired"
APPROVING_OUTCOMES = ("approved", "approved-with-conditions")

# What one decision did for one pupil and service.
RECORDED = "recorded"  # the new standing decision: a first answer, a renewal or a reversal
HISTORY = "history"  # recorded, but dated before the standing decision, which still stands
EVIDENCE = "evidence"  # the decision already standing, from another giver: recorded, status unchanged
NOTHING = "nothing"  # the decision already standing, from the same giver: nothing recorded
BLOCKED = "blocked"  # the opposite decision stands and a bulk decision never reverses it: skipped, listed
REFUSED = "refused"  # a rule refuses it (a single decision raises; a bulk one skips it)
WRITTEN = (RECORDED, HISTORY, EVIDENCE)

# How a decision was given: one pupil and one service, a row of `consent import`, a class or a year
# group, or every pupil service for one pupil.
SINGLE, IMPORT_ROW, BULK, ALL_SERVICES = "single", "import", "bulk", "all-services"

# Year-group texts the test uses, read as the register's rules read them: listed years, selected pupils
# only, or nobody. "All" means every year the school teaches.
SCHOOL_YEARS = frozenset({"R", "1", "2", "3", "4", "5", "6"})
YEAR_TEXTS: dict[str, tuple[str, frozenset[str]]] = {
    "Y3": ("years", frozenset({"3"})),
    "Y4": ("years", frozenset({"4"})),
    "Y3 - Y4": ("years", frozenset({"3", "4"})),
    "Y5": ("years", frozenset({"5"})),
    "All": ("years", SCHOOL_YEARS),
    "Selected Students": ("selected", frozenset()),
    "No children enrolled by school": ("none", frozenset()),
}


def clean_giver(name: str | None) -> str | None:
    """The giver as recorded: spaces collapsed; blank means nobody was named."""
    return " ".join((name or "").split()) or None


def giver_key(name: str | None) -> str:
    """A giver as compared: one Unicode spelling (NFC), no invisible format characters, no case, spaces
    collapsed; nobody named is ''."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.casefold().split())


def same_giver(a: str | None, b: str | None) -> bool:
    """Names compared as people mean them; no giver is the same as no giver."""
    return giver_key(a) == giver_key(b)


@dataclass
class Pupil:
    key: int  # stable for the whole run: a UPN may change
    upn: str
    dob: date
    year: str
    class_name: str
    on_roll: bool = True


@dataclass
class Assessment:
    seq: int
    on: date
    outcome: str
    assessor: str


@dataclass
class Service:
    name: str
    scope: str  # years, selected or none
    codes: frozenset[str]
    categories: frozenset[str]  # case-folded
    status: str = AWAITING
    # What parents were told, from when: (the day the version was recorded, its categories).
    versions: list[tuple[date, frozenset[str]]] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)

    def told_on(self, day: date) -> frozenset[str]:
        """The version in force on a form's date: the newest recorded by then, else the first known."""
        in_force = [categories for recorded, categories in self.versions if recorded <= day]
        return in_force[-1] if in_force else self.versions[0][1]


@dataclass(frozen=True)
class Event:
    seq: int
    pupil: int  # Pupil.key
    service: str
    decision: str
    on: date
    given_by: str | None
    selected: bool
    told: frozenset[str]
    bulk: bool = False


def fold(events: list[Event]) -> tuple[Event | None, list[Event]]:
    """The standing event, and the run of its decision (the events since it last changed decision)."""
    standing, run = None, []
    for event in sorted(events, key=lambda e: (e.on, e.decision == OPT_OUT, e.seq)):
        if standing is None or not event.bulk or event.decision == standing.decision:
            if standing is None or event.decision != standing.decision:
                run = []
            run.append(event)
            standing = event
    return standing, run


@dataclass
class Outcome:
    """What one decision did for one pupil and service, and what the rules say its message states."""

    pupil: int
    service: str
    decision: str
    what: str
    reason: str = ""
    standing: Event | None = None  # the standing decision before this one
    lands_as: str | None = None  # the status it leaves, when it is now the standing decision


@dataclass
class Result:
    refused: bool = False
    may_refuse: bool = False
    reason: str = ""
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def written(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.what in WRITTEN]


class ConsentModel:
    def __init__(self, today: date, version_day: date) -> None:
        self.today = today
        # The day a service version made now is recorded as in force from (the register's clock).
        self.version_day = version_day
        self.pupils: list[Pupil] = []
        self.services: dict[str, Service] = {}
        self.events: list[Event] = []
        self._seq = 0
        # How long an opt-in lasts (`init --consent-months`); None: until it is withdrawn.
        self.consent_months: int | None = None

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # --- the facts -------------------------------------------------------------------------------

    def add_service(self, name: str, years_text: str, categories: set[str]) -> None:
        scope, codes = YEAR_TEXTS[years_text]
        folded = frozenset(category.casefold() for category in categories)
        self.services[name] = Service(name, scope, codes, folded, versions=[(self.version_day, folded)])

    def add_pupil(self, upn: str, dob: date, year: str, class_name: str) -> Pupil:
        pupil = Pupil(len(self.pupils), upn, dob, year, class_name)
        self.pupils.append(pupil)
        return pupil

    def pupil_by_upn(self, upn: str) -> Pupil:
        return next(pupil for pupil in self.pupils if pupil.upn == upn)

    def events_of(self, pupil: Pupil, service: Service) -> list[Event]:
        return [e for e in self.events if e.pupil == pupil.key and e.service == service.name]

    def standing(self, pupil: Pupil, service: Service) -> Event | None:
        """The fold's standing event: a parent's decision outranks any bulk one, whatever their order."""
        return fold(self.events_of(pupil, service))[0]

    def selected(self, pupil: Pupil, service: Service) -> bool:
        return any(e.selected for e in self.events_of(pupil, service))

    def in_scope(self, pupil: Pupil, service: Service) -> bool:
        if service.scope == "years":
            return pupil.year in service.codes
        if service.scope == "selected":
            return self.selected(pupil, service)
        return False

    def status(self, pupil: Pupil, service: Service) -> str:
        standing = self.standing(pupil, service)
        if standing is None:
            open_to_pupil = (
                pupil.on_roll
                and service.status == APPROVED
                and service.scope == "years"
                and pupil.year in service.codes
            )
            return NO_RESPONSE if open_to_pupil else NOT_ELIGIBLE
        if standing.decision == OPT_OUT:
            return OPTED_OUT
        if not (service.status == APPROVED and pupil.on_roll and self.in_scope(pupil, service)):
            return NOT_ELIGIBLE
        if not service.categories <= standing.told or self.lapsed(standing.on):
            return NEEDS_RENEWAL
        return OPTED_IN

    def lapsed(self, given_on: date) -> bool:
        """Consent lasts `consent_months` calendar months: it has lapsed from the start of the day that many
        months after it was given (the same day of the month, or the month's last day when it is shorter)."""
        if self.consent_months is None:
            return False
        months = given_on.year * 12 + given_on.month - 1 + self.consent_months
        year, month = divmod(months, 12)
        month += 1
        last_day = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30,
                    31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
        return self.today >= date(year, month, min(given_on.day, last_day))

    def set_consent_months(self, months: int | None) -> Result:
        self.consent_months = months
        return Result()

    # --- what the reports show -------------------------------------------------------------------

    def status_rows(self, pupil: Pupil) -> dict[str, str]:
        """`consent status UPN`: every pupil service, except a retired one the pupil has no event for."""
        return {
            service.name: self.status(pupil, service)
            for service in self.services.values()
            if not (service.status == RETIRED and self.standing(pupil, service) is None)
        }

    def report(self) -> dict[str, dict[str, str]]:
        """`report consent`: pupils on roll by services not retired."""
        live = [service for service in self.services.values() if service.status != RETIRED]
        return {
            pupil.upn: {service.name: self.status(pupil, service) for service in live}
            for pupil in self.pupils
            if pupil.on_roll
        }

    def export(self, name: str) -> set[str] | None:
        """`export enrolment`: exactly the pupils on roll who are opted in; None when it is refused."""
        service = self.services[name]
        if service.status != APPROVED:
            return None
        return {
            pupil.upn for pupil in self.pupils if pupil.on_roll and self.status(pupil, service) == OPTED_IN
        }

    # --- recording decisions ---------------------------------------------------------------------

    def _refusal(self, pupil: Pupil, service: Service, decision: str, on: date, how: str) -> str | None:
        """Rule 1: why this decision may not be recorded for this pupil and service, or None."""
        if on < date(2000, 1, 1) or on > self.today:
            return "a date before 2000 or in the future"
        if on < pupil.dob:
            return "a date before the pupil was born"
        if decision == OPT_OUT:
            return None  # a withdrawal is never refused for a pupil service
        if service.status != APPROVED:
            return f"the service is {service.status}"
        if service.scope == "none":
            return "the service enrols no one"
        if not pupil.on_roll:
            return "the pupil is off roll"
        if service.scope == "years" and pupil.year not in service.codes:
            return "the pupil's year is out of the service's scope"
        if service.scope == "selected" and how == BULK:
            return "a selected-pupils-only service is opted in pupil by pupil"
        return None

    def _decide(
        self, pupil: Pupil, service: Service, decision: str, giver: str | None, on: date, how: str
    ) -> Outcome:
        """Rules 1-4 for one pupil and service; records the event when the rules say so."""
        refusal = self._refusal(pupil, service, decision, on, how)
        if refusal:
            return Outcome(pupil.key, service.name, decision, REFUSED, refusal)
        standing, run = fold(self.events_of(pupil, service))
        bulk = how == BULK or (how == ALL_SERVICES and decision == OPT_IN)
        selects = decision == OPT_IN and service.scope == "selected"
        told = service.told_on(on)
        what = RECORDED
        same_standing = (
            standing is not None
            and standing.decision == decision
            and (decision == OPT_OUT or self.status(pupil, service) == OPTED_IN)
        )
        # Rule 2: the same decision already stands (for an opt-in, only a current one: an opt-in that
        # renews a needs-renewal or selects the pupil is a real change). A giver already in its run
        # records nothing.
        # A decision for one pupil repeats only the giver's own decision, not a bulk one in their name.
        # A withdrawal restated on a later day is kept as evidence all the same: an opt-in of that day
        # (whose order that day is unknown) must not override it.
        restated = decision == OPT_OUT and not bulk and standing is not None and on > standing.on
        if (
            same_standing
            and not restated
            and any(same_giver(e.given_by, giver) and (bulk or not e.bulk) for e in run)
        ):
            return Outcome(pupil.key, service.name, decision, NOTHING, standing=standing)
        # An event identical to one recorded (decision, date, giver, what they were told, selection,
        # bulk or not) records nothing, in every path; but a withdrawal while an opt-in stands is heard.
        withdrawal = decision == OPT_OUT and standing is not None and standing.decision == OPT_IN
        for e in [] if withdrawal else self.events_of(pupil, service):
            if (e.decision, e.on, e.told, e.selected, e.bulk) == (decision, on, told, selects, bulk) and (
                same_giver(e.given_by, giver)
            ):
                return Outcome(pupil.key, service.name, decision, NOTHING, standing=standing)
        if same_standing:
            what = EVIDENCE
        elif standing is not None and standing.decision != decision:
            # Rule 3: the opposite decision stands. Only one pupil and one service reverses it, and a
            # one-pupil --all-services opt-out (a parent withdrawing from everything).
            reverses = how in (SINGLE, IMPORT_ROW) or (how == ALL_SERVICES and decision == OPT_OUT)
            if not reverses:
                return Outcome(pupil.key, service.name, decision, BLOCKED, standing=standing)
        event = Event(
            seq=self._next(),
            pupil=pupil.key,
            service=service.name,
            decision=decision,
            on=on,
            given_by=clean_giver(giver),
            selected=selects,
            told=told,
            bulk=bulk,
        )
        status_before = self.status(pupil, service)
        self.events.append(event)
        standing_after = self.standing(pupil, service)
        changed = standing is None or standing_after.seq != standing.seq
        if what == RECORDED and not changed:
            what = HISTORY  # rule 4: it leaves the standing decision as it was, which still stands
        lands_as = self.status(pupil, service) if changed else None
        if what == EVIDENCE:
            # What the rules claim of evidence; if the model ever broke it, the rules would need a look.
            assert self.status(pupil, service) == status_before, "evidence changed a status"
        return Outcome(pupil.key, service.name, decision, what, standing=standing, lands_as=lands_as)

    @staticmethod
    def _needs_giver(decision: str, giver: str | None) -> Result | None:
        if decision == OPT_IN and clean_giver(giver) is None:
            return Result(refused=True, reason="an opt-in needs the name of who gave it")
        return None

    def record_single(
        self, decision: str, pupil: Pupil, service: Service, giver: str | None, on: date
    ) -> Result:
        """`consent optin|optout UPN SERVICE`: a refusal by the rules refuses the command."""
        if refused := self._needs_giver(decision, giver):
            return refused
        outcome = self._decide(pupil, service, decision, giver, on, SINGLE)
        if outcome.what == REFUSED:
            return Result(refused=True, reason=outcome.reason)
        return Result(outcomes=[outcome])

    def record_bulk(
        self,
        decision: str,
        service: Service,
        giver: str | None,
        on: date,
        *,
        class_name: str | None = None,
        year: str | None = None,
    ) -> Result:
        """`consent optin|optout --class C | --year Y SERVICE`: pupils on roll in the class or year."""
        if refused := self._needs_giver(decision, giver):
            return refused
        pupils = [
            pupil
            for pupil in self.pupils
            if pupil.on_roll
            and (class_name is None or pupil.class_name.casefold() == class_name.casefold())
            and (year is None or pupil.year == year)
        ]
        if not pupils:
            return Result(refused=True, reason="no pupil on roll is in that class or year")
        return self._bulk_result([self._decide(p, service, decision, giver, on, BULK) for p in pupils])

    def record_all_services(self, decision: str, pupil: Pupil, giver: str | None, on: date) -> Result:
        """`consent optin|optout UPN --all-services`. An opt-out covers every pupil service not retired
        (a withdrawal is never refused); an opt-in covers the services the pupil may be enrolled in."""
        if refused := self._needs_giver(decision, giver):
            return refused
        services = [service for service in self.services.values() if service.status != RETIRED]
        if decision == OPT_IN:
            services = [
                service
                for service in services
                if service.status == APPROVED and pupil.on_roll and self.in_scope(pupil, service)
            ]
        return self._bulk_result(
            [self._decide(pupil, service, decision, giver, on, ALL_SERVICES) for service in services]
        )

    @staticmethod
    def _bulk_result(outcomes: list[Outcome]) -> Result:
        # Bulk skips what the rules refuse. When nothing at all would be recorded and the rules refused
        # some of it (a service nobody may be opted in to), refusing the whole command records the same.
        nothing_written = not any(outcome.what in WRITTEN for outcome in outcomes)
        some_refused = any(outcome.what == REFUSED for outcome in outcomes)
        return Result(may_refuse=nothing_written and some_refused, outcomes=outcomes)

    def import_rows(self, rows: list[tuple[str, Pupil, Service, str | None, date]]) -> Result:
        """`consent import`: each row is one parent's answer for one child and one service, applied in
        order; all or nothing, so one refused row refuses the file (the caller keeps the model as it was).
        """
        outcomes = []
        for decision, pupil, service, giver, on in rows:
            if refused := self._needs_giver(decision, giver):
                return refused
            outcome = self._decide(pupil, service, decision, giver, on, IMPORT_ROW)
            if outcome.what == REFUSED:
                return Result(refused=True, reason=outcome.reason)
            outcomes.append(outcome)
        return Result(outcomes=outcomes)

    # --- the register ----------------------------------------------------------------------------

    def set_categories(self, service: Service, categories: set[str]) -> Result:
        folded = frozenset(category.casefold() for category in categories)
        if folded != service.categories:
            service.categories = folded
            service.versions.append((self.version_day, folded))
        return Result()

    def set_years(self, service: Service, years_text: str) -> Result:
        service.scope, service.codes = YEAR_TEXTS[years_text]
        return Result()

    def assess(self, service: Service, on: date, outcome: str, assessor: str) -> Result:
        """A risk assessment: the service's status follows the latest (by date, then as recorded)."""
        assessor = clean_giver(assessor) or ""
        if any((a.on, a.outcome, a.assessor) == (on, outcome, assessor) for a in service.assessments):
            # Rule 5: nothing is recorded, whether the code says so or refuses (a retired service too).
            return Result(may_refuse=True, reason="an identical assessment records nothing")
        if service.status == RETIRED:
            return Result(refused=True, reason="a retired service is no longer assessed")
        if on > self.today:
            return Result(refused=True, reason="an assessment date in the future")
        service.assessments.append(Assessment(self._next(), on, outcome, assessor))
        latest = max(service.assessments, key=lambda a: (a.on, a.seq))
        service.status = APPROVED if latest.outcome in APPROVING_OUTCOMES else NOT_APPROVED
        return Result()

    def retire(self, service: Service) -> Result:
        if service.status == RETIRED:
            return Result(refused=True, reason="already retired")
        service.status = RETIRED
        return Result()

    # --- pupils ----------------------------------------------------------------------------------

    def listed(self, pupil: Pupil, year: str, class_name: str) -> Result:
        """A class list names the pupil: on roll, in this year and class."""
        pupil.year, pupil.class_name, pupil.on_roll = year, class_name, True
        return Result()

    def leave(self, pupil: Pupil) -> Result:
        pupil.on_roll = False
        return Result()

    def change_upn(self, pupil: Pupil, new: str) -> Result:
        if new == pupil.upn:
            return Result(refused=True, reason="the UPN is already that")
        if any(other.upn == new for other in self.pupils):
            return Result(refused=True, reason="another pupil has that UPN")
        pupil.upn = new
        return Result()
