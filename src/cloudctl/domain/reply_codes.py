"""Consent forms issued, and their reply codes: issuing a code with each printed form, and looking one up
when the answer comes back.

A code identifies the pupil and the form. It expires when a newer form is issued for the pupil (the
parent should answer the newest), or after the school's `reply_code_days` (fixed on the form when it is
issued, as `expires_on`). The form's row keeps what the parent was told (the service versions listed)
and the rest of what was printed, so the form can be reprinted exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from cloudctl.db.models import Pupil, ReplyCode, Service, ServiceVersion
from cloudctl.domain.settings import get_settings
from cloudctl.errors import InvalidInput, NotFound
from cloudctl.vocab.reply_code import format_reply_code, new_reply_code, parse_reply_code

DEFAULT_REPLY_CODE_DAYS = 90


def check_reply_code_days(days: int) -> int:
    if not 1 <= days <= 730:
        raise InvalidInput(
            f"A reply code lasting {days} days is not accepted: give a whole number of days from 1 to 730 "
            "(90 covers a term)."
        )
    return days


@dataclass(frozen=True)
class FormService:
    """One service as a form lists it: the version the parent is told of, and what else was printed."""

    service_id: int
    version_id: int
    name: str
    provider: str
    privacy_url: str | None
    # The pupil's answer on record when the form was printed: "opted in", "opted out" or "none".
    answer: str


@dataclass(frozen=True)
class IssuedForm:
    """A consent form issued to a pupil: its reply code, when, and what it listed."""

    id: int
    code: str  # compact, as stored; `shown` is how it is printed
    pupil_id: int
    issued_on: date
    expires_on: date
    # service_version ids in the form's order, and the services they belong to.
    version_ids: tuple[int, ...]
    # What else was printed: pupil_name, class_name, year_group, school_name, services (FormService dicts).
    form: dict = field(hash=False, compare=False)

    @property
    def shown(self) -> str:
        return format_reply_code(self.code)

    @property
    def services(self) -> list[FormService]:
        return [FormService(**entry) for entry in self.form.get("services", [])]

    @classmethod
    def of(cls, row: ReplyCode) -> IssuedForm:
        return cls(
            id=row.id,  # type: ignore[arg-type]
            code=row.code,
            pupil_id=row.pupil_id,
            issued_on=_day(row.issued_on),
            expires_on=_day(row.expires_on),
            version_ids=tuple(json.loads(row.service_versions)),
            form=json.loads(row.form),
        )


@dataclass(frozen=True)
class CodeLookup:
    """What a returned reply code names, and whether it may still be answered on a given day."""

    issued: IssuedForm
    pupil: Pupil
    # service id -> the version the parent was told of (what their answer consents to).
    versions: dict[int, ServiceVersion]
    # Why the code had expired on the day asked about, in words; None when it had not.
    expired_because: str | None
    # The newer form that replaced this one by that day, if any.
    superseded_by: IssuedForm | None = None

    @property
    def expired(self) -> bool:
        return self.expired_because is not None


def issue_forms(
    session: Session,
    forms: Sequence[tuple[Pupil, Sequence[FormService], dict]],
    *,
    today: date,
    issued_by: str,
) -> list[IssuedForm]:
    """Issue a new form and reply code for each (pupil, services listed, what else is printed) in one
    flush, in the caller's transaction. `printed` is the rest of the page as printed (pupil_name,
    class_name, year_group, school_name). No two codes are the same, in the batch or ever."""
    days = get_settings(session).reply_code_days or DEFAULT_REPLY_CODE_DAYS
    codes = _fresh_codes(session, len(forms))
    rows = [
        ReplyCode(
            code=code,
            pupil_id=pupil.id,  # type: ignore[arg-type]
            issued_on=today,
            expires_on=today + timedelta(days=days),
            service_versions=json.dumps([service.version_id for service in services]),
            form=json.dumps(
                {**printed, "services": [asdict(service) for service in services]},
                ensure_ascii=False,
                sort_keys=True,
            ),
            issued_by=issued_by,
        )
        for code, (pupil, services, printed) in zip(codes, forms, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    return [IssuedForm.of(row) for row in rows]


def issue_form(
    session: Session,
    pupil: Pupil,
    services: Sequence[FormService],
    *,
    printed: dict,
    today: date,
    issued_by: str,
) -> IssuedForm:
    """Issue one pupil's form (see `issue_forms`)."""
    return issue_forms(session, [(pupil, services, printed)], today=today, issued_by=issued_by)[0]


