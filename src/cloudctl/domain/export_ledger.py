"""The export ledger: what cloudctl sent to which provider, when, by whom, and which pupils it carried.

Every file of pupils' data that leaves cloudctl is recorded here as one `ExportRecord` (service,
provider, when, who, the SHA-256 of exactly the bytes written, the fields sent) and one
`ExportPupil` per pupil in it (the pupil's id, the UPN as sent, the action and the values sent).
Both tables are history: append-only in the database and sealed in the history chain.

Rows name pupils by id, so the ledger follows a child through `pupil change-upn`; the UPN in a
row is the one that was sent, and stays so.

What each provider holds, replayed from these rows and the deletions recorded, is worked out in one
place: `cloudctl.domain.holdings` (keyed by the provider each file was sent to).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlmodel import Session

from cloudctl.db.history_chain import Sealer, content_columns
from cloudctl.db.models import ExportPupil, ExportRecord, Provider, Service, utcnow
from cloudctl.errors import RuleRefused

FULL = "full"  # a row of a full export (export enrolment)
ADD = "add"
UPDATE = "update"
REMOVE = "remove"
ACTIONS = (FULL, ADD, UPDATE, REMOVE)

# ExportRecord.kind
KIND_FULL = "full"
KIND_CHANGES = "changes"
KIND_DELETION_REQUEST = "deletion-request"

STDOUT = "stdout"

# Rows per INSERT: well inside every database's limit on parameters.
_INSERT_CHUNK = 2_000


def sha256_of(data: bytes | str) -> str:
    """The SHA-256 (hex) of exactly the bytes written; text is taken as UTF-8, as cloudctl writes it."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def values_text(values: dict[str, object]) -> str:
    """The canonical text of the values sent for one pupil (keys sorted), as `sent_values` stores it.

    Two sends of the same values give the same text, so a change is a string comparison."""
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SentPupil:
    """One pupil in a file about to be recorded: who, the UPN written, the action and the values written."""

    pupil_id: int
    upn: str
    action: str = FULL
    values: dict[str, object] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class Send:
    """One pupil in one recorded export, with its export's facts."""

    export_id: int
    service_id: int
    service_name: str
    provider_id: int
    provider_name: str
    kind: str
    exported_at: datetime
    recorded_by: str
    pupil_id: int
    upn: str
    action: str
    reason: str | None
    values: dict[str, object]
    fields: list[str]

    def record(self) -> dict:
        """For JSON: stable keys."""
        return {
            "service": self.service_name,
            "provider": self.provider_name,
            "exported_at": _iso(self.exported_at),
            "recorded_by": self.recorded_by,
            "kind": self.kind,
            "action": self.action,
            "upn_sent": self.upn,
            "fields": self.fields,
        }


def provider_of(session: Session, service: Service) -> Provider:
    """The service's provider; refused plainly when the register names none (nothing is sent then)."""
    provider = session.get(Provider, service.provider_id) if service.provider_id is not None else None
    if provider is None:
        raise RuleRefused(
            f"The register names no provider for '{service.name}', so cloudctl cannot record who would "
            "receive the file and sends nothing. Set the service's provider first (cloudctl service edit)."
        )
    return provider


def record_export(
    session: Session,
    *,
    service: Service,
    kind: str,
    file_format: str,
    target: str,
    fields: Sequence[str],
    sha256: str,
    recorded_by: str,
    pupils: Iterable[SentPupil],
    exported_at: datetime | None = None,
    provider: Provider | None = None,
) -> ExportRecord:
    """Record one file sent for `service`, and every pupil in it, in the caller's write session.

    Call it inside `Database.write()` after the file was written, so the record and the file stand
    or fall together. `target` is the file's name or `STDOUT`; `sha256` from `sha256_of(bytes)`.
    Pupils are inserted in bulk, sealed in the history chain with the `Sealer`. `provider` is whom
    the file went to when that is not the service's provider now (a deletion request to a provider the
    service has left).
    """
    provider = provider or provider_of(session, service)
    pupils = list(pupils)
    for sent in pupils:
        if sent.action not in ACTIONS:
            raise ValueError(f"unknown export action {sent.action!r}")
    record = ExportRecord(
        service_id=service.id,
        provider_id=provider.id,
        service_name=service.name,
        provider_name=provider.name,
        kind=kind,
        file_format=file_format,
        target=target,
        fields=json.dumps(list(fields)),
        pupil_count=len(pupils),
        sha256=sha256,
        recorded_by=recorded_by,
        exported_at=exported_at or utcnow(),
    )
    session.add(record)
    session.flush()
    if pupils:
        connection = session.connection()
        head = connection.execute(
            select(ExportPupil.__table__.c.id, ExportPupil.__table__.c.chain_hash)
            .order_by(ExportPupil.__table__.c.id.desc())
            .limit(1)
        ).first()
        # The model's columns are the table's (a test compares models and migrations): no reflection.
        sealer = Sealer("export_pupil", content_columns(ExportPupil.__table__), *(head or (None, None)))
        rows = [
            sealer.sealed(
                {
                    "export_id": record.id,
                    "pupil_id": sent.pupil_id,
                    "upn": sent.upn,
                    "action": sent.action,
                    "reason": sent.reason,
                    "sent_values": values_text(sent.values),
                }
            )
            for sent in pupils
        ]
        table = ExportPupil.__table__
        for start in range(0, len(rows), _INSERT_CHUNK):
            connection.execute(insert(table), rows[start : start + _INSERT_CHUNK])
        _move_sequence(connection, sealer.last_id)
    return record


