"""The consent policy, held against a reference model (issue 8, item 2).

A Hypothesis state machine drives the domain layer as the commands do (the same functions, each step in
its own write transaction) on a real database: single, bulk (--class, --year, --all-services), backdated
and imported opt-ins and opt-outs, repeats by the same giver and by a second parent, service data and
year-group changes, approvals, rejections and retirements, and pupils changing year, leaving, returning
and changing UPN (through the class-list importer and change-upn). After every step the database must
agree with tests/helpers/consent_model.py, which is written from the rules alone:

- each pupil's status for each pupil service (`consent status`), the rows and totals of `report consent`,
  and `export enrolment` for every service (exactly the pupils opted in; refused when not approved);
- the consent history is exactly the model's, and only ever grows (rows before are kept, unchanged);
- a refused step leaves the database exactly as it was;
- the messages say what the rules say they say (nothing recorded, evidence, reverses, still stands,
  needs renewal, the decision that stands).

SQLite on every run; PostgreSQL too, with fewer examples, when CLOUDCTL_TEST_POSTGRES_URL is set.
CLOUDCTL_PROPERTY_EXAMPLES sets the number of examples (for a longer hunt).
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import os
import shutil
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import inspect as inspect_schema
from sqlalchemy import text

from tests.conftest import _backends
from tests.helpers import consent_model as model
from tests.helpers.class_lists import FakePupil, upn_for, with_changes, write_class_list

SQLITE_EXAMPLES = 75
POSTGRES_EXAMPLES = 12
STEPS = 30

SERVICES = {
    # name: (year groups, data categories beyond full name and UPN)
    "My Maths": ("Y3 - Y4", ()),
    "Spelling Shed": ("Y3", ("date of birth",)),
    "Swim Tracker": ("Selected Students", ("photographs",)),
}
SERVICE_NAMES = tuple(SERVICES)
SET_UP_ASSESSMENT = timedelta(days=30)  # before every date the steps use
BASE_DATA = ("full name", "UPN")  # always shared, so every export has rows to name
EXTRA_DATA = ("date of birth", "photographs", "year group")
PUPILS = (
    FakePupil(upn_for(1), "Amelia", "Ashworth", date(2018, 10, 3), "F", "3", "3A", "000001"),
    FakePupil(upn_for(2), "Ben", "Bolam", date(2019, 2, 14), "M", "3", "3A", "000002"),
    FakePupil(upn_for(3), "Cara", "Carr", date(2019, 6, 30), "F", "3", "3A", "000003"),
    FakePupil(upn_for(4), "Dev", "Dunn", date(2017, 11, 20), "M", "4", "4A", "000004"),
    FakePupil(upn_for(5), "Eve", "Eden", date(2018, 1, 9), "F", "4", "4A", "000005"),
    FakePupil(upn_for(6), "Finn", "Foster", date(2018, 5, 1), "M", "4", "4A", "000006"),
)
# The same parent written three ways, the second parent, another carer, and nobody named.
GIVERS = ("Mrs Patel", "MRS  patel ", "Mr Patel", "Ms O'Brien", None)
SECOND_PARENT = {"mrs patel": "Mr Patel"}

PUPIL = st.integers(0, len(PUPILS) - 1)
SERVICE = st.sampled_from(SERVICE_NAMES)
DECISION = st.sampled_from((model.OPT_IN, model.OPT_IN, model.OPT_OUT))  # opt-ins are refused more often
GIVER = st.sampled_from(GIVERS)
DAY = st.integers(0, 5)  # days before today: a small window, today included
CLASS = st.sampled_from(("3A", "4A", "5A"))
YEAR = st.sampled_from(("3", "4", "5"))


def _settings(examples: int) -> settings:
    return settings(
        max_examples=int(os.environ.get("CLOUDCTL_PROPERTY_EXAMPLES", examples)),
        stateful_step_count=STEPS,
        deadline=None,
        database=None,  # a shared checkout: keep no example database in it
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# --- a fresh database per example ------------------------------------------------------------------


def set_up_school(db, today: date, folder: Path) -> None:
    """The school every example starts from: three approved pupil services and six pupils on roll."""
    from cloudctl.domain.assessments import record_assessment
    from cloudctl.domain.pupils import import_class_list
    from cloudctl.domain.services import ServiceFields, add_service
    from cloudctl.domain.settings import init_school

    with db.write() as session:
        init_school(session, school_name="Property Primary School", years="R,1-6")
        for name, (years, extra) in SERVICES.items():
            fields = ServiceFields(provider="Acme Learning", data_shared=_data_text(extra), year_groups=years)
            add_service(session, name, "pupil", fields, create_provider=True)
            record_assessment(
                session,
                name,
                assessed_on=today - SET_UP_ASSESSMENT,
                assessed_by="Setup DPO",
                outcome="approved",
            )
        import_class_list(session, write_class_list(folder / "class-list.csv", PUPILS), as_of=today)


def school_model(today: date, set_up_on: date) -> model.ConsentModel:
    """The same school in the model; its services' first versions date from set_up_on."""
    school = model.ConsentModel(today, set_up_on)
    for name, (years, extra) in SERVICES.items():
        school.add_service(name, years, {*BASE_DATA, *extra})
        school.assess(school.services[name], today - SET_UP_ASSESSMENT, "approved", "Setup DPO")
    for pupil in PUPILS:
        school.add_pupil(pupil.upn, pupil.dob, pupil.year, pupil.class_name)
    return school


