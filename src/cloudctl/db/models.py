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
    provider_id: int = Field(foreign_key="provider.id", index=True)
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

for _history in (ServiceVersion, ConsentEvent, RiskAssessment, UpnChange, ExportRecord, ExportPupil):
    seal_on_insert(_history)


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