def _fresh_codes(session: Session, count: int) -> list[str]:
    """`count` new codes, none already issued: drawn at random, any clash (1 in 17 billion) drawn again."""
    codes: list[str] = []
    for _ in range(100):
        drawn = {new_reply_code() for _ in range(count - len(codes))} - set(codes)
        taken = set(session.exec(select(ReplyCode.code).where(col(ReplyCode.code).in_(sorted(drawn)))))
        codes.extend(sorted(drawn - taken))
        if len(codes) == count:
            return codes
    raise RuntimeError("could not draw unused reply codes in 100 tries")  # 17 billion codes: a bug


def form_by_code(session: Session, text: str) -> IssuedForm:
    """The form a reply code (as typed) was printed on; refused plainly when no form carries it."""
    code = parse_reply_code(text)
    row = session.exec(select(ReplyCode).where(ReplyCode.code == code)).first()
    if row is None:
        raise NotFound(
            f"No consent form was issued with reply code {format_reply_code(code)}: check it against the "
            "form (or the --codes file written when the forms were printed)."
        )
    return IssuedForm.of(row)


def lookup_code(session: Session, text: str, *, on: date) -> CodeLookup:
    """What a reply code names (pupil, form, the versions the parent was told of) and whether it had
    expired on the day `on` (the day the answer was given): a newer form issued for the pupil on or
    before that day replaces it, and it lasts until its `expires_on`.

    Raises InvalidInput for a code that is not well formed (length, alphabet, check character) and
    NotFound for a well-formed code no form carries.
    """
    issued = form_by_code(session, text)
    pupil = session.get(Pupil, issued.pupil_id)
    versions = {
        version.service_id: version
        for version in session.exec(
            select(ServiceVersion).where(col(ServiceVersion.id).in_(issued.version_ids))
        )
    }
    newer_row = session.exec(
        select(ReplyCode)
        .where(ReplyCode.pupil_id == issued.pupil_id, ReplyCode.id > issued.id, ReplyCode.issued_on <= on)
        .order_by(col(ReplyCode.id).desc())
    ).first()
    newer = IssuedForm.of(newer_row) if newer_row is not None else None
    because = None
    if newer is not None:
        because = f"a newer form (reply code {newer.shown}) was issued on {newer.issued_on.isoformat()}"
        if newer.issued_on == on:
            # A form keeps the day it was issued, not the time: the safe side is that it replaced the
            # older one from the start of that day.
            because += (
                ", the day of this answer (a form is kept by its day, not its time, so it counts as "
                "replacing the older one from the start of that day)"
            )
    elif on > issued.expires_on:
        because = (
            f"it was issued on {issued.issued_on.isoformat()} and lasted until "
            f"{issued.expires_on.isoformat()}"
        )
    return CodeLookup(issued, pupil, versions, because, newer)  # type: ignore[arg-type]


def forms_of(session: Session, pupil_id: int) -> list[IssuedForm]:
    """Every form issued to a pupil, oldest first."""
    rows = session.exec(select(ReplyCode).where(ReplyCode.pupil_id == pupil_id).order_by(ReplyCode.id))
    return [IssuedForm.of(row) for row in rows]


def forms_by_id(session: Session, ids: Iterable[int]) -> dict[int, IssuedForm]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(ReplyCode).where(col(ReplyCode.id).in_(wanted)))
    return {row.id: IssuedForm.of(row) for row in rows}  # type: ignore[misc]


def last_issued_on(session: Session, pupil_ids: Iterable[int] | None = None) -> dict[int, date]:
    """The day the newest form was issued to each pupil (pupils never sent one are absent)."""
    from sqlalchemy import func

    query = select(ReplyCode.pupil_id, func.max(ReplyCode.issued_on)).group_by(ReplyCode.pupil_id)
    if pupil_ids is not None:
        query = query.where(col(ReplyCode.pupil_id).in_(list(pupil_ids)))
    return {pupil_id: _day(day) for pupil_id, day in session.exec(query)}


def services_of(session: Session, issued: IssuedForm) -> dict[int, Service]:
    ids = [entry.service_id for entry in issued.services]
    return {service.id: service for service in session.exec(select(Service).where(col(Service.id).in_(ids)))}  # type: ignore[misc]


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
