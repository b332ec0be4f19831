"""Consent: parents' opt-ins and opt-outs per pupil and service, and the policy's rules.

Events are append-only (the database refuses UPDATE and DELETE). A pupil's status
for a service is their latest event by effective date; no event means no response,
which means not enrolled. Each event points at the service version the parent was
told about, so consent given before the service's data grew "needs renewal".
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

from sqlmodel import Session, select

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.models import ConsentEvent, Pupil, Service
from cloudctl.domain.pupils import get_pupil, list_pupils
from cloudctl.domain.service_versions import version_in_force
from cloudctl.domain.services import find_services, get_service, year_codes_of
from cloudctl.errors import InvalidInput, NotFound, RuleRefused

OPT_IN, OPT_OUT = "opt-in", "opt-out"
METHODS = ("form", "email", "phone", "in-person", "app", "other")

# A pupil's standing with a service, as reports show it.
OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE = (
    "opted-in",
    "opted-out",
    "no-response",
    "needs-renewal",
    "not-eligible",
)
STATUSES = (OPTED_IN, OPTED_OUT, NO_RESPONSE, NEEDS_RENEWAL, NOT_ELIGIBLE)

_DECISION_WORDS = {
    OPT_IN: {
        "opt-in",
        "optin",
        "opt in",
        "in",
        "yes",
        "y",
        "consent",
        "consented",
        "agree",
        "agreed",
        "true",
        "1",
    },
    OPT_OUT: {
        "opt-out",
        "optout",
        "opt out",
        "out",
        "no",
        "n",
        "withdraw",
        "withdrawn",
        "refuse",
        "refused",
        "decline",
        "declined",
        "false",
        "0",
    },
}


def parse_decision(text: str) -> str:
    word = " ".join(text.strip().lower().split())
    for decision, words in _DECISION_WORDS.items():
        if word in words:
            return decision
    raise InvalidInput(f'"{text}" is not a consent decision: use yes / opt-in, or no / opt-out.')


_METHOD_ALIASES = {
    "paper": "form",
    "paper-form": "form",
    "telephone": "phone",
    "call": "phone",
    "person": "in-person",
    "face-to-face": "in-person",
    "e-mail": "email",
}


def parse_method(text: str) -> str:
    word = "-".join(text.strip().lower().replace("_", " ").split())
    method = _METHOD_ALIASES.get(word, word)
    if method not in METHODS:
        raise InvalidInput(f'"{text}" is not a way consent is given: use one of {", ".join(METHODS)}.')
    return method


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "unknown"


@dataclass(frozen=True)
class ConsentRequest:
    """One decision as the office records it, before it is applied to pupils and services."""

    decision: str
    effective_on: date
    method: str = "form"
    given_by: str | None = None
    relationship: str | None = None
    recorded_by: str | None = None
    note: str | None = None

    def checked(self, today: date) -> ConsentRequest:
        given_by = " ".join((self.given_by or "").split()) or None
        if self.decision == OPT_IN and given_by is None:
            raise InvalidInput(
                'An opt-in needs the name of the parent or carer who gave it: give it with --by "Name" '
                "(or in the 'Given by' column of a file of returned forms)."
            )
        if self.effective_on > today:
            raise InvalidInput(
                f"The date {self.effective_on.isoformat()} is in the future: consent is recorded once it is "
                "given. Use the date on the form (or leave the date out for today)."
            )
        return ConsentRequest(
            decision=self.decision,
            effective_on=self.effective_on,
            method=parse_method(self.method),
            given_by=given_by,
            relationship=(self.relationship or "").strip() or None,
            recorded_by=(self.recorded_by or "").strip() or login_name(),
            note=(self.note or "").strip() or None,
        )


@dataclass
class Outcome:
    """What happened for one pupil and service."""

    upn: str
    pupil: str
    service: str
    action: str  # recorded, unchanged, skipped
    detail: str

    def record(self) -> dict:
        return {
            "upn": self.upn,
            "pupil": self.pupil,
            "service": self.service,
            "action": self.action,
            "detail": self.detail,
        }


def display_name(pupil: Pupil) -> str:
    return f"{pupil.preferred_forename or pupil.forename} {pupil.preferred_surname or pupil.surname}"


# --- service versions: what parents were told -------------------------------------------------


def _folded(categories: Iterable[str]) -> frozenset[str]:
    return frozenset(name.casefold() for name in categories)


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

    @classmethod
    def of(cls, service: Service) -> ServiceRule:
        return cls.build(
            service.id,
            service.name,
            service.category,
            service.status,
            service.year_scope,
            service.year_codes,
            service.data_categories,
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
            categories=_folded(json.loads(categories_json)),
            open_years=codes if open_to_all else frozenset(),
        )

    @classmethod
    def for_pupil_services(cls, session: Session) -> list[ServiceRule]:
        """Every pupil service not retired, in register order (read lean: reports call it every time)."""
        rows = fetch_rows(
            session,
            "SELECT id, name, category, status, year_scope, year_codes, data_categories FROM service "
            "WHERE category = ? AND status <> ? ORDER BY position, id",
            ["pupil", "retired"],
        )
        return [cls.build(*row) for row in rows]

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
        return self.categories <= standing.told

    def status_for(self, on_roll: bool, year_group: str, standing: Standing | None) -> str:
        if standing is None:
            return self.status_of(on_roll, year_group, None, False, frozenset())
        return self.status_of(on_roll, year_group, standing.decision, standing.selected, standing.told)

    def default_status(self, year_group: str) -> str:
        """The status of a pupil on roll with no event for this service."""
        return self.status_of(True, year_group, None, False, frozenset())

    def status_of(
        self, on_roll: bool, year_group: str, decision: str | None, selected: bool, told: frozenset[str]
    ) -> str:
        """The pupil's standing with this service: the one place the rules of status live."""
        if decision is None:
            return NO_RESPONSE if on_roll and year_group in self.open_years else NOT_ELIGIBLE
        if decision == OPT_OUT:
            return OPTED_OUT  # a withdrawal always shows, eligible or not
        if not self.eligible(on_roll, year_group, selected=selected):
            return NOT_ELIGIBLE
        return OPTED_IN if self.categories <= told else NEEDS_RENEWAL


