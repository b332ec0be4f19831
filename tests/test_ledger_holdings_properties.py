"""A property of the ledger's holdings (issue 10): for any sequence of exports, consent changes, changes of
provider, deletion requests and confirmations, every pupil a provider holds who it should not hold is in
`deletion list` for that provider, and no one is both held and confirmed deleted unless sent again after
the confirmed request. Held is checked against a small reference model of what was sent and confirmed;
`--changes`, `report providers` and `pupil show` are held to the same holdings."""

from __future__ import annotations

import contextlib
import shutil
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HUNWICK
from tests.helpers.cli import Cli
from tests.helpers.pupils import add_pupils

SERVICE = "My Maths"
PROVIDERS = ("Oxford University Press", "Maths Circle Ltd")
PUPILS = 3

STEP = st.one_of(
    st.just(("full",)),
    st.just(("changes",)),
    st.tuples(st.sampled_from(["optout", "optin"]), st.integers(0, PUPILS - 1)),
    st.tuples(st.just("move"), st.sampled_from(PROVIDERS)),
    st.tuples(st.sampled_from(["request", "confirm"]), st.sampled_from(PROVIDERS)),
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("holdings-template")
    path = folder / "template.db"
    cli = Cli(f"sqlite:///{path}")
    db = ("--db", str(path))
    cli.ok(*db, "init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    cli.ok(*db, "register", "import", str(HUNWICK))
    upns = add_pupils(cli.url, [{"year_group": "3", "class_name": "3B"}] * PUPILS)
    for upn in upns:
        cli.ok(*db, "consent", "optin", upn, SERVICE, "--by", "A Parent", "--date", "2026-09-01")
    return path, upns


class Model:
    """What was sent to and confirmed by each provider, per pupil: the reference for `holdings`."""

    def __init__(self) -> None:
        self.clock = 0
        self.last_sent: dict[tuple[int, int], int] = {}  # (pupil id, provider id) -> when last sent
        self.open: dict[tuple[int, int], list[int]] = {}  # requests not confirmed, when made
        self.held: set[tuple[int, int]] = set()
        self.confirmed_covering: dict[tuple[int, int], int] = {}  # when the last confirmed request was made

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def sent(self, pupil_id: int, provider_id: int) -> None:
        self.last_sent[(pupil_id, provider_id)] = self.tick()
        self.held.add((pupil_id, provider_id))

    def requested(self, pupil_id: int, provider_id: int) -> None:
        self.open.setdefault((pupil_id, provider_id), []).append(self.tick())

    def confirmed(self, pupil_id: int, provider_id: int) -> None:
        key = (pupil_id, provider_id)
        covers = max(self.open.pop(key))
        self.confirmed_covering[key] = covers
        if self.last_sent.get(key, 0) <= covers:
            self.held.discard(key)
        self.tick()


def _run(db, model: Model, step: tuple, upns: list[str]) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.domain.consent import ConsentRequest, record_consent
    from cloudctl.domain.deletions import confirm_deletions, prepare_request, record_request
    from cloudctl.domain.export_ledger import REMOVE, record_export
    from cloudctl.domain.services import ServiceFields, edit_service
    from cloudctl.errors import RuleRefused
    from cloudctl.exporters.enrolment import selection, sent_pupils
    from cloudctl.exporters.enrolment_changes import changes_export

    kind = step[0]
    with db.write() as session:
        try:
            if kind in ("full", "changes"):
                if kind == "full":
                    chosen = selection(session, SERVICE)
                    sent = sent_pupils(chosen)
                else:
                    found = changes_export(session, SERVICE)
                    chosen, sent = found.selection, found.sent
                record_export(session, service=chosen.service, kind=kind, file_format="csv",
                              target="stdout", fields=chosen.columns, sha256="0" * 64,
                              recorded_by="test", pupils=sent)  # fmt: skip
                for one in sent:
                    if one.action != REMOVE:
                        model.sent(one.pupil_id, chosen.service.provider_id)
            elif kind in ("optout", "optin"):
                request = ConsentRequest(
                    decision=f"opt-{kind[3:]}", effective_on=date.today(), given_by="A Parent"
                )
                record_consent(session, request, upn=upns[step[1]], service_name=SERVICE)
            elif kind == "move":
                edit_service(session, SERVICE, ServiceFields(provider=step[1]))
            elif kind == "request":
                asked = prepare_request(session, SERVICE, provider_name=step[1])
                record_request(session, asked)
                for item in asked.deletions:
                    model.requested(item.pupil_id, item.provider_id)
            else:
                done = confirm_deletions(session, SERVICE, upn=None, all_requested=True, on=date.today(),
                                         provider_name=step[1])  # fmt: skip
                for pupil_id, provider_id in {(item.pupil_id, item.provider_id) for item in done}:
                    model.confirmed(pupil_id, provider_id)
        except RuleRefused:
            pass  # nothing due, nothing requested: refused, and nothing written


def _check(db, model: Model) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.domain.consent_views import held_by
    from cloudctl.domain.deletions import DUE, REQUESTED, deletions
    from cloudctl.domain.export_ledger import REMOVE
    from cloudctl.domain.holdings import holdings
    from cloudctl.exporters.enrolment import selection
    from cloudctl.exporters.enrolment_changes import changes_export
    from cloudctl.reports.providers import providers_report

    with db.read() as session:
        chosen = selection(session, SERVICE)
        current, should = chosen.service.provider_id, set(chosen.pupil_ids)
        found = holdings(session, service_ids=[chosen.service.id])
        held = {(key[0], key[2]) for key, holding in found.items() if holding.held}
        assert held == model.held, "the ledger's holdings are what was sent and not confirmed deleted"
        listed = {(d.pupil_id, d.provider_id) for d in deletions(session) if d.status in (DUE, REQUESTED)}
        for pupil_id, provider_id in held:
            if provider_id != current or pupil_id not in should:
                assert (pupil_id, provider_id) in listed, "held, should not be, and not in deletion list"
        for key, holding in found.items():
            if holding.held and holding.confirmed:
                covers = model.confirmed_covering[(key[0], key[2])]
                assert model.last_sent[(key[0], key[2])] > covers, "held and confirmed deleted, not re-sent"
        removes = {s.pupil_id for s in changes_export(session, SERVICE).sent if s.action == REMOVE}
        assert removes == {p for p, provider in held if provider == current} - should, "--changes removes"
        names = {provider_id: holding.provider_name for (_, _, provider_id), holding in found.items()}
        counted = {row["provider"]: row["held"] for row in providers_report(session, as_of=date.today())}
        for provider_id, name in names.items():
            expected = sum(1 for _, provider in held if provider == provider_id)
            assert counted.get(name, 0) == expected, f"report providers: held by {name}"
        shown = {
            (row["provider"], upn)
            for upn in {h.upn_sent for h in found.values() if h.upn_sent}
            for row in held_by(session, upn)
            if row["status"] != "deleted"
        }
        assert len(shown) == len(held), "pupil show: a provider per holding not deleted"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_every_pupil_held_who_should_not_be_is_due_or_requested_from_that_provider(template, tmp_path, steps):
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import DatabaseLocation

    path, upns = template
    copy = tmp_path / f"example-{abs(hash(tuple(steps)))}.db"
    shutil.copy(path, copy)
    db = open_database(DatabaseLocation(url=f"sqlite:///{copy}", path=copy))
    try:
        model = Model()
        for step in steps:
            _run(db, model, step, upns)
            _check(db, model)
    finally:
        db.dispose()
        copy.unlink(missing_ok=True)


# Steps that change a held pupil or the service without sending anything: leaving the roll, a year group
# outside the service's, more data for the service (parents were not told of it), a new tab of years.
SIDE_STEP = st.one_of(
    st.tuples(st.just("leave"), st.integers(0, PUPILS - 1)),
    st.tuples(st.just("year"), st.integers(0, PUPILS - 1), st.sampled_from(["3", "N1", "7"])),
    st.tuples(st.just("data"), st.sampled_from(["full name, class", "full name, class, date of birth"])),
    st.tuples(st.just("years"), st.sampled_from(["All", "Y4 - Y6", "Selected Students"])),
)


def _side_step(db, step: tuple, upns: list[str]) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from cloudctl.domain.services import ServiceFields, edit_service
    from cloudctl.errors import CloudctlError

    with db.write() as session:
        if step[0] == "leave":
            session.execute(
                text("UPDATE pupil SET on_roll = :off, left_on = :on WHERE upn = :upn"),
                {"off": False, "on": date.today().isoformat(), "upn": upns[step[1]]},
            )
        elif step[0] == "year":
            session.execute(
                text("UPDATE pupil SET year_group = :year WHERE upn = :upn"),
                {"year": step[2], "upn": upns[step[1]]},
            )
        else:
            fields = (
                ServiceFields(data_shared=step[1])
                if step[0] == "data"
                else ServiceFields(year_groups=step[1])
            )
            # The same value again changes nothing: refused, and nothing written.
            with contextlib.suppress(CloudctlError):
                edit_service(session, SERVICE, fields)


def _every_holding_judged(db) -> list:  # type: ignore[no-untyped-def]
    """`deletion list` with no holding left unjudged: the straightforward path the fast one must equal."""
    import cloudctl.domain.deletions as module

    def nothing_unchanged(*_):  # type: ignore[no-untyped-def]
        return lambda *_: False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_unchanged_since_sent", nothing_unchanged)
        return _listed(db)


def _listed(db) -> list:  # type: ignore[no-untyped-def]
    from cloudctl.domain.deletions import deletions

    with db.read() as session:
        return [
            (item.record(), item.sent, item.provider_id)
            for confirmed in (False, True)
            for item in deletions(session, include_confirmed=confirmed)
        ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(STEP, SIDE_STEP), min_size=1, max_size=12))
def test_deletion_list_leaves_unjudged_only_holdings_that_judging_would_not_list(template, tmp_path, steps):
    """`deletion list` judges only the holdings that may have changed since they were sent; whatever
    happens, it lists exactly what judging every holding by the policy lists."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import DatabaseLocation

    path, upns = template
    copy = tmp_path / f"judged-{abs(hash(tuple(steps)))}.db"
    shutil.copy(path, copy)
    db = open_database(DatabaseLocation(url=f"sqlite:///{copy}", path=copy))
    try:
        model = Model()
        for step in steps:
            if step[0] in ("leave", "year", "data", "years"):
                _side_step(db, step, upns)
            else:
                _run(db, model, step, upns)
            assert _listed(db) == _every_holding_judged(db)
    finally:
        db.dispose()
        copy.unlink(missing_ok=True)
