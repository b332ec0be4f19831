"""Consent: parents' opt-ins and opt-outs per pupil and service, and the policy's rules.

Events are append-only (the database refuses UPDATE and DELETE). A pupil's status
for a service is their standing event (the policy's fold: by effective date, then time of
day where known, `consent_policy.order_key`); no event means no response,
which means not enrolled. Each event points at the service version the parent was
told about, so consent given before the service's data grew "needs renewal".
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.models import ConsentEvent, Pupil, Service, ServiceVersion
from cloudctl.domain import consent_policy
from cloudctl.domain.consent_policy import (  # noqa: F401 (the names other modules import from here)
    BULK,
    NEEDS_RENEWAL,
    NO_RESPONSE,
    NOT_ELIGIBLE,
    ONE_PUPIL_ALL_SERVICES,
    OPT_IN,
    OPT_OUT,
    OPTED_IN,
    OPTED_OUT,
    REFUSE,
    SINGLE,
    STATUSES,
    UNLIMITED,
    WRITTEN_ACTIONS,
    ConsentLifetime,
    PairEvent,
    PupilFacts,
    Request,
    Standing,
    decide,
    folded,
    is_bulk,
    not_consent_based,
    order_key,
)
from cloudctl.domain.pupils import list_pupils
from cloudctl.domain.service_versions import version_in_force
from cloudctl.domain.services import find_services, get_service
from cloudctl.domain.upn_identity import ReplacedUpnNote, pupil_by_upn
from cloudctl.errors import InvalidInput, NotFound, RuleRefused
from cloudctl.vocab.dates import check_event_date
from cloudctl.vocab.text import gate_name, gate_prose, gate_text

METHODS = ("form", "online-form", "email", "phone", "in-person", "app", "other")

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
    "online": "online-form",
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


def _opt_out_hint(decision: str, option: str) -> str:
    """What to add to a refusal of an opt-out's text: the gate refuses the text, never the withdrawal."""
    if decision != OPT_OUT:
        return ""
    return (
        "The opt-out was not recorded because of that text; record it again with the text retyped or "
        f"without {option}."
    )


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
    # The time of day the decision was made ("HH:MM:SS"), when known: an online form's submission time.
    at: str | None = None

    def checked(self, today: date) -> ConsentRequest:
        """The request with every text through the gate and its date in bounds, or InvalidInput."""
        decision = self.decision

        def hint(option: str) -> str:
            return _opt_out_hint(decision, option)

        given_by = gate_name(self.given_by, "name given with --by", required=False, hint=hint("--by"))
        if decision == OPT_IN and given_by is None:
            raise InvalidInput(
                'An opt-in needs the name of the parent or carer who gave it: give it with --by "Name" '
                "(or in the 'Given by' column of a file of returned forms)."
            )
        relationship = gate_name(
            self.relationship, "relationship (--relationship)", required=False, hint=hint("--relationship")
        )
        note = gate_prose(self.note, "note (--note)", hint=hint("--note"))
        recorded_by = gate_name(
            self.recorded_by,
            "name given with --recorded-by",
            required=False,
            hint=hint("--recorded-by (your login name is then used)"),
        )
        if recorded_by is None:
            login = gate_name(
                login_name(),
                "login name (used when --recorded-by is not given)",
                required=False,
                hint="Give who is recording it with --recorded-by NAME.",
            )
            recorded_by = login or "unknown"
        method = gate_text(self.method, "method (--method)", hint=hint("--method"))
        check_event_date(self.effective_on, "consent date", today)
        return ConsentRequest(
            decision=decision,
            effective_on=self.effective_on,
            method=parse_method(method or "form"),
            given_by=given_by,
            relationship=relationship,
            recorded_by=recorded_by,
            note=note,
            at=self.at,
        )


@dataclass
class Outcome:
    """What happened for one pupil and service."""

    upn: str
    pupil: str
    service: str
    action: str  # recorded, reversed, evidence, unchanged or skipped
    detail: str

    @property
    def written(self) -> bool:
        """Was an event recorded?"""
        return self.action in WRITTEN_ACTIONS

    def record(self) -> dict:
        return {
            "upn": self.upn,
            "pupil": self.pupil,
            "service": self.service,
            "action": self.action,
            "detail": self.detail,
        }


_ACTION_WORDS = (
    ("recorded", "recorded"),
    ("reversed", "recorded reversing an earlier decision"),
    ("evidence", "recorded as further evidence (status unchanged)"),
    # "Already recorded" too: a file imported again repeats answers that may no longer stand.
    ("unchanged", "already standing or already recorded (nothing recorded)"),
    ("skipped", "skipped (see the table)"),
)