class SqliteDatabases:
    """Copies of one file, migrated and set up once: both take longer than an example."""

    def __init__(self, folder: Path) -> None:
        from cloudctl.db.engine import open_database
        from cloudctl.db.location import sqlite_location

        self.folder = folder
        self.template = folder / "template.db"
        db = open_database(sqlite_location(self.template))
        self.today, self.set_up_on = date.today(), datetime.now(UTC).date()
        set_up_school(db, self.today, folder)
        db.dispose()

    def new(self):
        from cloudctl.db.engine import open_database
        from cloudctl.db.location import sqlite_location

        path = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        shutil.copyfile(self.template, path)
        db = open_database(sqlite_location(path))

        def drop() -> None:
            db.dispose()
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)

        return db, drop

    def close(self) -> None:
        pass


class PostgresDatabases:
    """A database per example, created from a template set up once (itself made from the suite's migrated
    template, as conftest's db_url does): CREATE DATABASE ... TEMPLATE is quicker than setting up."""

    def __init__(self, admin, admin_url, template: str, folder: Path) -> None:
        self.admin, self.admin_url = admin, admin_url
        self.template = self._create(template, "cloudctl_prop_template_")
        db = self._open(self.template)
        self.today, self.set_up_on = date.today(), datetime.now(UTC).date()
        try:
            set_up_school(db, self.today, folder)
        finally:
            db.dispose()  # a template may have no one connected

    def _create(self, template: str, prefix: str) -> str:
        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def _open(self, name: str):
        from cloudctl.db.engine import open_database
        from cloudctl.db.location import location_from_url

        url = self.admin_url.set(database=name).render_as_string(hide_password=False)
        return open_database(location_from_url(url))

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def new(self):
        name = self._create(self.template, "cloudctl_prop_")
        db = self._open(name)

        def drop() -> None:
            db.dispose()
            self._drop(name)

        return db, drop

    def close(self) -> None:
        self._drop(self.template)


# --- the machine -----------------------------------------------------------------------------------