def status_for(service: Service, pupil: Pupil, standing: Standing | None) -> str:
    return ServiceRule.of(service).status_for(pupil.on_roll, pupil.year_group, standing)


def covers(standing: Standing, service: Service) -> bool:
    return ServiceRule.of(service).covered_by(standing)


def _refuse_if_not_consent_based(service: Service, decision: str) -> None:
    if service.category == "pupil":
        return
    if service.category == "management":
        if decision == OPT_OUT:
            raise RuleRefused(
                f"'{service.name}' is a school management service: it is needed to run the school, so it "
                "has no opt-out. Parents may ask how their data is used by contacting the school office."
            )
        raise RuleRefused(
            f"'{service.name}' is a school management service: it is needed to run the school and does not "
            "depend on parents' consent, so there is nothing to opt in to."
        )
    section = "other online services" if service.category == "other" else "legal requirements (statutory)"
    raise RuleRefused(
        f"'{service.name}' is in the register's {section}, which are not consent-based: consent is "
        "recorded only for services for pupils or parents."
    )


def _service_refusal(service: Service) -> str | None:
    """Why nobody may be opted in to this service now, or None."""
    if service.status != "approved":
        reason = {
            "awaiting-assessment": "is awaiting its risk assessment",
            "not-approved": "was not approved at its risk assessment",
            "retired": "is retired",
        }[service.status]
        return f"'{service.name}' {reason}, so nobody may be enrolled in it."
    if service.year_scope == "none":
        return f"'{service.name}' enrols no children ({service.year_groups_text or 'no year groups'})."
    return None


