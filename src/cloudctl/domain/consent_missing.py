"""Chasing forms: the pupils on roll with no current answer for a service they may be enrolled in.

"No current answer" is what the consent policy says it is (the one rule, through `consent_matrix`): no
response at all, or an opt-in that needs renewal (the service's data grew since, or it is older than the
school's `--consent-months`). An opt-out is an answer, and a pupil not eligible for a service is not asked.
Each row carries the day the pupil's last consent form was issued (blank when none ever was), so the office
can tell a form never sent from one not returned.
"""

from __future__ import annotations

from sqlmodel import Session

from cloudctl.domain.consent import NEEDS_RENEWAL, NO_RESPONSE
from cloudctl.domain.reply_codes import last_issued_on
from cloudctl.domain.upn_identity import pupil_by_upn

MISSING = (NO_RESPONSE, NEEDS_RENEWAL)


def missing_answers(
    session: Session, *, class_name: str | None = None, service_name: str | None = None
) -> list[dict]:
    """One row per pupil and service without a current answer, by class, pupil and register order."""
    from cloudctl.reports.consent import consent_matrix

    matrix = consent_matrix(session, class_name=class_name, service_name=service_name)
    wanted = [row for row in matrix.rows if any(s in MISSING for s in row["consent"].values())]
    ids = _pupil_ids(session, [row["upn"] for row in wanted])
    issued = last_issued_on(session, ids.values()) if ids else {}
    rows = []
    for row in wanted:
        last = issued.get(ids[row["upn"]])
        for service in matrix.services:
            status = row["consent"][service]
            if status in MISSING:
                rows.append(
                    {
                        "upn": row["upn"],
                        "forename": row["forename"],
                        "surname": row["surname"],
                        "class_name": row["class_name"],
                        "year_group": row["year_group"],
                        "service": service,
                        "status": status,
                        "last_form_issued": last.isoformat() if last else None,
                    }
                )
    return rows


def missing_pupil_ids(session: Session, *, class_name: str | None = None, upn: str | None = None) -> set[int]:
    """The pupils (ids) a `consent form --missing-only` run prints for: those with a missing answer."""

    if upn is not None:
        pupil = pupil_by_upn(session, upn)[0]
        class_name = pupil.class_name
    rows = missing_answers(session, class_name=class_name)
    ids = _pupil_ids(session, sorted({row["upn"] for row in rows}))
    if upn is not None:
        return {ids[pupil.upn]} if pupil.upn in ids else set()
    return set(ids.values())


def _pupil_ids(session: Session, upns: list[str]) -> dict[str, int]:
    from cloudctl.db.fast_read import fetch_rows_in

    return dict(fetch_rows_in(session, "SELECT upn, id FROM pupil WHERE upn IN ({values})", upns))