def summary(outcomes: Sequence[Outcome]) -> str:
    """How many pupil-service pairs each thing happened to, e.g. "2 recorded, 1 skipped (see the table)"."""
    counts = {action: 0 for action, _ in _ACTION_WORDS}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    parts = [f"{counts[action]} {words}" for action, words in _ACTION_WORDS if counts[action]]
    return ", ".join(parts) or "nothing to record"


def display_name(pupil: Pupil) -> str:
    return f"{pupil.preferred_forename or pupil.forename} {pupil.preferred_surname or pupil.surname}"


def consent_lifetime(session: Session | None, today: date | None = None) -> ConsentLifetime:
    """How long an opt-in lasts at this school (`init --consent-months`), counted to today."""
    from cloudctl.domain.settings import get_settings

    months = None if session is None else getattr(get_settings(session), "consent_months", None)
    if months is None:
        return UNLIMITED
    return ConsentLifetime(months, today or date.today())


class ServiceRule(consent_policy.ServiceRule):
    """The policy's ServiceRule with the school's consent lifetime in it, and the one query that reads every
    pupil service's rules at once. Every status the application shows comes from a rule built here, so
    consent older than the school's lifetime needs renewal in every report, form and export alike."""

    @classmethod
    def of(cls, service: Service, lifetime: ConsentLifetime | None = None) -> ServiceRule:
        session = object_session(service)
        if lifetime is None:
            lifetime = consent_lifetime(session)
        rule = super().of(service, lifetime)
        if service.status == "not-approved" and session is not None:
            role = _sign_off_awaited(session, service)
            if role is not None:
                rule = dataclasses.replace(rule, awaiting_sign_off=role)
        return rule

    @classmethod
    def for_pupil_services(
        cls, session: Session, lifetime: ConsentLifetime | None = None
    ) -> list[ServiceRule]:
        """Every pupil service not retired, in register order (read lean: reports call it every time)."""
        rows = fetch_rows(
            session,
            "SELECT id, name, category, status, year_scope, year_codes, data_categories, year_groups_text "
            "FROM service WHERE category = ? AND status <> ? ORDER BY position, id",
            ["pupil", "retired"],
        )
        lifetime = lifetime or consent_lifetime(session)
        return [cls.build(*row[:7], row[7] or "", lifetime) for row in rows]


def _sign_off_awaited(session: Session, service: Service) -> str | None:
    """The role whose sign-off the service's latest (high-risk) approval awaits, or None."""
    from cloudctl.domain.assessment_workflow import awaiting_sign_off, latest_assessment
    from cloudctl.domain.settings import get_settings

    assessment = latest_assessment(session, service)
    settings = get_settings(session)
    if assessment is None or settings is None or not awaiting_sign_off(session, assessment, settings):
        return None
    return settings.sign_off_role


def status_for(service: Service, pupil: Pupil, standing: Standing | None) -> str:
    return ServiceRule.of(service).status_for(pupil.on_roll, pupil.year_group, standing)


def covers(standing: Standing, service: Service) -> bool:
    return ServiceRule.of(service).covered_by(standing)


def _refuse_if_not_consent_based(service: Service, decision: str) -> None:
    if service.category != "pupil":
        raise RuleRefused(not_consent_based(service.name, service.category, decision))


# --- the latest event per pupil and service ---------------------------------------------------


def _versions(session: Session) -> dict[int, frozenset[str]]:
    rows = fetch_rows(session, "SELECT id, data_categories FROM service_version")
    return {version_id: folded(json.loads(categories)) for version_id, categories in rows}


