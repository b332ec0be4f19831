"""Writing the export ledger straight into a test database, sealed as cloudctl seals it: for tests of what
is built on the ledger (deletions), where the export itself is not what is tested."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from tests.helpers.history import insert_history


def record_sent(
    url: str,
    service: str,
    upns: list[str],
    *,
    action: str = "full",
    kind: str = "full",
    fields: tuple[str, ...] = ("upn", "forename", "surname"),
    at: datetime | None = None,
) -> None:
    """Record that `service`'s provider was sent these pupils (by UPN), with these fields."""
    at = at or datetime.now(UTC)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            service_id, provider_id, provider = connection.execute(
                text(
                    "SELECT s.id, s.provider_id, p.name FROM service s "
                    "JOIN provider p ON p.id = s.provider_id "
                    "WHERE s.name = :name ORDER BY s.category = 'pupil' DESC LIMIT 1"
                ),
                {"name": service},
            ).one()
            export = insert_history(
                connection,
                "export_record",
                {
                    "service_id": service_id,
                    "provider_id": provider_id,
                    "service_name": service,
                    "provider_name": provider,
                    "kind": kind,
                    "file_format": "csv",
                    "target": "test.csv",
                    "fields": json.dumps(list(fields)),
                    "pupil_count": len(upns),
                    "sha256": "0" * 64,
                    "recorded_by": "test",
                    "exported_at": at,
                },
            )
            for upn in upns:
                pupil = connection.execute(
                    text("SELECT id, forename, surname FROM pupil WHERE upn = :upn"), {"upn": upn}
                ).one()
                values = {"upn": upn, "forename": pupil[1], "surname": pupil[2]}
                insert_history(
                    connection,
                    "export_pupil",
                    {
                        "export_id": export["id"],
                        "pupil_id": pupil[0],
                        "upn": upn,
                        "action": action,
                        "sent_values": json.dumps({k: v for k, v in values.items() if k in fields}),
                    },
                )
    finally:
        engine.dispose()