def _move_sequence(connection, last_id: int) -> None:  # type: ignore[no-untyped-def]
    # Rows inserted with their ids leave PostgreSQL's sequence behind: move it past them.
    if connection.dialect.name == "postgresql":
        from sqlalchemy import text

        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('export_pupil', 'id'), :last)"), {"last": last_id}
        )


def sends(
    session: Session,
    *,
    service_id: int | None = None,
    pupil_ids: Iterable[int] | None = None,
    since_export_id: int | None = None,
) -> list[Send]:
    """Every pupil row of the ledger (optionally of one service, some pupils, or after an export),
    in the order sent."""
    ep, er = ExportPupil.__table__, ExportRecord.__table__
    query = select(
        er.c.id, er.c.service_id, er.c.service_name, er.c.provider_id, er.c.provider_name, er.c.kind,
        er.c.exported_at, er.c.recorded_by, ep.c.pupil_id, ep.c.upn, ep.c.action, ep.c.reason,
        ep.c.sent_values, er.c.fields,
    ).select_from(ep.join(er, er.c.id == ep.c.export_id))  # fmt: skip
    if service_id is not None:
        query = query.where(er.c.service_id == service_id)
    if pupil_ids is not None:
        query = query.where(ep.c.pupil_id.in_(list(pupil_ids)))
    if since_export_id is not None:
        query = query.where(er.c.id > since_export_id)
    query = query.order_by(ep.c.id)
    return [
        Send(*row[:12], json.loads(row[12]), json.loads(row[13]))
        for row in session.connection().execute(query)
    ]


def pupil_exports(session: Session, pupil_id: int) -> list[dict]:
    """Every recorded export that carried this pupil, oldest first, for `pupil show` (key "exports")."""
    return [send.record() for send in sends(session, pupil_ids=[pupil_id])]


def last_export(session: Session, service_id: int) -> ExportRecord | None:
    er = ExportRecord.__table__
    found = (
        session.connection().execute(select(func.max(er.c.id)).where(er.c.service_id == service_id)).scalar()
    )
    return session.get(ExportRecord, found) if found is not None else None


def export_history(
    session: Session, *, service_id: int | None = None, pupil_ids: Iterable[int] | None = None
) -> list[dict]:
    """One row per recorded export, oldest first; with `pupil_ids`, only exports that carried one of them."""
    er, ep = ExportRecord.__table__, ExportPupil.__table__
    query = select(er)
    if service_id is not None:
        query = query.where(er.c.service_id == service_id)
    if pupil_ids is not None:
        carried = select(ep.c.export_id).where(ep.c.pupil_id.in_(list(pupil_ids)))
        query = query.where(er.c.id.in_(carried))
    rows = session.connection().execute(query.order_by(er.c.id)).mappings()
    return [
        {
            "id": row["id"],
            "service": row["service_name"],
            "provider": row["provider_name"],
            "exported_at": _iso(row["exported_at"]),
            "recorded_by": row["recorded_by"],
            "kind": row["kind"],
            "pupils": row["pupil_count"],
            "fields": json.loads(row["fields"]),
            "target": row["target"],
            "sha256": row["sha256"],
        }
        for row in rows
    ]


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)[:19]


def pupil_ids_for_upn(session: Session, upn: str) -> list[int]:
    """The pupil a UPN names: their UPN now, a UPN `pupil change-upn` replaced, or a UPN sent in an export.

    Refused plainly when no pupil ever had it."""
    from cloudctl.db.models import Pupil, UpnChange
    from cloudctl.domain.pupils import clean_upn
    from cloudctl.errors import InvalidInput, NotFound

    key = clean_upn(upn)
    if not key:
        raise InvalidInput("Give the pupil's UPN (13 characters, e.g. H801200001001) after --upn.")
    connection = session.connection()
    ids = set(connection.execute(select(Pupil.__table__.c.id).where(Pupil.__table__.c.upn == key)).scalars())
    changes = UpnChange.__table__
    ids.update(connection.execute(select(changes.c.pupil_id).where(changes.c.old_upn == key)).scalars())
    ep = ExportPupil.__table__
    ids.update(connection.execute(select(ep.c.pupil_id).where(ep.c.upn == key).distinct()).scalars())
    if not ids:
        raise NotFound(
            f"No pupil has or had the UPN {key}. Find a pupil by name with: cloudctl pupil search NAME"
        )
    return sorted(ids)


def recorder(recorded_by: str | None) -> str:
    """Who sent the file: --recorded-by through the text gate, else the login name (as consent records)."""
    from cloudctl.domain.consent import login_name
    from cloudctl.vocab.text import gate_name

    name = gate_name(recorded_by, "name given with --recorded-by", required=False)
    if name is None:
        name = gate_name(
            login_name(),
            "login name (used when --recorded-by is not given)",
            required=False,
            hint="Give who is sending the file with --recorded-by NAME.",
        )
    return name or "unknown"