class ConsentPolicyMachine(RuleBasedStateMachine):
    databases: SqliteDatabases | PostgresDatabases  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.today = self.databases.today
        self.folder = Path(tempfile.mkdtemp(prefix="cloudctl-consent-properties-"))
        self.db, self._drop = self.databases.new()
        self.model = school_model(self.today, self.databases.set_up_on)
        self.model.held = {name: set() for name in SERVICE_NAMES}  # the providers' holdings (issue 10)
        self.model.told = {name: set() for name in SERVICE_NAMES}  # told to remove, not confirmed
        # Versions made from now on are stamped with the register's clock (UTC).
        self.model.version_day = datetime.now(UTC).date()
        self.files = itertools.count(1)
        self.checks = itertools.count()
        self.touched: set[int] = set()
        self.fresh_upns = itertools.count(500)
        self.last_import: list[tuple[int, str, str, str | None, int]] = []
        with self.db.read() as session:
            self.history = self._event_rows(session)
            self.tables = sorted(inspect_schema(session.connection()).get_table_names())

    def teardown(self) -> None:
        self._drop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- running one step on both sides ---------------------------------------------------------

    def _step(self, change_model, change_database, check_outcomes=None, pupils=None) -> None:
        """Apply a step to a copy of the model and to the database. A refusal must leave the database
        as it was and must be one the model expects; otherwise the copy becomes the model.

        pupils: the keys of the pupils the step names (None: it may change any pupil's status), whose
        `consent status` the next check reads.
        """
        from cloudctl.errors import CloudctlError

        self.touched = set()
        before = self._snapshot()
        trial = copy.deepcopy(self.model)
        expected = change_model(trial)
        try:
            outcomes = change_database()
        except CloudctlError as error:
            assert self._snapshot() == before, f"a refused step changed the database: {error.message}"
            assert expected.refused or expected.may_refuse, (
                f"the code refused a step the rules allow: {error.message}"
            )
            return
        assert not expected.refused, f"the code did a step the rules refuse ({expected.reason})"
        self.model = trial
        self.touched = set(range(len(PUPILS)) if pupils is None else pupils)
        if check_outcomes is not None:
            check_outcomes(expected, outcomes)

    def _decide(self, how: str, decision: str, giver: str | None, day: int, **target) -> None:
        """One consent command: how is single, class, year or all-services."""
        from cloudctl.domain.consent import ConsentRequest, record_consent

        on = self.today - timedelta(days=day)
        request = ConsentRequest(
            decision=decision,
            effective_on=on,
            method="form" if decision == model.OPT_IN else "phone",
            given_by=giver,
            recorded_by="property test",
        )
        service = target.get("service")
        pupil = target.get("pupil")
        upn = None if pupil is None else self.model.pupils[pupil].upn
        named = [
            p.key
            for p in self.model.pupils
            if p.key == pupil
            or p.class_name.casefold() == target.get("class_name", "").casefold()
            or p.year == target.get("year")
        ]
        if how == "single":
            kwargs = {"upn": upn, "service_name": service}

            def change_model(m):
                return m.record_single(decision, m.pupils[pupil], m.services[service], giver, on)
        elif how == "class":
            kwargs = {"class_name": target["class_name"], "service_name": service}

            def change_model(m):
                return m.record_bulk(
                    decision, m.services[service], giver, on, class_name=target["class_name"]
                )
        elif how == "year":
            kwargs = {"year": target["year"], "service_name": service}

            def change_model(m):
                return m.record_bulk(decision, m.services[service], giver, on, year=target["year"])
        else:
            kwargs = {"upn": upn, "all_services": True}

            def change_model(m):
                return m.record_all_services(decision, m.pupils[pupil], giver, on)

        self._step(
            change_model,
            lambda: self.db.retrying(lambda session: record_consent(session, request, **kwargs)),
            self._check_messages,
            pupils=named,
        )

    def _import_returns(self, rows: list[tuple[int, str, str, str | None, int]]) -> None:
        """`consent import` of a small CSV of returned forms (with a Date column)."""
        from cloudctl.domain.consent import import_consent_returns

        self.last_import = rows

        path = self.folder / f"returns-{next(self.files)}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(["UPN", "Service", "Decision", "Given by", "Date", "Method"])
            for pupil, service, decision, giver, day in rows:
                on = self.today - timedelta(days=day)
                answer = "yes" if decision == model.OPT_IN else "no"
                writer.writerow(
                    [self.model.pupils[pupil].upn, service, answer, giver or "", on.isoformat(), "form"]
                )

        def change_model(m):
            return m.import_rows(
                [
                    (decision, m.pupils[pupil], m.services[service], giver, self.today - timedelta(days=day))
                    for pupil, service, decision, giver, day in rows
                ]
            )

        self._step(
            change_model,
            lambda: self.db.retrying(
                lambda session: import_consent_returns(session, path, recorded_by="property test")
            ),
            self._check_messages,
            pupils=[pupil for pupil, *_ in rows],
        )

    def _import_pupils(self, pupils: list[FakePupil], *, partial: bool, leavers: int = 0) -> None:
        from cloudctl.domain.pupils import import_class_list

        path = write_class_list(self.folder / f"class-list-{next(self.files)}.csv", pupils)
        # The office confirms how many leave, as --allow-leavers N does (a small roll needs it for one).
        allow = leavers or None
        with self.db.write() as session:
            import_class_list(session, path, as_of=self.today, partial=partial, allow_leavers=allow)

    def _listed(self, key: int) -> FakePupil:
        """The class-list row of a pupil as the model holds them now."""
        pupil = self.model.pupils[key]
        return with_changes(PUPILS[key], upn=pupil.upn, year=pupil.year, class_name=pupil.class_name)

    # --- consent rules ---------------------------------------------------------------------------

    @rule(pupil=PUPIL, service=SERVICE, decision=DECISION, giver=GIVER, day=DAY)
    def one_pupil_one_service(self, pupil, service, decision, giver, day):
        self._decide("single", decision, giver, day, pupil=pupil, service=service)

    @rule(class_name=CLASS, service=SERVICE, decision=DECISION, giver=GIVER, day=DAY)
    def a_class(self, class_name, service, decision, giver, day):
        self._decide("class", decision, giver, day, class_name=class_name, service=service)

    @rule(year=YEAR, service=SERVICE, decision=DECISION, giver=GIVER, day=DAY)
    def a_year_group(self, year, service, decision, giver, day):
        self._decide("year", decision, giver, day, year=year, service=service)

    @rule(pupil=PUPIL, decision=DECISION, giver=GIVER, day=DAY)
    def every_service_for_one_pupil(self, pupil, decision, giver, day):
        self._decide("all-services", decision, giver, day, pupil=pupil)

    @rule(
        pupil=PUPIL,
        service=SERVICE,
        decision=DECISION,
        giver=GIVER,
        day=st.sampled_from((28, 29, 30, 31, 32, 59, 364, 365, 366, 400)),
    )
    def an_old_form(self, pupil, service, decision, giver, day):
        """A form signed weeks or a year ago, keyed in now: around the lapse day of 1 or 12 months."""
        self._decide("single", decision, giver, day, pupil=pupil, service=service)

    @rule(months=st.sampled_from((None, None, 1, 12)))
    def consent_lasts(self, months):
        """The school sets how long consent lasts (`init --consent-months`; 0 is until withdrawn)."""
        from cloudctl.domain.settings import init_school

        def change_database():
            with self.db.write() as session:
                init_school(session, consent_months=months or 0)

        self._step(lambda m: m.set_consent_months(months), change_database)

    @rule(rows=st.lists(st.tuples(PUPIL, SERVICE, DECISION, GIVER, DAY), min_size=1, max_size=3))
    def returned_forms(self, rows):
        self._import_returns(
            [(pupil, service, decision, giver, day) for pupil, service, decision, giver, day in rows]
        )

    @precondition(lambda self: self.model.events)
    @rule(
        index=st.integers(0, 10_000),
        how=st.sampled_from(("single", "import", "class", "year", "all-services")),
        same_decision=st.booleans(),
        giver=st.sampled_from(("same", "same, written differently", "second parent", "nobody")),
        day=DAY,
    )
    def answer_again(self, index, how, same_decision, giver, day):
        """A decision about a pupil and service that already have one: a repeat, the second parent's, a
        reversal; for the one pupil and service or in bulk."""
        event = self.model.events[index % len(self.model.events)]
        decision = event.decision if same_decision else _opposite(event.decision)
        given_by = {
            "same": event.given_by,
            "same, written differently": f"  {event.given_by.upper().replace(' ', '  ')} "
            if event.given_by
            else None,
            "second parent": SECOND_PARENT.get((event.given_by or "").casefold(), "Mrs Patel"),
            "nobody": None,
        }[giver]
        pupil = self.model.pupils[event.pupil]
        if how == "import":
            self._import_returns([(event.pupil, event.service, decision, given_by, day)])
        elif how == "class":
            self._decide("class", decision, given_by, day, class_name=pupil.class_name, service=event.service)
        elif how == "year":
            self._decide("year", decision, given_by, day, year=pupil.year, service=event.service)
        elif how == "all-services":
            self._decide("all-services", decision, given_by, day, pupil=event.pupil)
        else:
            self._decide("single", decision, given_by, day, pupil=event.pupil, service=event.service)

    @rule(
        pupil=PUPIL,
        service=SERVICE,
        decision=DECISION,
        how=st.sampled_from(("class", "year", "all-services")),
        giver=GIVER,
        day=st.integers(1, 5),
    )
    def bulk_then_a_backdated_parents_decision(self, pupil, service, decision, how, giver, day):
        """A bulk decision dated today, then a parent's opposite decision for one pupil dated before it: the
        parent's decision outranks the bulk one, whatever order they were entered in."""
        named = self.model.pupils[pupil]
        if how == "class":
            self._decide("class", decision, "Returned forms", 0, class_name=named.class_name, service=service)
        elif how == "year":
            self._decide("year", decision, "Returned forms", 0, year=named.year, service=service)
        else:
            self._decide("all-services", decision, "Returned forms", 0, pupil=pupil)
        self._decide("single", _opposite(decision), giver, day, pupil=pupil, service=service)

    @precondition(lambda self: self.last_import)
    @rule()
    def the_same_file_imported_again(self):
        """The office imports the last file of returned forms a second time: nothing new is recorded."""
        self._import_returns(list(self.last_import))

    @rule(
        pupil=PUPIL,
        service=SERVICE,
        decision=DECISION,
        how=st.sampled_from(("single", "class")),
        times=st.integers(3, 5),
        givers=st.sampled_from((("Mrs Patel", "Mr Patel"), ("Returned forms", "Office"))),
    )
    def givers_alternating(self, pupil, service, decision, how, times, givers):
        """The same decision given again and again by two givers in turn (Mum, Dad, Mum, ...; class runs
        by 'Returned forms' and 'Office'): after each has given it once, no more rows are added."""
        named = self.model.pupils[pupil]
        for turn in range(times):
            giver, day = givers[turn % 2], max(0, times - 1 - turn)
            if how == "class":
                self._decide("class", decision, giver, day, class_name=named.class_name, service=service)
            else:
                self._decide("single", decision, giver, day, pupil=pupil, service=service)

    @precondition(lambda self: self._opted_in_pupils())
    @rule(index=st.integers(0, 10_000), giver=GIVER, day=DAY)
    def withdraw_from_everything(self, index, giver, day):
        """A parent withdraws a pupil with opt-ins standing from every service at once (--all-services)."""
        pupils = self._opted_in_pupils()
        self._decide("all-services", model.OPT_OUT, giver, day, pupil=pupils[index % len(pupils)])

    def _opted_in_pupils(self) -> list[int]:
        m = self.model
        return [
            pupil.key
            for pupil in m.pupils
            if any((e := m.standing(pupil, s)) and e.decision == model.OPT_IN for s in m.services.values())
        ]

    # --- the register ----------------------------------------------------------------------------

    @rule(service=SERVICE, extra=st.sets(st.sampled_from(EXTRA_DATA)))
    def change_the_data_shared(self, service, extra):
        from cloudctl.domain.services import ServiceFields, edit_service

        chosen = tuple(category for category in EXTRA_DATA if category in extra)

        def change_database():
            with self.db.write() as session:
                edit_service(session, service, ServiceFields(data_shared=_data_text(chosen)))

        self._step(lambda m: m.set_categories(m.services[service], {*BASE_DATA, *chosen}), change_database)

    @rule(service=SERVICE, years=st.sampled_from(tuple(model.YEAR_TEXTS)))
    def change_the_year_groups(self, service, years):
        from cloudctl.domain.services import ServiceFields, edit_service

        def change_database():
            with self.db.write() as session:
                edit_service(session, service, ServiceFields(year_groups=years))

        self._step(lambda m: m.set_years(m.services[service], years), change_database)

    @rule(
        service=SERVICE,
        days_ago=st.sampled_from((0, 1, 3, 5, 30, 40)),
        outcome=st.sampled_from(("approved", "approved-with-conditions", "rejected")),
        assessor=st.sampled_from(("Ms Reed", "Mr Shah")),
    )
    def assess(self, service, days_ago, outcome, assessor):
        self._assess(service, self.today - timedelta(days=days_ago), outcome, assessor)

    @precondition(lambda self: any(s.assessments for s in self.model.services.values()))
    @rule(index=st.integers(0, 10_000))
    def repeat_an_assessment(self, index):
        assessments = [(s.name, a) for s in self.model.services.values() for a in s.assessments]
        service, assessment = assessments[index % len(assessments)]
        self._assess(service, assessment.on, assessment.outcome, assessment.assessor)

    def _assess(self, service: str, on: date, outcome: str, assessor: str) -> None:
        from cloudctl.domain.assessments import record_assessment

        def change_database():
            with self.db.write() as session:
                record_assessment(session, service, assessed_on=on, assessed_by=assessor, outcome=outcome)

        self._step(lambda m: m.assess(m.services[service], on, outcome, assessor), change_database)

    @precondition(lambda self: sum(s.status != model.RETIRED for s in self.model.services.values()) > 1)
    @rule(service=SERVICE)
    def retire(self, service):
        from cloudctl.domain.services import retire_service

        def change_database():
            with self.db.write() as session:
                retire_service(session, service)

        self._step(lambda m: m.retire(m.services[service]), change_database)

    # --- pupils ----------------------------------------------------------------------------------

    @rule(pupil=PUPIL, year=YEAR)
    def change_year(self, pupil, year):
        """A partial class list naming the pupil in another year (and class): it brings a leaver back."""
        row = with_changes(self._listed(pupil), year=year, class_name=f"{year}A")
        self._step(
            lambda m: m.listed(m.pupils[pupil], year, f"{year}A"),
            lambda: self._import_pupils([row], partial=True),
            pupils=[pupil],
        )

    @precondition(lambda self: sum(p.on_roll for p in self.model.pupils) > 1)
    @rule(index=st.integers(0, 10_000))
    def leave(self, index):
        """A full class list without one pupil on roll: they leave the roll."""
        on_roll = [pupil.key for pupil in self.model.pupils if pupil.on_roll]
        leaver = on_roll[index % len(on_roll)]
        rows = [self._listed(key) for key in on_roll if key != leaver]
        self._step(
            lambda m: m.leave(m.pupils[leaver]),
            lambda: self._import_pupils(rows, partial=False, leavers=1),
            pupils=[leaver],
        )

    @precondition(lambda self: not all(p.on_roll for p in self.model.pupils))
    @rule(index=st.integers(0, 10_000))
    def come_back(self, index):
        """A full class list naming a pupil who left, with everyone on roll: they are back."""
        left = [pupil.key for pupil in self.model.pupils if not pupil.on_roll]
        returner = left[index % len(left)]
        rows = [
            self._listed(pupil.key) for pupil in self.model.pupils if pupil.on_roll or pupil.key == returner
        ]
        returning = self.model.pupils[returner]
        self._step(
            lambda m: m.listed(m.pupils[returner], returning.year, returning.class_name),
            lambda: self._import_pupils(rows, partial=False),
            pupils=[returner],
        )

    @rule(
        pupil=PUPIL,
        to=st.sampled_from(("a new UPN",) * 4 + ("another pupil's UPN", "the same UPN")),
        other=PUPIL,
    )
    def change_upn(self, pupil, to, other):
        from cloudctl.domain.pupils import change_upn

        old = self.model.pupils[pupil].upn
        new = {
            "a new UPN": upn_for(next(self.fresh_upns)),
            "another pupil's UPN": self.model.pupils[other].upn,
            "the same UPN": old,
        }[to]

        def change_database():
            with self.db.write() as session:
                change_upn(session, old, new)

        self._step(lambda m: m.change_upn(m.pupils[pupil], new), change_database, pupils=[pupil, other])

    # --- exports and the ledger (issue 10) --------------------------------------------------------
    # The model's holdings per service are a set of pupil keys: a full export adds everyone it sends (it
    # tells the provider to delete no one); a changes export adds whoever the full export sends and is
    # not on the roster (held and not told to remove), and removes everyone held who is not sent, again
    # in every file until the provider confirms (this machine records no confirmations).

    @rule(service=SERVICE)
    def send_a_full_export(self, service):
        from cloudctl.domain.export_ledger import KIND_FULL
        from cloudctl.exporters.enrolment import selection, sent_pupils

        def change_database():
            with self.db.write() as session:
                chosen = selection(session, service)
                _record(session, chosen, KIND_FULL, sent_pupils(chosen))

        def change_model(m):
            sent = m.export(service)
            if sent is None:
                return model.Result(refused=True, reason="not approved: nothing is sent or recorded")
            keys = {p.key for p in m.pupils if p.upn in sent}
            m.held[service] |= keys
            m.told[service] -= keys
            return model.Result()

        self._step(change_model, change_database, pupils=[])

    @rule(service=SERVICE)
    def send_the_changes(self, service):
        from cloudctl.domain.export_ledger import ADD, KIND_CHANGES, REMOVE
        from cloudctl.exporters.enrolment_changes import changes_export

        def change_database():
            with self.db.write() as session:
                changes = changes_export(session, service)
                _record(session, changes.selection, KIND_CHANGES, changes.sent)
                upns = dict(session.connection().execute(text("SELECT id, upn FROM pupil")).all())
            return {
                action: {upns[s.pupil_id] for s in changes.sent if s.action == action}
                for action in (ADD, REMOVE)
            }

        def change_model(m):
            now = m.export(service)
            # Not approved: nothing new is sent, but what the provider holds is still removed.
            keys = {p.key for p in m.pupils if p.upn in now} if now is not None else set()
            held, told = m.held[service], m.told[service]
            result = model.Result()
            result.adds = {m.pupils[key].upn for key in keys - (held - told)}
            result.removes = {m.pupils[key].upn for key in held - keys}
            m.held[service] = held | keys
            m.told[service] = (told | (held - keys)) - keys
            return result

        def check(expected, sent):
            assert sent[ADD] == expected.adds, f"--changes {service}: the pupils added"
            assert sent[REMOVE] == expected.removes, f"--changes {service}: the pupils removed"

        self._step(change_model, change_database, check, pupils=[])

    @invariant()
    def the_ledger_plus_the_changes_is_the_full_export(self) -> None:
        """What the ledger says the provider holds, with the --changes file applied, is what a full export
        would send now, pupil by pupil and value by value; and the ledger's roster is the model's."""
        from cloudctl.domain.export_ledger import ADD, REMOVE
        from cloudctl.domain.holdings import holdings, of_provider
        from cloudctl.exporters.enrolment_changes import changes_export

        m = self.model
        with self.db.read() as session:
            upns = dict(session.connection().execute(text("SELECT id, upn FROM pupil")).all())
            for name in SERVICE_NAMES:
                if m.export(name) is None:
                    continue
                changes = changes_export(session, name)
                chosen = changes.selection
                service = chosen.service
                found = of_provider(holdings(session, service_ids=[service.id], with_values=True), service.id,
                                    service.provider_id)  # fmt: skip
                holds = {pupil_id for pupil_id, on in found.items() if on.held}
                assert {upns[pupil_id] for pupil_id in holds} == {
                    m.pupils[key].upn for key in m.held[name]
                }, f"the ledger's holdings of {name}"
                held = {pupil_id: on.values for pupil_id, on in found.items() if on.on_roster}
                for sent in changes.sent:
                    if sent.action == REMOVE:
                        assert sent.pupil_id in holds, f"{name}: removes a pupil not held"
                        held.pop(sent.pupil_id, None)
                    else:
                        assert (sent.pupil_id in held) == (sent.action != ADD), f"{name}: {sent.action}"
                        held[sent.pupil_id] = sent.values
                assert held == dict(zip(chosen.pupil_ids, chosen.rows, strict=True)), (
                    f"{name}: the roster and the changes do not make the full export"
                )

    # --- after every step: the database agrees with the model ------------------------------------

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        from cloudctl.domain.consent_views import consent_status
        from cloudctl.errors import RuleRefused
        from cloudctl.exporters.enrolment import enrolment_export
        from cloudctl.reports.consent import consent_matrix

        m = self.model
        with self.db.read() as session:
            rows = self._event_rows(session)
            lost = set(self.history) - set(rows)
            assert not lost, f"history was changed or deleted: {sorted(lost)}"
            self.history = rows
            expected_events = [
                (m.pupils[e.pupil].upn, e.service, e.decision, e.on.isoformat(), e.given_by, e.selected,
                 tuple(sorted(e.told)), e.bulk)
                for e in m.events
            ]  # fmt: skip
            assert self._events(session) == sorted(expected_events, key=repr), (
                "the history differs from the model's"
            )

            connection = session.connection()
            pupils = {
                upn: (bool(on_roll), year, class_name)
                for upn, on_roll, year, class_name in connection.execute(
                    text("SELECT upn, on_roll, year_group, class_name FROM pupil")
                )
            }
            assert pupils == {p.upn: (p.on_roll, p.year, p.class_name) for p in m.pupils}, "pupils differ"
            services = {
                name: (status, count)
                for name, status, count in connection.execute(
                    text(
                        "SELECT s.name, s.status, (SELECT COUNT(*) FROM risk_assessment r "
                        "WHERE r.service_id = s.id) FROM service s"
                    )
                )
            }
            assert services == {s.name: (s.status, len(s.assessments)) for s in m.services.values()}, (
                "services' statuses or assessments differ"
            )

            # `consent status` of each pupil the step named (every pupil after a change to the register),
            # and of one more in turn: the report below shows every pupil on roll after every step.
            self.touched.add(next(self.checks) % len(m.pupils))
            for pupil in (m.pupils[key] for key in sorted(self.touched)):
                shown = {row["service"]: row["status"] for row in consent_status(session, pupil.upn)}
                assert shown == m.status_rows(pupil), f"consent status of {pupil.upn} (pupil {pupil.key})"

            matrix = consent_matrix(session)
            assert {row["upn"]: row["consent"] for row in matrix.rows} == m.report(), "report consent rows"
            expected_totals = {
                name: {status.replace("-", "_"): 0 for status in model.STATUSES} for name in matrix.services
            }
            for consent in m.report().values():
                for name, status in consent.items():
                    expected_totals[name][status.replace("-", "_")] += 1
            totals = {row.pop("service"): row for row in copy.deepcopy(matrix.totals)}
            assert totals == expected_totals, "report consent totals"

            for name in SERVICE_NAMES:
                expected = m.export(name)
                if expected is None:
                    with pytest.raises(RuleRefused):
                        enrolment_export(session, name)  # a service not approved may receive no one
                else:
                    _, exported = enrolment_export(session, name)
                    upns = [row["upn"] for row in exported]
                    assert len(upns) == len(set(upns)) and set(upns) == expected, f"export enrolment {name}"

    # --- reading the database --------------------------------------------------------------------

    def _snapshot(self) -> dict[str, list]:
        """Every row of every table: equal snapshots mean an unchanged database."""
        with self.db.read() as session:
            connection = session.connection()
            return {
                table: sorted(
                    tuple(map(repr, row)) for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"')
                )
                for table in self.tables
            }

    @staticmethod
    def _event_rows(session) -> list[tuple]:
        return [
            tuple(map(repr, row)) for row in session.connection().execute(text("SELECT * FROM consent_event"))
        ]

    def _events(self, session) -> list[tuple]:
        """The history as the model words it: who, which service, what, when, by whom, what they were told."""
        rows = session.connection().execute(
            text(
                "SELECT p.upn, s.name, e.decision, e.effective_on, e.given_by, e.selected, "
                "v.data_categories, e.bulk "
                "FROM consent_event e JOIN pupil p ON p.id = e.pupil_id "
                "JOIN service s ON s.id = e.service_id JOIN service_version v ON v.id = e.service_version_id"
            )
        )
        events = [
            (upn, service, decision, str(on), given_by, bool(selected),
             tuple(sorted(name.casefold() for name in json.loads(told))), bool(bulk))
            for upn, service, decision, on, given_by, selected, told, bulk in rows
        ]  # fmt: skip
        return sorted(events, key=repr)

    # --- what the messages say -------------------------------------------------------------------

    def _check_messages(self, expected: model.Result, outcomes) -> None:
        """Each pupil and service the model decided on is listed, and its message says what happened."""
        details: dict[tuple[str, str], list[str]] = {}
        for outcome in outcomes:
            details.setdefault((outcome.upn, outcome.service), []).append(outcome.detail)
        for decided in expected.outcomes:
            if decided.what == model.REFUSED:
                continue  # bulk skips what the rules refuse; how it words that is not the policy's business
            pupil = self.model.pupils[decided.pupil]
            listed = details.get((pupil.upn, decided.service))
            assert listed, f"{decided.what} for {pupil.upn} / {decided.service} is not listed in the outcomes"
            detail = listed.pop(0)
            for words in _expected_words(decided):
                assert words.casefold() in detail.casefold(), (
                    f"message for {decided.what} ({decided.decision}) of {pupil.upn} / {decided.service} "
                    f"should say {words!r}: {detail!r}"
                )