def _pupil_refusal(service: Service, pupil: Pupil) -> str | None:
    """Why this pupil may not be opted in to this (approved) service, or None."""
    if not pupil.on_roll:
        return f"pupil {pupil.upn} is no longer on roll (left {pupil.left_on}), so cannot be enrolled."
    if service.year_scope == "years" and pupil.year_group not in year_codes_of(service):
        years = service.year_groups_text or ", ".join(year_codes_of(service))
        return f"pupil {pupil.upn} is in year {pupil.year_group}, and '{service.name}' is for {years} only."
    return None


# --- the latest event per pupil and service ---------------------------------------------------


class Standing(NamedTuple):
    """A pupil's latest event for a service, with what the parent was told."""

    decision: str
    effective_on: str  # ISO date
    given_by: str | None
    selected: bool
    # The data categories the parent was told about, case-folded.
    told: frozenset[str]


def _versions(session: Session) -> dict[int, frozenset[str]]:
    rows = fetch_rows(session, "SELECT id, data_categories FROM service_version")
    return {version_id: _folded(json.loads(categories)) for version_id, categories in rows}


def standings(
    session: Session, *, pupil_ids: Sequence[int] | None = None, service_ids: Sequence[int] | None = None
) -> Standings:
    """The latest event (by effective date, then as recorded) for each (pupil, service) pair.

    A class's events come through the (pupil, service, ...) index; a whole school's
    from one scan of the table, which is faster than reading it in index order.
    """
    sql = (
        "SELECT pupil_id, service_id, decision, effective_on, given_by, selected, service_version_id, id "
        "FROM consent_event WHERE 1 = 1"
    )
    params: list[int] = []
    for name, ids in (("pupil_id", pupil_ids), ("service_id", service_ids)):
        if ids is not None:
            sql += f" AND {name} IN ({placeholders(len(ids))})"
            params += ids
    last: dict[tuple[int, int], tuple] = {}
    selected_pairs: set[tuple[int, int]] = set()
    for row in fetch_rows(session, sql, params):
        key = (row[0], row[1])
        held = last.get(key)
        # The latest by effective date, then by id (the order recorded).
        if held is None or row[3] > held[3] or (row[3] == held[3] and row[7] > held[7]):
            last[key] = row
        if row[5]:
            selected_pairs.add(key)
    return Standings(last, selected_pairs, _versions(session))


class Standings:
    """The latest event per (pupil id, service id), kept as raw rows: a whole school's report reads
    hundreds of thousands, so a Standing is built only when one is asked for."""

    def __init__(self, last: dict, selected_pairs: set, versions: dict[int, frozenset[str]]) -> None:
        self._last = last
        self._selected = selected_pairs
        self._versions = versions

    def get(self, key: tuple[int, int]) -> Standing | None:
        row = self._last.get(key)
        if row is None:
            return None
        return Standing(row[2], str(row[3]), row[4], key in self._selected, self._versions[row[6]])

    def event_statuses(
        self, rules: Sequence[ServiceRule], year_of: dict[int, str]
    ) -> list[tuple[int, str, str]]:
        """(pupil id, service name, status) for every pair with an event, for the pupils in year_of.

        A status depends only on the rule, the year group, the decision, selection and the version
        told, which take few values, so each combination is worked out once and then looked up.
        """
        rule_of = {rule.id: rule for rule in rules}
        versions, selected_pairs = self._versions, self._selected
        known: dict[tuple, str] = {}
        statuses = []
        for key, row in self._last.items():
            rule = rule_of.get(key[1])
            year_group = year_of.get(key[0])
            if rule is None or year_group is None:
                continue
            # Only services for selected pupils care whether the pupil was selected.
            selected = rule.scope == "selected" and key in selected_pairs
            combination = (key[1], year_group, row[2], selected, row[6])
            status = known.get(combination)
            if status is None:
                status = rule.status_of(True, year_group, row[2], selected, versions[row[6]])
                known[combination] = status
            statuses.append((key[0], rule.name, status))
        return statuses


