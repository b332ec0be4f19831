"""Putting pupils straight into a test database, for tests of what is built on pupils."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import create_engine, insert

from cloudctl.db.models import Pupil
from cloudctl.vocab.upn import make_upn


def upn_for(serial: int) -> str:
    return make_upn(801, 2000, 20, serial)


def add_pupils(url: str, pupils: list[dict]) -> list[str]:
    """Insert pupils (year_group and class_name at least); returns their UPNs in order."""
    now = datetime.now(UTC)
    rows = []
    for index, pupil in enumerate(pupils):
        rows.append(
            {
                "upn": pupil.get("upn") or upn_for(index),
                "upn_temporary": False,
                "forename": pupil.get("forename", f"Forename{index}"),
                "surname": pupil.get("surname", f"Surname{index}"),
                "preferred_forename": pupil.get("preferred_forename"),
                "preferred_surname": None,
                "dob": pupil.get("dob", date(2018, 9, 1)),
                "gender": pupil.get("gender", "F"),
                "year_group": pupil["year_group"],
                "class_name": pupil.get("class_name"),
                "admission_number": None,
                "on_roll": pupil.get("on_roll", True),
                "left_on": pupil.get("left_on", None if pupil.get("on_roll", True) else date(2026, 7, 22)),
                "created_at": now,
                "updated_at": now,
            }
        )
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(Pupil.__table__), rows)
    finally:
        engine.dispose()
    return [row["upn"] for row in rows]
