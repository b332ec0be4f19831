"""The demo: the bundled Hunwick Primary School register, a fictional class list and some consent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

from cloudctl.db.engine import Database
from cloudctl.errors import Conflict

HUNWICK_REGISTER = "hunwick-cloud-service-providers.txt"


def new_demo_database(chosen: str | None) -> Path:
    """The NEW file the demo writes to: `chosen` (which must not exist yet), else a temporary one.

    The demo adds fictional pupils and consent history that can never be deleted, and its class list
    is a full list that would take every real pupil off the roll: it must never reach a real register.
    The file is created here, exclusively, so that nothing can appear at the path in the meantime.
    """
    import tempfile

    from cloudctl.db.location import resolve_location
    from cloudctl.db.sqlite_file import examine_sqlite_path
    from cloudctl.files import open_new_private_file

    if chosen is None:
        path = Path(tempfile.mkdtemp(prefix="cloudctl-demo-")) / "demo.db"
    else:
        path = resolve_location(chosen).path
        assert path is not None  # --db always names a file
    refusal = (
        f"{path} already exists. The demo writes only to a new file, so that its fictional pupils never "
        "mix with a real register: give --db a file name not in use, or leave --db out to use a "
        "temporary database."
    )
    if os.path.lexists(path):
        raise Conflict(refusal)
    examine_sqlite_path(path)  # refuses a path in a folder that does not exist, or under a file
    try:
        os.close(open_new_private_file(path))
    except FileExistsError:
        raise Conflict(refusal) from None
    return path


def bundled_text(name: str) -> str:
    return resources.files("cloudctl").joinpath("data", name).read_text(encoding="utf-8")


def run_demo(db: Database) -> Iterator[str]:
    """Import the demo data; yields a line for each step, for the CLI to show."""
    from cloudctl.domain.pupils import import_demo_pupils
    from cloudctl.domain.register import import_register
    from cloudctl.domain.settings import init_school

    with db.write() as session:
        init_school(session, school_name="Hunwick Primary School", years="R,1-6")
        changes = import_register(session, bundled_text(HUNWICK_REGISTER))
    yield f"Imported the Hunwick Primary School register: {len(changes)} services."
    agreements = record_demo_records(db)
    yield (
        f"Filled in some of the record of processing and {agreements} data-processing agreements: see "
        "cloudctl report ropa --gaps."
    )
    pupils = import_demo_pupils(db)
    yield f"Imported the demo class list (fictional pupils, Reception to Year 6): {pupils.pupils} pupils."
    recorded = record_demo_consent(db)
    yield f"Recorded {recorded} consent decisions for class {DEMO_CLASS}: opt-ins from forms, and an opt-out."


# The class whose returned forms the demo records.
DEMO_CLASS = "Kestrels"
DEMO_DATE = date(2026, 9, 14)


def record_demo_consent(db: Database) -> int:
    """Returned forms for one class: most parents opt in, one opts out of a service by phone."""
    from cloudctl.domain.consent import ConsentRequest, record_consent
    from cloudctl.domain.pupils import list_pupils

    with db.write() as session:
        pupils = list_pupils(session, class_name=DEMO_CLASS)
        outcomes = []
        for index, pupil in enumerate(pupils):
            parent = f"Parent of {pupil.preferred_forename or pupil.forename}"
            services = ["My Maths", "Times Tables Rock Stars"] + (
                ["Accelerated Reader"] if index % 3 != 1 else []
            )
            for service in services if index % 4 != 3 else []:  # every fourth form is not returned
                request = ConsentRequest("opt-in", DEMO_DATE, given_by=parent, recorded_by="Demo office")
                outcomes += record_consent(session, request, upn=pupil.upn, service_name=service)
        opt_out = ConsentRequest(
            "opt-out", date(2026, 10, 2), method="phone", given_by=f"Parent of {pupils[0].forename}",
            recorded_by="Demo office", note="Rang the office: prefers paper reading records.",
        )  # fmt: skip
        outcomes += record_consent(session, opt_out, upn=pupils[0].upn, service_name="Accelerated Reader")
    return sum(1 for outcome in outcomes if outcome.written)


# What the published register does not say but a school's record of processing holds: fictional values
# for a few services, so that `report ropa`, `report contracts` and the parents' section have something
# to show (and gaps still to list).
DEMO_RECORDS = {
    "My Maths": {
        "lawful_basis": "Public task (Art. 6(1)(e))",
        "storage_location": "UK",
        "retention": "Until the pupil leaves, then deleted within 3 months",
        "privacy_url": "https://example.org/my-maths/privacy",
    },
    "Times Tables Rock Stars": {
        "lawful_basis": "Public task (Art. 6(1)(e))",
        "storage_location": "elsewhere",
        "storage_detail": "United States, under the UK International Data Transfer Addendum",
        "privacy_url": "https://example.org/ttrs/privacy",
    },
    "SIMS": {
        "lawful_basis": "Legal obligation (Art. 6(1)(c))",
        "special_category_condition": "Art. 9(2)(g) substantial public interest",
        "storage_location": "UK",
        "retention": "As the school's retention schedule",
    },
}
# Fictional agreements: one current, one whose notice date falls in the demo's autumn term.
DEMO_AGREEMENTS = {
    "My Maths": {"dpa_signed_on": "2024-09-02", "dpa_reference": "DEMO-DPA-1", "starts_on": "2024-09-01",
                 "ends_on": "2027-08-31", "notice_months": 3},
    "SIMS": {"dpa_signed_on": "2023-04-01", "dpa_reference": "DEMO-DPA-2", "starts_on": "2023-04-01",
             "ends_on": "2027-03-31", "notice_months": 6},
}  # fmt: skip


def record_demo_records(db: Database) -> int:
    """Set the demo's record-of-processing fields and agreements; returns how many agreements."""
    from cloudctl.domain.contracts import ContractFields, set_contract
    from cloudctl.domain.services import ServiceFields, edit_service

    with db.write() as session:
        for name, values in DEMO_RECORDS.items():
            edit_service(session, name, ServiceFields(**values))
        for name, values in DEMO_AGREEMENTS.items():
            given = ContractFields(**{key: value for key, value in values.items() if key != "notice_months"})
            given.notice_months = int(values["notice_months"])
            set_contract(session, name, given, today=DEMO_DATE)
    return len(DEMO_AGREEMENTS)