# --- recording ---------------------------------------------------------------------------------


def apply_decision(
    session: Session, pupil: Pupil, service: Service, request: ConsentRequest, *, strict: bool
) -> Outcome:
    """Record one decision for one pupil and service, or say why not.

    With strict, a refusal raises RuleRefused (a single command); otherwise it is
    returned as a skipped outcome (bulk commands skip pupils the rules exclude).
    """
    _refuse_if_not_consent_based(service, request.decision)
    standing = standings(session, pupil_ids=[pupil.id], service_ids=[service.id]).get((pupil.id, service.id))
    name = display_name(pupil)

    def skipped(reason: str) -> Outcome:
        if strict:
            raise RuleRefused(f"Not recorded: {reason}")
        return Outcome(pupil.upn, name, service.name, "skipped", reason)

    if request.effective_on < pupil.dob:
        return skipped(
            f"the date {request.effective_on.isoformat()} is before pupil {pupil.upn} was born: check it."
        )
    selected = service.year_scope == "selected"
    if request.decision == OPT_IN:
        refusal = _service_refusal(service) or _pupil_refusal(service, pupil)
        if refusal:
            return skipped(refusal)
        if status_for(service, pupil, standing) == OPTED_IN:
            return Outcome(pupil.upn, name, service.name, "unchanged", "already opted in: nothing recorded")
    elif standing is not None and standing.decision == OPT_OUT:
        return Outcome(pupil.upn, name, service.name, "unchanged", "already opted out: nothing recorded")
    version = version_in_force(session, service, request.effective_on)
    session.add(
        ConsentEvent(
            pupil_id=pupil.id,
            service_id=service.id,
            service_version_id=version.id,
            decision=request.decision,
            effective_on=request.effective_on,
            given_by=request.given_by,
            relationship=request.relationship,
            method=request.method,
            recorded_by=request.recorded_by,
            note=request.note,
            selected=selected and request.decision == OPT_IN,
        )
    )
    session.flush()
    detail = "opted in" if request.decision == OPT_IN else "opted out"
    if standing is not None and standing.effective_on > request.effective_on.isoformat():
        detail += (
            f" (dated {request.effective_on.isoformat()}, before the {standing.decision} of "
            f"{standing.effective_on}, which still stands)"
        )
    return Outcome(pupil.upn, name, service.name, "recorded", detail)


def pupils_for(
    session: Session, *, upn: str | None = None, class_name: str | None = None, year: str | None = None
) -> list[Pupil]:
    """The pupils a command names: one by UPN, or those on roll in a class or year group."""
    if upn is not None:
        return [get_pupil(session, upn)]
    pupils = list_pupils(session, class_name=class_name, year=year)
    if not pupils:
        where = f"class {class_name}" if class_name is not None else f"year {year}"
        raise NotFound(f"No pupil on roll is in {where}. See the classes with: cloudctl pupil list")
    return pupils


def consent_service(session: Session, name: str, category: str | None = None) -> Service:
    """The service a consent command names. A name in two sections (Google G Suite for Education is a
    pupil service and a management one) means the pupil service, the only one that takes consent."""
    if category is None:
        matches = find_services(session, name)
        pupil = [service for service in matches if service.category == "pupil"]
        if len(matches) > 1 and len(pupil) == 1:
            return pupil[0]
    return get_service(session, name, category)


def pupil_services(session: Session) -> list[Service]:
    return list(session.exec(select(Service).where(Service.category == "pupil").order_by(Service.position)))