def standings(
    session: Session, *, pupil_ids: Sequence[int] | None = None, service_ids: Sequence[int] | None = None
) -> Standings:
    """The standing event (the policy's `fold`) for each (pupil, service) pair.

    A single decision always becomes the standing one, so the fold starts from the latest single event
    (by effective date, then as recorded) and only the bulk events after it can change it: one scan keeps
    the latest single event per pair, collects the (rare) bulk events per pair, and folds just those.
    A class's events come through the (pupil, service, ...) index; a whole school's from one scan of the
    table, which is faster than reading it in index order.
    """
    sql = (
        "SELECT pupil_id, service_id, decision, effective_on, given_by, selected, service_version_id, id, "
        "bulk, effective_time FROM consent_event WHERE 1 = 1"
    )
    params: list[int] = []
    for name, ids in (("pupil_id", pupil_ids), ("service_id", service_ids)):
        if ids is not None:
            sql += f" AND {name} IN ({placeholders(len(ids))})"
            params += ids
    last: dict[tuple[int, int], tuple] = {}
    bulk: dict[tuple[int, int], list[tuple]] = {}
    selected_pairs: set[tuple[int, int]] = set()
    for row in fetch_rows(session, sql, params):
        key = (row[0], row[1])
        if row[8]:
            bulk.setdefault(key, []).append(row)
        else:
            held = last.get(key)
            # The latest single event in the policy's order: by date, then (a day's events) `order_key`.
            if held is None or row[3] > held[3] or (row[3] == held[3] and _order(row) > _order(held)):
                last[key] = row
        if row[5]:
            selected_pairs.add(key)
    for key, rows in bulk.items():
        last[key] = _fold_rows(last.get(key), rows)
    return Standings(last, selected_pairs, _versions(session))


def _fold_rows(single: tuple | None, bulk_rows: list[tuple]) -> tuple:
    """The standing row: the policy's `fold` (a bulk event stands only when nothing does or it agrees),
    of the bulk rows after the latest single row, on the raw rows (a report may fold many: no objects,
    no run of givers). The property test holds the report to the reference model's fold."""
    standing = single
    for row in sorted(bulk_rows, key=_order):
        if single is not None and _order(row) < _order(single):
            continue  # before the latest single decision, which outranks it
        if standing is None or row[2] == standing[2]:
            standing = row
    return standing


def _order(row: tuple) -> tuple:
    """A raw row's place in the policy's order (`consent_policy.order_key`)."""
    # Effective dates compare as ISO text: SQLite hands back text, PostgreSQL a date.
    return order_key(str(row[3]), row[9], row[2], row[7])


def _pair_event(row: tuple, told: frozenset[str] = frozenset()) -> PairEvent:
    # Effective dates compare as ISO text: SQLite hands back text, PostgreSQL a date.
    return PairEvent(row[7], row[2], str(row[3]), row[4], bool(row[8]), bool(row[5]), told, row[9])


def pair_events(session: Session, pupil_id: int, service_id: int) -> list[PairEvent]:
    """Every event of one pupil and service, with what each parent was told: the facts `decide` folds."""
    rows = fetch_rows(
        session,
        "SELECT pupil_id, service_id, decision, effective_on, given_by, selected, service_version_id, id, "
        "bulk, effective_time FROM consent_event WHERE pupil_id = ? AND service_id = ?",
        [pupil_id, service_id],
    )
    if not rows:
        return []
    versions = _versions(session)
    return [_pair_event(row, versions[row[6]]) for row in rows]


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
            # The age of an opt-in matters only as lapsed or not (the lifetime caches it per date).
            lapsed = row[2] == OPT_IN and rule.lifetime.lapsed(str(row[3]))
            combination = (key[1], year_group, row[2], selected, row[6], lapsed)
            status = known.get(combination)
            if status is None:
                status = rule.status_of(True, year_group, row[2], selected, versions[row[6]], str(row[3]))
                known[combination] = status
            statuses.append((key[0], rule.name, status))
        return statuses


# --- recording ---------------------------------------------------------------------------------


def apply_decision(
    session: Session,
    pupil: Pupil,
    service: Service,
    request: ConsentRequest,
    *,
    reach: str = SINGLE,
    former_upn: ReplacedUpnNote | None = None,
    told_version: ServiceVersion | None = None,
    reply_code_id: int | None = None,
) -> Outcome:
    """Record one (checked) decision for one pupil and service, as the policy decides.

    told_version: what the parent was told, when known otherwise than by the date (the version a reply
    code's form listed); else the version in force on the decision's date. reply_code_id: the form the
    answer came back on.

    The facts are gathered here (every event of the pair, for the policy's fold) and the verdict is the
    policy's (`consent_policy.decide`): a refusal raises RuleRefused; anything else comes back as an
    outcome saying what was recorded, if anything. former_upn: the pupil was named by a UPN that
    `pupil change-upn` replaced, which the outcome says.
    """
    events = pair_events(session, pupil.id, service.id)
    rule = ServiceRule.of(service)
    told = None
    if rule.category == "pupil":
        # What a parent signing on this date was told (recorded as a version if the service has none yet).
        version = told_version or version_in_force(session, service, request.effective_on)
        told = folded(json.loads(version.data_categories))
    verdict = decide(
        rule,
        PupilFacts.of(pupil),
        events,
        Request(
            request.decision, request.effective_on, request.given_by, reach, told or frozenset(), request.at
        ),
    )
    if verdict.kind == REFUSE:
        raise RuleRefused(f"Not recorded: {verdict.message}")
    if verdict.writes:
        session.add(
            ConsentEvent(
                pupil_id=pupil.id,
                service_id=service.id,
                service_version_id=version.id,
                decision=request.decision,
                effective_on=request.effective_on,
                effective_time=request.at,
                given_by=request.given_by,
                relationship=request.relationship,
                method=request.method,
                recorded_by=request.recorded_by,
                note=request.note,
                selected=verdict.selects,
                bulk=verdict.bulk,
                reply_code_id=reply_code_id,
            )
        )
        session.flush()
    detail = verdict.message
    if former_upn is not None:
        detail = f"{former_upn.says(recorded=verdict.writes)}: {detail}"
    return Outcome(pupil.upn, display_name(pupil), service.name, verdict.action, detail)