def _expected_words(decided: model.Outcome) -> list[str]:
    standing = decided.standing
    words: list[str] = []
    if decided.what == model.NOTHING:
        words = ["nothing recorded"]
    elif decided.what == model.EVIDENCE:
        words = ["evidence"]
    elif decided.what == model.HISTORY:
        words = ["still stands"]
    elif decided.what == model.BLOCKED:
        words = [standing.on.isoformat(), *([standing.given_by] if standing.given_by else [])]
    elif decided.what == model.RECORDED and standing is not None and standing.decision != decided.decision:
        words = ["revers", standing.on.isoformat(), *([standing.given_by] if standing.given_by else [])]
    if decided.what in model.WRITTEN and decided.lands_as == model.NEEDS_RENEWAL:
        words.append("renew")
    return words


def _opposite(decision: str) -> str:
    return model.OPT_OUT if decision == model.OPT_IN else model.OPT_IN


def _data_text(extra) -> str:
    return ", ".join((*BASE_DATA, *extra))


def _record(session, chosen, kind: str, sent) -> None:
    from cloudctl.domain.export_ledger import record_export

    record_export(
        session,
        service=chosen.service,
        kind=kind,
        file_format="csv",
        target="stdout",
        fields=chosen.columns,
        sha256="0" * 64,
        recorded_by="Property test",
        pupils=sent,
    )


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", _backends())
def test_the_consent_policy_agrees_with_its_reference_model(backend, request, tmp_path):
    if backend == "sqlite":
        databases, examples = SqliteDatabases(tmp_path), SQLITE_EXAMPLES
    else:
        admin, admin_url, template = request.getfixturevalue("postgres_template")
        databases, examples = PostgresDatabases(admin, admin_url, template, tmp_path), POSTGRES_EXAMPLES
    machine = type("ConsentPolicyMachine", (ConsentPolicyMachine,), {"databases": databases})
    try:
        run_state_machine_as_test(machine, settings=_settings(examples))
    finally:
        databases.close()