def record_consent(
    session: Session,
    request: ConsentRequest,
    *,
    upn: str | None = None,
    class_name: str | None = None,
    year: str | None = None,
    service_name: str | None = None,
    category: str | None = None,
    all_services: bool = False,
    today: date | None = None,
) -> list[Outcome]:
    """Record a decision for one pupil or a class/year, for one service or every pupil service.

    One pupil and one service: a refusal by the rules raises. Bulk: pupils and services
    the rules exclude are skipped and listed, and the rest are recorded together.
    """
    request = request.checked(today or date.today())
    if (upn is None) == (class_name is None and year is None):
        raise InvalidInput("Name the pupils: give a UPN, or --class CLASS, or --year YEAR.")
    if all_services == (service_name is not None):
        raise InvalidInput("Name the service, or give --all-services (every pupil service).")
    pupils = pupils_for(session, upn=upn, class_name=class_name, year=year)
    if all_services:
        services = [service for service in pupil_services(session) if service.status != "retired"]
    else:
        services = [consent_service(session, service_name, category)]
        _refuse_if_not_consent_based(services[0], request.decision)
        refusal = _service_refusal(services[0]) if request.decision == OPT_IN else None
        if refusal:
            raise RuleRefused(f"Not recorded: {refusal}")
    strict = upn is not None and not all_services
    outcomes = []
    for pupil in pupils:
        for service in services:
            if upn is None and request.decision == OPT_IN and service.year_scope == "selected":
                # Selection is pupil by pupil: a class's forms must not enrol the whole class.
                reason = f"'{service.name}' is for selected pupils only: opt each pupil in by UPN."
                outcomes.append(Outcome(pupil.upn, display_name(pupil), service.name, "skipped", reason))
                continue
            if all_services and request.decision == OPT_IN:
                selected = _is_selected(session, pupil, service)
                if not ServiceRule.of(service).eligible(pupil.on_roll, pupil.year_group, selected=selected):
                    continue  # --all-services means the services this pupil is eligible for
            outcomes.append(apply_decision(session, pupil, service, request, strict=strict))
    return outcomes


def _is_selected(session: Session, pupil: Pupil, service: Service) -> bool:
    standing = standings(session, pupil_ids=[pupil.id], service_ids=[service.id]).get((pupil.id, service.id))
    return standing is not None and standing.selected


def import_consent_returns(
    session: Session,
    path,
    *,
    encoding: str | None = None,
    recorded_by: str | None = None,
    today: date | None = None,
) -> list[Outcome]:
    """Apply a CSV of returned forms, all or nothing: any invalid or refused row means nothing is recorded."""
    from cloudctl.errors import CloudctlError, ImportRejected, Problem
    from cloudctl.importers.consent_returns import read_consent_returns
    from cloudctl.vocab.dates import parse_date

    today = today or date.today()
    problems: list[Problem] = []
    outcomes: list[Outcome] = []
    for row in read_consent_returns(path, encoding):
        values = row.values
        column = "UPN"
        try:
            column = "Decision"
            decision = parse_decision(values["decision"])
            column = "Date"
            when = parse_date(values["date"], what="date") if values.get("date") else today
            column = "Method"
            method = parse_method(values.get("method") or "form")
            column = ""  # what checked() refuses (no --by, a future date) its message names
            request = ConsentRequest(
                decision=decision,
                effective_on=when,
                method=method,
                given_by=values.get("given_by"),
                relationship=values.get("relationship"),
                recorded_by=recorded_by,
                note=values.get("note"),
            ).checked(today)
            column = "UPN"
            pupil = get_pupil(session, values["upn"])
            column = "Service"
            service = consent_service(session, values["service"], values.get("category") or None)
            column = ""
            outcomes.append(apply_decision(session, pupil, service, request, strict=True))
        except CloudctlError as error:
            cell = values.get(column.lower().replace(" ", "_"), "") if column else ""
            problems.append(Problem(row.line, column, cell, error.message))
    if problems:
        raise ImportRejected(f"{Path(path).name}", problems)
    return outcomes