def pupils_for(
    session: Session, *, upn: str | None = None, class_name: str | None = None, year: str | None = None
) -> list[Pupil]:
    """The pupils a command names: one by UPN, or those on roll in a class or year group."""
    if upn is not None:
        return [pupil_by_upn(session, upn)[0]]
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

    Each pupil and service is decided by the policy with the decision's reach: one pupil and one
    service may reverse a standing decision; a class, a year or --all-services (except one pupil's
    opt-out of everything) never does, and the pupils it leaves out are listed. A refusal raises.
    """
    request = request.checked(today or date.today())
    if (upn is None) == (class_name is None and year is None):
        raise InvalidInput("Name the pupils: give a UPN, or --class CLASS, or --year YEAR.")
    if all_services == (service_name is not None):
        raise InvalidInput("Name the service, or give --all-services (every pupil service).")
    reach = BULK if upn is None else ONE_PUPIL_ALL_SERVICES if all_services else SINGLE
    # A pupil named by a UPN since replaced is that pupil: a withdrawal is never refused for it.
    former_upn = pupil_by_upn(session, upn)[1] if upn is not None else None
    if all_services:
        pupils = pupils_for(session, upn=upn, class_name=class_name, year=year)
        services = [service for service in pupil_services(session) if service.status != "retired"]
    else:
        service = consent_service(session, service_name, category)
        _refuse_if_not_consent_based(service, request.decision)
        pupils = pupils_for(session, upn=upn, class_name=class_name, year=year)
        services = [service]
    outcomes = []
    for pupil in pupils:
        for service in services:
            if all_services and request.decision == OPT_IN:
                selected = _is_selected(session, pupil, service)
                if not ServiceRule.of(service).eligible(pupil.on_roll, pupil.year_group, selected=selected):
                    continue  # --all-services means the services this pupil is eligible for
            outcomes.append(
                apply_decision(session, pupil, service, request, reach=reach, former_upn=former_upn)
            )
    return outcomes


def _is_selected(session: Session, pupil: Pupil, service: Service) -> bool:
    standing = standings(session, pupil_ids=[pupil.id], service_ids=[service.id]).get((pupil.id, service.id))
    return standing is not None and standing.selected


# --- a batch of returned forms ------------------------------------------------------------------

# The date columns a file of returned forms may carry (the importer reads them as "date").
DATE_COLUMNS = ("Date", "Timestamp", "Completion time")

# A date as a form's timestamp writes it, with a time after it: "12/09/2026 10:31:22",
# "2026-09-12T10:31:22Z", "2026/09/12 10:31:22 am GMT+1". Only the date part is kept.
_TIME_AFTER = re.compile(r"^(\S+?)(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]\.?m\.?)?\s*(?:\S+)?$",
                         re.IGNORECASE | re.ASCII)  # fmt: skip
_YEAR_FIRST_SLASHES = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$", re.ASCII)


def form_date(text: str) -> date:
    """The date a form was signed, from a Date cell or a form's Timestamp / Completion time cell."""
    from cloudctl.vocab.dates import parse_date

    cleaned = " ".join(text.split())
    if match := _TIME_AFTER.match(cleaned):
        cleaned = match[1]
    if match := _YEAR_FIRST_SLASHES.match(cleaned):
        cleaned = f"{match[1]}-{match[2]}-{match[3]}"
    return parse_date(cleaned, what="date")


