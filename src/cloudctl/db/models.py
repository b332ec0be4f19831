"""SQLModel table models.

Table models skip validation, so every value is checked at the boundary (the
vocab parsers and the domain layer) before a row is built. The schema itself is
created only by the Alembic migrations in `migrations/`; a test compares the two.
Nothing here may be SQLite-only: the same models run on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class SchoolSettings(SQLModel, table=True):
    """The one row of school-wide settings (id is always 1)."""

    __tablename__ = "school_settings"

    id: int = Field(default=1, primary_key=True)
    school_name: str = Field(default="")
    register_title: str = Field(default="Cloud Service Providers")
    # Comma-separated national curriculum codes in NC order, e.g. "R,1,2,3,4,5,6".
    year_groups: str = Field(default="R,1,2,3,4,5,6")
    review_months: int = Field(default=12)
    # Days a provider has to confirm a deletion before it is overdue (`deletion list --overdue`).
    deletion_deadline_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    # The register document's opening paragraphs, separated by blank lines.
    preamble: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Days a consent form's reply code is accepted after the form is printed (revision 0008).
    reply_code_days: int = Field(default=90, sa_column_kwargs={"server_default": "90"})
    # Months a parent's consent lasts before it needs renewing; None means it does not lapse.
    consent_months: int | None = Field(default=None, nullable=True)
    # Who must sign off an approval whose residual risk is high: DPO, headteacher or governor.
    sign_off_role: str = Field(default="DPO", max_length=20, sa_column_kwargs={"server_default": "DPO"})


class RegisterSection(SQLModel, table=True):
    """A section of the published register: its heading and its prose."""

    __tablename__ = "register_section"

    category: str = Field(primary_key=True, max_length=20)
    heading: str
    intro: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Where the section stood in the document the school imported: publishing keeps that order.
    position: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Provider(SQLModel, table=True):
    __tablename__ = "provider"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    website: str | None = None
    notes: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class Service(SQLModel, table=True):
    """An entry of the register: one service, in one section."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("name", "category", name="uq_service_name_category"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    category: str = Field(max_length=20)
    # None while the register names no provider (the service is the product): shown as missing.
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True)
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The "Data Shared" text as written, and the categories parsed from it (a JSON list).
    data_shared_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    data_categories: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    service_type: str = Field(default="")
    # "Year Groups Enrolled" as written, and what it means: scope is years, selected or none.
    year_groups_text: str = Field(default="")
    year_scope: str = Field(default="none", max_length=10)
    year_codes: str = Field(default="")
    website: str | None = None
    controls: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="awaiting-assessment", max_length=30)
    # Months between reviews for this service; None means the school's setting.
    review_months: int | None = None
    lawful_basis: str | None = None
    # The UK GDPR Art. 9 condition relied on for special-category (health) data (revision 0011).
    special_category_condition: str | None = None
    storage_location: str | None = None
    storage_detail: str | None = None
    retention: str | None = None
    privacy_url: str | None = None
    owner: str | None = None
    # Labels other schools' registers carry that cloudctl has no column for (a JSON object).
    extra_fields: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RiskAssessment(SQLModel, table=True):
    """One risk assessment (DPIA) of a service. History: rows are never updated or deleted."""

    __tablename__ = "risk_assessment"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    assessed_on: date
    assessed_by: str
    outcome: str = Field(max_length=30)
    # Set only when the assessor chose the review date; otherwise it is derived.
    next_review: date | None = None
    notes: str | None = Field(default=None, sa_column=Column(Text))
    reference: str | None = None
    recorded_at: datetime = Field(default_factory=utcnow)
    # The workflow (revision 0010): NULL on older rows, so their digests still verify.
    residual_risk: str | None = Field(default=None, max_length=10, nullable=True)
    conditions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    conditions_due: date | None = Field(default=None, nullable=True)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class Pupil(SQLModel, table=True):
    """A pupil from the school's MIS. Pupils who leave stay (off roll) with their consent history."""

    __tablename__ = "pupil"

    id: int | None = Field(default=None, primary_key=True)
    upn: str = Field(max_length=13, unique=True)
    upn_temporary: bool = Field(default=False)
    forename: str
    surname: str
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    dob: date
    gender: str | None = None
    # National curriculum year code: N1, N2, R, 1..14.
    year_group: str = Field(max_length=3, index=True)
    class_name: str | None = Field(default=None, index=True)
    # Text, not a number: admission numbers keep their leading zeros.
    admission_number: str | None = None
    on_roll: bool = Field(default=True)
    left_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class UpnChange(SQLModel, table=True):
    """A temporary UPN replaced by the permanent one: kept so the change can be traced."""

    __tablename__ = "upn_change"

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    old_upn: str = Field(max_length=13)
    new_upn: str = Field(max_length=13)
    changed_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ServiceVersion(SQLModel, table=True):
    """What parents were told about a service at a moment: its purpose and the data it receives.

    A consent event points at the version that stood when it was given, so a later
    change to the service's data cannot silently widen an old consent.
    """

    __tablename__ = "service_version"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    data_shared_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    data_categories: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    recorded_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ConsentEvent(SQLModel, table=True):
    """One decision by a parent or carer. Append-only: the database refuses UPDATE and DELETE."""

    __tablename__ = "consent_event"
    __table_args__ = (
        Index("ix_consent_event_pupil_service", "pupil_id", "service_id", "effective_on", "id"),
        CheckConstraint("decision IN ('opt-in', 'opt-out')", name="ck_consent_event_decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id")
    service_id: int = Field(foreign_key="service.id", index=True)
    service_version_id: int = Field(foreign_key="service_version.id")
    decision: str = Field(max_length=10)  # opt-in or opt-out
    effective_on: date
    given_by: str | None = None
    relationship: str | None = None
    method: str = Field(max_length=20)
    recorded_by: str
    note: str | None = Field(default=None, sa_column=Column(Text))
    # An opt-in to a selected-pupils-only service selects the pupil for it.
    selected: bool = Field(default=False)
    # From --class, --year or an opt-in with --all-services: it never overrides a parent's own decision.
    # NULL on rows from before revision 0006 (all single decisions), so their digests still verify.
    bulk: bool | None = Field(default=None, nullable=True)
    # The consent form (reply code) this decision answered; NULL on rows from before revision 0008.
    reply_code_id: int | None = Field(default=None, nullable=True, foreign_key="reply_code.id", index=True)
    # The time of day the decision was made ("HH:MM:SS", the school's local time as the form wrote it), when
    # known: an online form's submission time. NULL for a decision known by its date alone, and on rows from
    # before revision 0014. The policy orders a day's decisions by it (consent_policy.order_key).
    effective_time: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    recorded_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ReplyCode(SQLModel, table=True):
    """A consent form issued to a pupil, and the reply code printed on it. History: never changed.

    `service_versions` is what the parent was told: a JSON list of service_version ids, in the form's
    order. `form` keeps the rest of what was printed that may change later (the pupil's name and class
    as printed, the school's name, and per service the privacy-policy address and the answer on
    record), so `consent form --reprint` reproduces the page exactly.
    """

    __tablename__ = "reply_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, unique=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    issued_on: date
    # The last day the code is accepted (the school's reply_code_days when it was issued).
    expires_on: date
    service_versions: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    form: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    issued_by: str
    recorded_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ServiceChange(SQLModel, table=True):
    """A change to a service that matters to its risk assessment: what it was before and after.

    `effect` is widening (more data, more pupils, data further from the UK), narrowing, changed (a
    new provider or lawful basis) or first-recorded (a field filled in for the first time). A
    widening or changed entry after the latest assessment makes that assessment outdated.
    """

    __tablename__ = "service_change"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    changed_on: date
    field: str = Field(max_length=30)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    effect: str = Field(max_length=20)
    source: str = Field(max_length=30)
    recorded_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class AssessmentEvent(SQLModel, table=True):
    """A step of a risk assessment's workflow that is not the assessment itself: a screening (its
    answers and verdict), a condition met, a sign-off. History: never updated or deleted."""

    __tablename__ = "assessment_event"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    # The assessment a condition-met or sign-off belongs to; NULL for a screening.
    risk_assessment_id: int | None = Field(default=None, foreign_key="risk_assessment.id", nullable=True)
    kind: str = Field(max_length=20)  # screening, condition-met, sign-off
    occurred_on: date
    by_name: str | None = None
    role: str | None = Field(default=None, max_length=20)
    # A screening's answers (a JSON object, question key to true/false) and its verdict. For a sign-off, the
    # verdict is the role the school required when it was recorded: a sign-off by that role counts
    # (cloudctl.domain.assessment_workflow.sign_off_counts), whatever the setting becomes later.
    answers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    verdict: str | None = Field(default=None, max_length=30)
    recorded_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ExportRecord(SQLModel, table=True):
    """One file of pupils' data that left cloudctl for a provider: the ledger. History: append-only, sealed.

    `sha256` is of exactly the bytes written (the file, or what went to stdout); `fields` is the JSON
    list of the columns sent; `kind` is "full" (export enrolment), "changes" (export enrolment
    --changes) or another sender's kind (a deletion request that names pupils). Its pupils are the
    `export_pupil` rows.
    """

    __tablename__ = "export_record"
    __table_args__ = (Index("ix_export_record_service", "service_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    provider_id: int = Field(foreign_key="provider.id", index=True)
    # The names as they stood when the file was sent: a later rename leaves the record as it was.
    service_name: str
    provider_name: str
    kind: str = Field(max_length=20)
    file_format: str = Field(max_length=10)
    # The file's name as given to --out, or "stdout".
    target: str
    fields: str = Field(sa_column=Column(Text, nullable=False))
    pupil_count: int
    sha256: str = Field(max_length=64)
    recorded_by: str
    exported_at: datetime = Field(default_factory=utcnow)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


class ExportPupil(SQLModel, table=True):
    """One pupil in one recorded export, with the UPN and the values exactly as sent. History.

    `action` is "full" for a row of a full export, else the row's action (add, update, remove);
    `reason` says why (for --changes); `sent_values` is a JSON object of the fields sent for this pupil.
    """

    __tablename__ = "export_pupil"
    __table_args__ = (
        Index("ix_export_pupil_export", "export_id", "pupil_id"),
        Index("ix_export_pupil_pupil", "pupil_id", "export_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    export_id: int = Field(foreign_key="export_record.id")
    pupil_id: int = Field(foreign_key="pupil.id")
    upn: str = Field(max_length=13)
    action: str = Field(max_length=10)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    sent_values: str = Field(sa_column=Column(Text, nullable=False))
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


# History rows are sealed into their table's chain as they are written.
from cloudctl.db.history_chain import seal_on_insert  # noqa: E402

for _history in (
    ServiceVersion,
    ConsentEvent,
    RiskAssessment,
    UpnChange,
    ReplyCode,
    ServiceChange,
    AssessmentEvent,
    ExportRecord,
    ExportPupil,
):
    seal_on_insert(_history)


class ServiceContract(SQLModel, table=True):
    """One agreement with a service's provider: the data-processing agreement and the contract's dates.

    A renewal is a new row and the latest is the current one; a row is corrected in place (a register of
    documents, not sealed history).
    """

    __tablename__ = "service_contract"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    dpa_signed_on: date | None = None
    dpa_reference: str | None = None
    # Where the signed document is kept: a path or an address, as the school writes it.
    dpa_location: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    notice_months: int | None = None
    recorded_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeletionEvent(SQLModel, table=True):
    """A deletion asked of a provider, or its confirmation that it deleted. History: append-only, sealed.

    kind "requested": the school asked the provider (`deletion request`) on `on_date` to delete the
    pupil's data sent for the service; `reason` and `due_since` say why and since when it was due;
    `request_sha256` is of the request file. kind "confirmed": the provider confirmed the deletion on
    `on_date` (`deletion confirm`); only this closes a deletion. Provider as it stood then: the service's
    provider may change, and (issue 9) may be unset.
    """

    __tablename__ = "deletion_event"
    __table_args__ = (
        Index("ix_deletion_event_service_pupil", "service_id", "pupil_id", "id"),
        Index("ix_deletion_event_pupil", "pupil_id", "id"),
        CheckConstraint("kind IN ('requested', 'confirmed')", name="ck_deletion_event_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id")
    service_id: int = Field(foreign_key="service.id")
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    provider_name: str = Field(default="")
    kind: str = Field(max_length=10)
    on_date: date
    reason: str | None = Field(default=None, sa_column=Column(Text))
    due_since: date | None = None
    reference: str | None = None
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utcnow)
    request_sha256: str | None = Field(default=None, max_length=64)
    # The history chain (cloudctl.db.history_chain): set as the row is inserted.
    content_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))
    chain_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=False))


seal_on_insert(DeletionEvent)