def import_consent_returns(
    session: Session,
    path,
    *,
    encoding: str | None = None,
    recorded_by: str | None = None,
    default_date: date | None = None,
    today: date | None = None,
    keep_email: bool = False,
    now: datetime | None = None,
) -> list[Outcome]:
    """Apply a CSV of returned forms, all or nothing: any invalid or refused row means nothing is recorded.

    A file with a reply-code column and no UPN column (a Microsoft Forms or Google Forms export, or paper
    forms typed in with their reply codes) is read by `domain.online_returns` instead.

    Each row is one parent's answer for one child and one service, so the policy treats it as a
    single decision (it may reverse a standing decision, and says so). Rows without a date take
    `default_date` (`--date`); a file with no date column at all needs it.
    """
    from cloudctl.errors import CloudctlError, ImportRejected, Problem
    from cloudctl.importers.consent_returns import read_consent_returns
    from cloudctl.importers.online_form_returns import has_reply_codes, read_headings
    from cloudctl.vocab.text import for_terminal

    today = today or date.today()
    name = Path(path).name
    if default_date is not None:
        check_event_date(default_date, "date given with --date", today)
    if has_reply_codes(read_headings(Path(path), encoding)):
        from cloudctl.domain.online_returns import import_online_form_returns

        return import_online_form_returns(
            session, Path(path), encoding=encoding, recorded_by=recorded_by, default_date=default_date,
            keep_email=keep_email, today=today, now=now,
        )  # fmt: skip
    recorded_by = gate_name(recorded_by, "name given with --recorded-by", required=False)
    rows = read_consent_returns(path, encoding)
    if rows and default_date is None and not any("date" in row.values for row in rows):
        raise InvalidInput(
            f"{name} has no date column, so cloudctl cannot tell when each form was signed. Add a column "
            f"named {', '.join(DATE_COLUMNS[:-1])} or {DATE_COLUMNS[-1]} (as a form's export has), or give "
            "the date the forms were signed with --date DATE. Nothing was recorded."
        )
    problems: list[Problem] = []
    outcomes: list[Outcome] = []
    for row in rows:
        place = _Place()
        try:
            outcomes.append(_apply_row(session, row.values, place, recorded_by, default_date, today))
        except CloudctlError as error:
            written = (row.values.get(place.column.lower().replace(" ", "_")) or "") if place.column else ""
            shown = written if len(written) <= 60 else written[:60] + "..."
            problems.append(Problem(row.line, place.column, for_terminal(shown), error.message))
    if problems:
        raise ImportRejected(name, problems)
    return outcomes


@dataclass
class _Place:
    """The column of a row being read, for a problem's line and column."""

    column: str = ""


def _apply_row(
    session: Session,
    values: dict[str, str],
    place: _Place,
    recorded_by: str | None,
    default_date: date | None,
    today: date,
) -> Outcome:
    """One row of returned forms: every cell through the gate, then one decision for one pupil and service."""
    place.column = "Decision"
    decision = parse_decision(gate_text(values.get("decision"), "'Decision' cell", required=True))
    hint = (
        "The opt-out on this line was not recorded because of that text: retype the cell, or leave it empty."
        if decision == OPT_OUT
        else ""
    )

    def cell(key: str, heading: str, *, prose: bool = False) -> str | None:
        place.column = heading
        if prose:
            return gate_prose(values.get(key), f"'{heading}' cell", hint=hint)
        return gate_name(values.get(key), f"'{heading}' cell", required=False, hint=hint)

    given_by = cell("given_by", "Given by")
    relationship = cell("relationship", "Relationship")
    note = cell("note", "Note", prose=True)
    method = parse_method(cell("method", "Method") or "form")
    place.column = "Date"
    written = gate_text(values.get("date"), "'Date' cell")
    if written:
        when = check_event_date(form_date(written), "date", today)
    elif default_date is not None:
        when = default_date
    else:
        raise InvalidInput(
            "the date is empty: give the date the form was signed, or --date DATE for the rows without one."
        )
    place.column = ""  # what checked() refuses (an opt-in with no giver) its message names
    request = ConsentRequest(
        decision=decision,
        effective_on=when,
        method=method,
        given_by=given_by,
        relationship=relationship,
        recorded_by=recorded_by,
        note=note,
    ).checked(today)
    place.column = "UPN"
    pupil, former_upn = pupil_by_upn(session, gate_name(values.get("upn"), "'UPN' cell"))
    place.column = "Category"
    category = gate_name(values.get("category"), "'Category' cell", required=False)
    place.column = "Service"
    service = consent_service(session, gate_name(values.get("service"), "'Service' cell"), category)
    place.column = ""
    return apply_decision(session, pupil, service, request, reach=SINGLE, former_upn=former_upn)
